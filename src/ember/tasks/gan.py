"""The GAN task: a generator and a discriminator trained against each other, on the same engine.

Each ``training_step`` takes one batch of real images and makes one batch of fakes from fresh
noise; the discriminator takes one step on them, and every ``discriminator_steps``-th call the
generator takes one step too, judged by the just-updated discriminator on the same fakes (as in
PyTorch's DCGAN example). The task steps its own two optimizers, so it sets
``optimizes_itself`` and the engine skips its backward pass and optimizer step.

Images are ``(N, H, W, C)`` floats in [0, 1]. The generator must end in ``tanh``: its images are
in [-1, 1], and the task maps real images to [-1, 1] too (``2x - 1``) before the discriminator
sees them; :meth:`GAN.generate`, :meth:`GAN.sample` and ``predict`` map back to [0, 1].

Losses (``loss="..."``, see :mod:`ember.train.gan_losses`): ``"non_saturating"`` (Goodfellow
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
from ember.train import gan_checks as checks
from ember.train.gan_losses import discriminator_loss, generator_loss, gradient_penalty
from ember.train.optimizer_state import load_optimizer_state

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


class GAN:
    """A generative adversarial network as a task: ``ember.Trainer(GAN(...), epochs=...)``.

    Args:
        generator: latent vectors ``(N, latent_size)`` (and labels) -> images in [-1, 1] (tanh).
        discriminator: images (and labels) -> one logit or score per image, ``(N,)`` or ``(N, 1)``.
        latent_size: length of the generator's latent vectors.
        loss: ``"non_saturating"`` or ``"wasserstein_gp"``.
        generator_optimizer, discriminator_optimizer: what ``ember.optimizers.get`` accepts;
            by default Adam(2e-4, beta_1=0.5) (DCGAN), or Adam(1e-4, beta_1=0, beta_2=0.9) for
            WGAN-GP, as in the papers.
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
        >>> from ember.models.dcgan import DCGANDiscriminator, DCGANGenerator
        >>> gan = GAN(DCGANGenerator(8, width=4), DCGANDiscriminator(width=4), latent_size=8)
        >>> history = ember.Trainer(gan, epochs=1, device="cpu").fit(torch.rand(32, 28, 28, 1),
        ...                                                          batch_size=16, verbose=0)
        >>> sorted(history.history), gan.sample(3).shape
        (['d_fake', 'd_loss', 'd_real', 'g_loss', 'loss'], torch.Size([3, 28, 28, 1]))
    """

    optimizes_itself = True
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
        self.class_loss = float(class_loss)
        self.module = GANModules(generator, discriminator)
        self.latent_size, self.loss = latent_size, loss
        self.discriminator_steps = discriminator_steps
        self.gradient_penalty = float(gradient_penalty)
        self.conditional, self.num_classes = bool(conditional), num_classes
        wasserstein = loss == "wasserstein_gp"
        default = optimizers.Adam(1e-4, 0.0, 0.9) if wasserstein else optimizers.Adam(2e-4, 0.5)
        self.generator_spec = checks.optimizer_spec(
            generator_optimizer or default, "generator_optimizer"
        )
        self.discriminator_spec = checks.optimizer_spec(
            discriminator_optimizer or default, "discriminator_optimizer"
        )
        self.generator_optimizer: torch.optim.Optimizer | None = None
        self.discriminator_optimizer: torch.optim.Optimizer | None = None
        self.steps = 0  # training steps taken: the generator steps on every k-th
        # Validation draws its noise here, so that validating never shifts training's noise.
        self._validation_noise = torch.Generator().manual_seed(0)
        self._pending_state: dict[str, Any] | None = None
        self._generate = generator
        self._discriminate = discriminator

    # -- set-up ---------------------------------------------------------------------------------
    def setup(self, example: Batch, device: torch.device) -> None:
        """Check the data and both networks with a dry run, then build the optimizers (once)."""
        x, labels = example[0], self._labels(example)
        # predict() passes latent vectors, not images: then there is no image to check.
        if not (x.ndim == 2 and x.shape[1] == self.latent_size):
            checks.check_images(x)
            self._dry_run(x, None if labels is None else labels[:2])
        if self.generator_optimizer is None:  # after the dry run, which builds lazy layers
            generator, discriminator = self.module.generator, self.module.discriminator
            self.generator_optimizer = checks.build_optimizer(
                self.generator_spec, generator, "generator"
            )
            self.discriminator_optimizer = checks.build_optimizer(
                self.discriminator_spec, discriminator, "discriminator"
            )
        if self._pending_state is not None:
            self.load_state_dict(self._pending_state)

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
    def training_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """One discriminator step, and a generator step every ``discriminator_steps`` calls.

        The fakes of a conditional GAN take the batch's labels. On calls without a generator
        step, ``g_loss`` is read from the discriminator's scores of the fakes before its step.
        """
        real = batch[0] * 2 - 1  # (N, H, W, C) in the generator's [-1, 1]
        labels = batch[1] if self.conditional else None
        update_generator = (self.steps + 1) % self.discriminator_steps == 0
        latents = torch.randn(len(real), self.latent_size, device=real.device, dtype=real.dtype)
        with torch.set_grad_enabled(update_generator):  # no graph through G when it stays put
            fake = self._call(self._generate, latents, labels)
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
        _step(self.discriminator_optimizer, d_loss, self.discriminator_spec)
        if update_generator:  # judged by the discriminator just updated
            scores, classes = self._judge(fake, labels)
            g_loss = generator_loss(scores, self.loss)
            if self.class_loss:  # G: images the discriminator sees as the class asked for
                g_loss = g_loss + self.class_loss * F.cross_entropy(classes, labels)
            _step(self.generator_optimizer, g_loss, self.generator_spec)
        else:
            g_loss = generator_loss(fake_scores.detach(), self.loss)
        self.steps += 1
        return {**self._report(d_loss, g_loss, real_scores, fake_scores), **outputs}

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
            >>> from ember.models.dcgan import DCGANDiscriminator, DCGANGenerator
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
            >>> from ember.models.dcgan import DCGANDiscriminator, DCGANGenerator
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
        """Both optimizers' states, the step counter and the validation noise state.

        The engine's checkpoints store it beside the weights, so that a resumed run continues
        exactly (the step counter says when the generator steps next).

        Example:
            >>> from ember.models.dcgan import DCGANDiscriminator, DCGANGenerator
            >>> gan = GAN(DCGANGenerator(8, width=4), DCGANDiscriminator(width=4), latent_size=8)
            >>> sorted(gan.state_dict())
            ['discriminator_optimizer', 'generator_optimizer', 'steps', 'validation_noise']
        """
        built = self.generator_optimizer is not None and self.discriminator_optimizer is not None
        return {
            "generator_optimizer": self.generator_optimizer.state_dict() if built else None,
            "discriminator_optimizer": self.discriminator_optimizer.state_dict() if built else None,
            "steps": self.steps,
            "validation_noise": self._validation_noise.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; optimizer states wait for ``setup`` if not built yet."""
        self.steps = int(state["steps"])
        self._validation_noise.set_state(state["validation_noise"])
        if state["generator_optimizer"] is None:
            return
        if self.generator_optimizer is None or self.discriminator_optimizer is None:
            self._pending_state = state
            return
        for optimizer, key in [
            (self.generator_optimizer, "generator_optimizer"),
            (self.discriminator_optimizer, "discriminator_optimizer"),
        ]:
            load_optimizer_state(optimizer, state[key])  # in each parameter's layout
        self._pending_state = None


def _step(optimizer: torch.optim.Optimizer, loss: torch.Tensor, spec: Any) -> None:
    params = [p for group in optimizer.param_groups for p in group["params"]]
    optimizer.zero_grad(set_to_none=True)
    # Gradients only into this network's own weights: the other network's stay untouched.
    loss.backward(inputs=params)
    if spec.clips:
        optimizers.clip_gradients(params, spec)
    optimizer.step()
