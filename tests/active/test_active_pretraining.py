"""Pretraining the classifier's encoder as a denoising autoencoder on the unlabelled pool."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ember.active import Classifier, PretrainingAutoencoder, pretrain_encoder
from ember.active.networks import classifier_from
from ember.errors import ConfigError

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def bars(count: int = 256) -> torch.Tensor:
    """6x6 images, each with one bright row (of 6) over faint noise: easy to rebuild."""
    generator = torch.Generator().manual_seed(0)
    images = 0.1 * torch.rand(count, 6, 6, 1, generator=generator)
    images[torch.arange(count), torch.arange(count) % 6, :, 0] = 0.9
    return images


def test_the_autoencoder_beats_the_constant_guess_and_repeats_with_its_seed():
    images = bars()
    settings = {"hidden": (16, 8), "dropout": 0.0, "epochs": 20, "batch_size": 32}
    encoder, loss = pretrain_encoder(images, **settings, learning_rate=0.01, seed=0)
    # The best constant guess, each pixel's mean, scores this binary cross-entropy:
    mean = images.mean(dim=0, keepdim=True).expand_as(images)
    constant = F.binary_cross_entropy(mean, images).item()
    assert loss < 0.8 * constant  # with a quarter of the pixels masked in its inputs
    again, loss_again = pretrain_encoder(images, **settings, learning_rate=0.01, seed=0)
    assert loss_again == loss
    for first, second in zip(encoder.parameters(), again.parameters()):
        assert torch.equal(first, second)
    assert encoder(images).shape == (256, 8)


def test_the_pretrained_encoder_loads_into_a_fresh_classifier_unchanged():
    autoencoder = PretrainingAutoencoder((6, 6, 1), hidden=(16, 8), dropout=0.0)
    classifier = classifier_from(autoencoder.encoder, Classifier((6, 6, 1), 3, hidden=(16, 8)))
    for name, weight in autoencoder.encoder.state_dict().items():
        assert torch.equal(classifier.encoder.state_dict()[name], weight)
    images = bars(4)
    # the classifier's dropout is off in eval mode: its features are the autoencoder's codes
    torch.testing.assert_close(classifier.eval().encoder(images), autoencoder.encode(images))
    assert classifier(images).shape == (4, 3)


def test_the_decoder_mirrors_the_encoder_back_to_the_image_shape():
    autoencoder = PretrainingAutoencoder((6, 6, 1), hidden=(16, 8), dropout=0.0)
    widths = [
        (m.in_features, m.out_features) for m in autoencoder.decoder if hasattr(m, "in_features")
    ]
    assert widths == [(8, 16), (16, 36)]
    images = bars(3)
    logits = autoencoder.decode_logits(autoencoder.encode(images))
    torch.testing.assert_close(autoencoder(images), torch.sigmoid(logits))


def test_bad_pretraining_settings_are_refused():
    with pytest.raises(
        ConfigError, match="expected a positive integer, received pretrain_epochs=0"
    ):
        pretrain_encoder(bars(8), hidden=(4,), dropout=0.0, epochs=0, seed=0)
    with pytest.raises(ConfigError, match="expected a rate in \\[0, 1\\), received dropout=1.0"):
        Classifier((6, 6, 1), 3, hidden=(4,), dropout=1.0)
    with pytest.raises(ConfigError, match="received hidden=\\(\\)"):
        Classifier((6, 6, 1), 3, hidden=())
