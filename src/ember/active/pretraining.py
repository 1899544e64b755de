"""Self-supervised pretraining on the unlabelled pool: the classifier's encoder as an autoencoder.

Labels are scarce, images are not. Before any label is read, an autoencoder with the
classifier's encoder (:class:`~ember.active.networks.PretrainingAutoencoder`) learns to rebuild
every image of the pool from a copy with some pixels masked (a denoising autoencoder, Vincent et
al. 2010), trained by the engine with :class:`ember.Autoencoder`'s task. Each round's fresh
classifier then starts from that encoder instead of random weights, and is fine-tuned whole.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ember import checks, optimizers, schedules
from ember.active.networks import PretrainingAutoencoder
from ember.data.batches import TensorBatches
from ember.seeding import set_seed
from ember.tasks.autoencoder import Autoencoder
from ember.train import Trainer
from ember.train.precision import resolve_device


def pretrain_encoder(
    images: torch.Tensor,
    *,
    hidden: Sequence[int],
    dropout: float,
    epochs: int,
    seed: int,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
    masking: float = 0.25,
    device: str = "cpu",
) -> tuple[nn.Sequential, float]:
    """Train a denoising autoencoder on ``images`` ``(N, H, W, C)`` in [0, 1] (labels unread);
    return its encoder and the last epoch's reconstruction loss (binary cross-entropy per pixel).

    ``masking`` is the fraction of pixels zeroed in each training input; the learning rate
    decays to 0 along a cosine. Seeded by ``seed``: the same images give the same encoder (on
    the CPU, wherever ``device`` trained it).

    Example:
        >>> images = torch.rand(64, 4, 4, 1)
        >>> encoder, loss = pretrain_encoder(images, hidden=(8,), dropout=0.0, epochs=2, seed=0)
        >>> encoder(images).shape, 0 < loss < 1
        (torch.Size([64, 8]), True)
    """
    epochs = checks.positive_int("pretrain_epochs", epochs)
    set_seed(seed)
    autoencoder = PretrainingAutoencoder(images.shape[1:], hidden=hidden, dropout=dropout)
    task = Autoencoder(autoencoder, "bce", noise="masking", noise_level=masking)
    optimizer = optimizers.Adam(learning_rate=schedules.CosineDecay(learning_rate))
    trainer = Trainer(task, optimizer, device=resolve_device(device))
    # Ready batches of (x,) on the device: fit((x,)) would read a 1-tuple as one multi-input
    # structure, not as inputs without labels.
    order = torch.Generator().manual_seed(seed)
    batches = TensorBatches((images.to(trainer.device),), batch_size, True, generator=order)
    history = trainer.fit(batches, epochs=epochs, verbose=0)
    autoencoder.eval()
    return autoencoder.encoder.cpu(), float(history.history["reconstruction"][-1])
