"""The GAN task: a generator and a discriminator trained against each other, on the same engine.

Each ``training_step`` takes one batch of real images and makes one batch of fakes from fresh
noise; the discriminator takes one step on them, and every ``discriminator_steps``-th step the
generator takes one step too, judged by the just-updated discriminator on the same fakes (as in
PyTorch's DCGAN example). The task declares the two as objectives (``d_loss`` over the
discriminator, ``g_loss`` over the generator, every ``discriminator_steps``-th step) and the
engine does both backward passes and optimizer steps, so mixed precision, loss scaling,
clipping and schedules apply to a GAN as to any task.

Images are ``(N, H, W, C)`` floats in [0, 1]. The generator must end in ``tanh``: its images are
in [-1, 1], and the task maps real images to [-1, 1] too (``2x - 1``) before the discriminator
sees them; :meth:`GAN.generate`, :meth:`GAN.sample` and ``predict`` map back to [0, 1].

Losses (``loss="..."``, see :mod:`ember.tasks.gan_losses`): ``"non_saturating"`` (Goodfellow
et al. 2014) or ``"wasserstein_gp"`` (Gulrajani et al. 2017), whose critic should not use batch
norm: the penalty is taken per image (``DCGANDiscriminator(normalization="layer")``).

Logged per epoch: ``loss`` (= ``g_loss``, the generator's), ``d_loss``, ``d_real`` and ``d_fake``
(the discriminator's mean probability of "real" for real and fake images, or the critic's mean
scores), and ``gradient_penalty`` with WGAN-GP. In validation (no gradients) ``d_loss`` leaves
the penalty out.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ember import optimizers
from ember.errors import DataError
from ember.tasks import gan_checks as checks
from ember.tasks.gan_losses import discriminator_loss, generator_loss, gradient_penalty
from ember.train.task import Objective, Task

Batch = tuple[torch.Tensor, ...]


class GANModules(nn.Module):
    """What the engine moves and checkpoints: ``generator`` and ``discriminator``.

    Calling it runs the generator, so that it is usable from plain PyTorch.
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module) -> None:
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator

    def forward(self, latents: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.generator(latents) if labels is None else self.generator(latents, labels)


class GAN(Task):
    """A generative adversarial network as a task: ``ember.Trainer(GAN(...), epochs=...)``.

    Args:
        generator: latent vectors ``(N, latent_size)`` (and labels) -> images in [-1, 1] (tanh).
        discriminator: images (and labels) -> one logit or score per image, ``(N,)`` or ``(N, 1)``.
        latent_size: length of the generator's latent vectors.
        loss: ``"non_saturating"`` or ``"wasserstein_gp"``.
        generator_optimizer, discriminator_optimizer: what ``ember.optimizers.get`` accepts
            (clipping and schedules too); by default Adam(2e-4, beta_1=0.5) (DCGAN), or
            Adam(1e-4, beta_1=0, beta_2=0.9) for WGAN-GP, as in the papers.
        discriminator_steps: discriminator steps per generator step (WGAN-GP uses 5).
        gradient_penalty: the penalty's weight (lambda) with ``"wasserstein_gp"``.
        conditional: feed class labels (the batch's ``y``) to both networks.
        num_classes: how many classes the labels take (needed when ``conditional``).
        class_loss: with ``conditional``, the weight of AC-GAN's auxiliary classification
            loss (Odena et al. 2017; 0: off). The discriminator then gets no labels and returns
            ``(N, 1 + num_classes)``, realness then class logits (``DCGANDiscriminator(
            class_outputs=10)``); it learns to classify the real images, and the generator
            learns to make images it classifies as the class they were made for.

    Example:
        >>> import torch, ember
        >>> from ember.zoo.dcgan import DCGANDiscriminator, DCGANGenerator
        >>> gan = GAN(DCGANGenerator(8, width=4), DCGANDiscriminator(width=4), latent_size=8)
        >>> history = ember.Trainer(gan, epochs=1, device="cpu").fit(torch.rand(32, 28, 28, 1),
        ...                                                          batch_size=16, verbose=0)
        >>> sorted(history.history), gan.sample(3).shape
        (['d_fake', 'd_loss', 'd_real', 'g_loss', 'loss'], torch.Size([3, 28, 28, 1]))
    """

    metrics = None  # the losses and scores come from the step outputs, averaged by the engine

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        *,
        latent_size: int,
        loss: str = "non_saturating",
        generator_optimizer: Any = None,
        discriminator_optimizer: Any = None,
        discriminator_steps: int = 1,
        gradient_penalty: float = 10.0,
        conditional: bool = False,
        num_classes: int | None = None,
        class_loss: float = 0.0,
    ) -> None:
        checks.check_networks(generator, discriminator)
        checks.check_settings(latent_size, loss, discriminator_steps, gradient_penalty)
        checks.check_conditioning(conditional, num_classes)
        checks.check_class_loss(class_loss, conditional, loss)
        super().__init__(GANModules(generator, discriminator))
        self.class_loss = float(class_loss)
        self.latent_size, self.loss = latent_size, loss
        self.discriminator_steps = discriminator_steps
        self.gradient_penalty = float(gradient_penalty)
        self.conditional, self.num_classes = bool(conditional), num_classes
        wasserstein = loss == "wasserstein_gp"
        default = optimizers.Adam(1e-4, 0.0, 0.9) if wasserstein else optimizers.Adam(2e-4, 0.5)
        self.generator_optimizer = optimizers.get(generator_optimizer or default)
        self.discriminator_optimizer = optimizers.get(discriminator_optimizer or default)
        # Validation draws its noise here, so that validating never shifts training's noise.
        self._validation_noise = torch.Generator().manual_seed(0)
        self._generate = generator
        self._discriminate = discriminator
        self._fakes: tuple[torch.Tensor, torch.Tensor | None] | None = None  # for g_loss

    def objectives(self) -> list[Objective]:
        """The discriminator's loss on every step, then the generator's on every k-th.

        Example:
            >>> from ember.zoo.dcgan import DCGANDiscriminator, DCGANGenerator
            >>> gan = GAN(DCGANGenerator(8, width=4), DCGANDiscriminator(width=4),
            ...           latent_size=8, discriminator_steps=5)
            >>> [(o.loss, o.every) for o in gan.objectives()]
            [('d_loss', 1), ('g_loss', 5)]
        """
        generator, discriminator = self.module.generator, self.module.discriminator
        return [
            Objective("d_loss", discriminator, self.discriminator_optimizer),
            Objective("g_loss", generator, self.generator_optimizer, self.discriminator_steps),
        ]

    # -- set-up ---------------------------------------------------------------------------------
    def setup(self, example: Batch, device: torch.device) -> None:
        """Check the data and both networks with a dry run (which builds lazy layers)."""
        x, labels = example[0], self._labels(example)
        # predict() passes latent vectors, not images: then there is no image to check.
        if not (x.ndim == 2 and x.shape[1] == self.latent_size):
            checks.check_images(x)
            self._dry_run(x, None if labels is None else labels[:2])

    def _dry_run(self, x: torch.Tensor, labels: torch.Tensor | None) -> None:
        latents = torch.zeros(2, self.latent_size, device=x.device)  # zeros: no RNG draw
        generator, discriminator = self.module.generator, self.module.discriminator
        was_training = self.module.training
        self.module.eval()
        try:
            with torch.no_grad():
                fake = checks.run_network(generator, latents, labels, "generator")
                checks.check_generated(fake, x[:2])  # before the discriminator: the clearer fix
                scores = checks.run_network(
                    discriminator, x[:2], None if self.class_loss else labels, "discriminator"
                )
                checks.check_scores(scores, x[:2], self.num_classes if self.class_loss else None)
        finally:
            self.module.train(was_training)

    def _labels(self, batch: Batch) -> torch.Tensor | None:
        return checks.check_labels(batch, self.num_classes) if self.conditional else None

    def compile(self) -> None:
        """Run both networks through ``torch.compile``.

        The gradient penalty keeps the uncompiled critic: torch.compile does not differentiate
        twice.
        """
        self._generate = torch.compile(self.module.generator)
        self._discriminate = torch.compile(self.module.discriminator)

    # -- steps ----------------------------------------------------------------------------------
    def training_step(self, batch: Batch, objective: str = "d_loss") -> dict[str, torch.Tensor]:
        """The discriminator's loss (``"d_loss"``) or, after its step, the generator's.

        The discriminator's call makes the fakes from fresh noise (with the batch's labels, for
        a conditional GAN) and scores them and the real images. Its outputs carry ``g_loss``
        read from those scores, which stands for the steps where the generator does not step;
        the generator's call replaces it with its loss judged by the updated discriminator.
        """
        if objective == "g_loss":
            return self._generator_step()
        real = batch[0] * 2 - 1  # (N, H, W, C) in the generator's [-1, 1]
        labels = batch[1] if self.conditional else None
        latents = torch.randn(len(real), self.latent_size, device=real.device, dtype=real.dtype)
        # With its graph: the generator's objective, when due, backpropagates through it.
        fake = self._call(self._generate, latents, labels)
        self._fakes = (fake, labels)
        real_scores, real_classes = self._judge(real, labels)
        fake_scores, _ = self._judge(fake.detach(), labels)
        d_loss = discriminator_loss(real_scores, fake_scores, self.loss)
        outputs = {}
        if self.class_loss:
            # AC-GAN's class loss, on real images only: the paper's term on the fakes too lets
            # D learn G's hidden code for the label rather than the class (measured on
            # Fashion-MNIST: samples then fool D's classifier but not an independent one).
            class_loss = F.cross_entropy(real_classes, labels)
            d_loss = d_loss + self.class_loss * class_loss
            outputs["class_loss"] = class_loss.detach()
        if self.loss == "wasserstein_gp":
            # The uncompiled critic: torch.compile does not differentiate twice.
            penalty = gradient_penalty(self.module.discriminator, real, fake.detach(), labels)
            d_loss = d_loss + self.gradient_penalty * penalty
            outputs["gradient_penalty"] = penalty.detach()
        g_loss = generator_loss(fake_scores.detach(), self.loss)
        report = self._report(d_loss, g_loss, real_scores, fake_scores)
        return {**report, "d_loss": d_loss, **outputs}

    def _generator_step(self) -> dict[str, torch.Tensor]:
        # The fakes of the discriminator's call, judged by the discriminator just updated.
        if self._fakes is None:
            raise DataError(
                "the generator's loss needs the discriminator's call first (the engine makes "
                "it). Fix: train the GAN with ember.Trainer, or call training_step(batch) first."
            )
        (fake, labels), self._fakes = self._fakes, None
        scores, classes = self._judge(fake, labels)
        g_loss = generator_loss(scores, self.loss)
        if self.class_loss:  # G: images the discriminator sees as the class asked for
            g_loss = g_loss + self.class_loss * F.cross_entropy(classes, labels)
        return {"g_loss": g_loss, "loss": g_loss.detach()}

    def validation_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """The losses and scores on a batch without updates (``d_loss`` without the penalty)."""
        real, labels = batch[0] * 2 - 1, batch[1] if self.conditional else None
        noise = torch.randn(len(real), self.latent_size, generator=self._validation_noise)
        fake = self._call(self._generate, noise.to(real.device, real.dtype), labels)
        (real_scores, _), (fake_scores, _) = self._judge(real, labels), self._judge(fake, labels)
        d_loss = discriminator_loss(real_scores, fake_scores, self.loss)
        return self._report(
            d_loss, generator_loss(fake_scores, self.loss), real_scores, fake_scores
        )

    def predict_step(self, batch: Batch) -> torch.Tensor:
        """Images in [0, 1] for latent vectors ``batch[0]`` (and labels ``batch[1]``).

        So ``trainer.predict(torch.randn(n, latent_size))`` returns ``n`` images. ``setup``
        takes data whose samples have the latent size for latent vectors and checks no images.
        """
        labels = self._labels(batch)
        return (self._call(self._generate, batch[0], labels) + 1) / 2

    def _call(self, network: Any, inputs: torch.Tensor, labels: torch.Tensor | None) -> Any:
        return network(inputs) if labels is None else network(inputs, labels)

    def _judge(
        self, images: torch.Tensor, labels: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Realness scores ``(N,)`` and, for an AC-GAN, class logits ``(N, classes)``."""
        if self.class_loss:  # the discriminator predicts the class rather than reading it
            scores = self._discriminate(images)
            return scores[:, 0], scores[:, 1:]
        return self._call(self._discriminate, images, labels).reshape(len(images)), None

    def _report(self, d_loss, g_loss, real_scores, fake_scores) -> dict[str, torch.Tensor]:
        if self.loss == "non_saturating":  # as probabilities of "real": 0.5 means undecided
            real_scores, fake_scores = torch.sigmoid(real_scores), torch.sigmoid(fake_scores)
        g_loss = g_loss.detach()
        return {
            "loss": g_loss,
            "d_loss": d_loss.detach(),
            "g_loss": g_loss,
            "d_real": real_scores.detach().mean(),
            "d_fake": fake_scores.detach().mean(),
        }

    # -- sampling -------------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, latents: torch.Tensor, labels: Any = None) -> torch.Tensor:
        """Images ``(N, H, W, C)`` in [0, 1] for ``latents``, with the generator in eval mode.

        Example:
            >>> from ember.zoo.dcgan import DCGANDiscriminator, DCGANGenerator
            >>> gan = GAN(DCGANGenerator(8, width=4, num_classes=10),
            ...           DCGANDiscriminator(width=4, num_classes=10),
            ...           latent_size=8, conditional=True, num_classes=10)
            >>> images = gan.generate(torch.randn(2, 8), labels=[3, 7])
            >>> images.shape, bool(images.min() >= 0 and images.max() <= 1)
            (torch.Size([2, 28, 28, 1]), True)
        """
        generator = self.module.generator
        device = next(generator.parameters()).device
        if self.conditional:
            given = () if labels is None else (torch.as_tensor(labels, device=device).long(),)
            labels = self._labels((latents, *given))
        elif labels is not None:
            raise DataError("labels were given to a GAN that is not conditional. Fix: drop them.")
        was_training = generator.training
        generator.eval()
        try:
            images = self._call(generator, latents.to(device), labels)
        finally:
            generator.train(was_training)
        return (images + 1) / 2

    def sample(
        self, n: int, labels: Any = None, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``n`` images ``(n, H, W, C)`` in [0, 1] from noise drawn on ``generator`` (or torch's).

        A seeded ``torch.Generator`` gives the same noise every time, so samples then differ
        only by the training. Noise is drawn on ``generator``'s device (the CPU for
        ``torch.Generator()``), then moved. A conditional GAN makes ``labels`` (default: the
        classes 0, 1, 2, ... cycled).

        Example:
            >>> from ember.zoo.dcgan import DCGANDiscriminator, DCGANGenerator
            >>> gan = GAN(DCGANGenerator(8, width=4), DCGANDiscriminator(width=4), latent_size=8)
            >>> a = gan.sample(4, generator=torch.Generator().manual_seed(0))
            >>> torch.equal(a, gan.sample(4, generator=torch.Generator().manual_seed(0)))
            True
        """
        if self.conditional and labels is None:
            labels = torch.arange(n) % self.num_classes
        device = generator.device if generator is not None else "cpu"
        latents = torch.randn(n, self.latent_size, generator=generator, device=device)
        return self.generate(latents, labels)

    # -- state ----------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The validation noise's state (the optimizers and step counter are the engine's).

        Example:
            >>> from ember.zoo.dcgan import DCGANDiscriminator, DCGANGenerator
            >>> gan = GAN(DCGANGenerator(8, width=4), DCGANDiscriminator(width=4), latent_size=8)
            >>> sorted(gan.state_dict())
            ['validation_noise']
        """
        return {"validation_noise": self._validation_noise.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self._validation_noise.set_state(state["validation_noise"])
