"""A variational autoencoder (Kingma & Welling 2014) with dense layers, and latent-space views.

The encoder gives a Gaussian posterior ``q(z|x) = N(mean, exp(logvar))`` over a ``latent_size``
code; a sample ``z = mean + exp(logvar / 2) * eps`` (the reparameterisation, so gradients reach
``mean`` and ``logvar``) is decoded into the parameters of ``p(x|z)``: per-pixel Bernoulli logits,
or Gaussian means. The prior is ``N(0, I)``. Training maximises the ELBO, reported as its two
terms by :class:`ember.tasks.vae.VariationalAutoencoder`.

Images are channels-last ``(N, H, W, C)``; a Bernoulli decoder needs values in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Normal

from ember import checks
from ember.errors import ConfigError
from ember.zoo.autoencoders import layer_sizes

DECODERS = ("bernoulli", "gaussian")


class VAEOutput(NamedTuple):
    """What :meth:`VAE.forward` returns; unpacks as ``reconstruction, mean, logvar = vae(x)``.

    Example:
        >>> output = VAE((4, 4, 1), latent_size=2, hidden=())(torch.rand(3, 4, 4, 1))
        >>> output.mean.shape, output.reconstruction.shape
        (torch.Size([3, 2]), torch.Size([3, 4, 4, 1]))
    """

    reconstruction: torch.Tensor  # (N, H, W, C) Bernoulli logits, or Gaussian means
    mean: torch.Tensor  # (N, latent_size) posterior means
    logvar: torch.Tensor  # (N, latent_size) posterior log-variances


def standard_normal_kl(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mean, exp(logvar)) || N(0, I))`` per sample, summed over the latent axis: ``(N,)``.

    The closed form ``-1/2 sum(1 + logvar - mean^2 - exp(logvar))``. It equals
    ``torch.distributions.kl_divergence`` (the tests check it) in one fused expression: building
    distribution objects each step cost about as much again as the whole KL on the CPU.

    Example:
        >>> from torch.distributions import Normal, kl_divergence
        >>> mean, logvar = torch.randn(4, 3), torch.randn(4, 3)
        >>> reference = kl_divergence(Normal(mean, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1)
        >>> torch.allclose(standard_normal_kl(mean, logvar), reference, atol=1e-5)
        True
    """
    return -0.5 * (1 + logvar - mean.pow(2) - logvar.exp()).sum(-1)


class VAE(nn.Module):
    """Dense VAE: ``input -> hidden (ReLU) -> (mean, logvar)``; ``z -> reversed hidden -> output``.

    ``VAE((28, 28, 1))`` is the 784-400-20 model of pytorch/examples' VAE.

    Args:
        input_shape: per-image shape, e.g. ``(28, 28, 1)``.
        latent_size: number of latent dimensions.
        hidden: sizes of the encoder's hidden layers (the decoder's, reversed); may be empty.
        decoder: ``"bernoulli"`` (pixels in [0, 1]; the decoder gives logits) or ``"gaussian"``
            (the decoder gives means).
        decoder_std: the Gaussian decoder's standard deviation; ``None`` learns one shared by all
            pixels (a "calibrated" decoder, which weighs reconstruction against KL by itself).

    Example:
        >>> vae = VAE((28, 28, 1), latent_size=2, hidden=(32,))
        >>> logits, mean, logvar = vae(torch.rand(4, 28, 28, 1))
        >>> logits.shape, mean.shape, logvar.shape
        (torch.Size([4, 28, 28, 1]), torch.Size([4, 2]), torch.Size([4, 2]))
        >>> vae.sample(6).shape
        torch.Size([6, 28, 28, 1])
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        latent_size: int = 20,
        hidden: Sequence[int] = (400,),
        decoder: str = "bernoulli",
        *,
        decoder_std: float | None = None,
    ) -> None:
        super().__init__()
        self.input_shape = layer_sizes("input_shape", input_shape, allow_empty=False)
        self.latent_size = checks.positive_int("latent_size", latent_size)
        hidden = layer_sizes("hidden", hidden)
        if not isinstance(decoder, str) or decoder.lower() not in DECODERS:
            raise ConfigError(
                f"expected decoder='bernoulli' or 'gaussian', received decoder={decoder!r}"
            )
        self.likelihood = decoder.lower()  # `decoder` itself is the network below
        size = math.prod(self.input_shape)
        widths = [size, *hidden]
        encoder: list[nn.Module] = [nn.Flatten()]
        for width_in, width_out in zip(widths[:-1], widths[1:]):
            encoder += [nn.Linear(width_in, width_out), nn.ReLU()]
        # One layer gives mean and logvar side by side (the same as two heads, in one matmul).
        encoder.append(nn.Linear(widths[-1], 2 * latent_size))
        widths = [latent_size, *reversed(hidden)]
        layers: list[nn.Module] = []
        for width_in, width_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(width_in, width_out), nn.ReLU()]
        layers += [nn.Linear(widths[-1], size), nn.Unflatten(1, self.input_shape)]
        self.encoder = nn.Sequential(*encoder)
        self.decoder = nn.Sequential(*layers)
        if decoder_std is not None and (
            self.likelihood != "gaussian"
            or isinstance(decoder_std, bool)
            or not isinstance(decoder_std, (int, float))
            or decoder_std <= 0
        ):
            raise ConfigError(
                f"expected decoder_std=None or a positive number with decoder='gaussian', "
                f"received decoder_std={decoder_std!r} with decoder={decoder!r}"
            )
        if self.likelihood == "gaussian":
            log_std = torch.tensor(0.0 if decoder_std is None else math.log(decoder_std))
            if decoder_std is None:
                self.log_std = nn.Parameter(log_std)  # learned, shared by all pixels
            else:
                self.register_buffer("log_std", log_std)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior ``(mean, logvar)``, each ``(N, latent_size)``, for images ``(N, H, W, C)``."""
        mean, logvar = self.encoder(x).chunk(2, dim=-1)
        return mean, logvar

    def reparameterize(self, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """A sample of ``N(mean, exp(logvar))`` that gradients flow through: ``(N, latent_size)``."""
        return mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``p(x|z)``'s parameters ``(N, H, W, C)``: Bernoulli logits or Gaussian means."""
        return self.decoder(z)

    def decode_images(self, z: torch.Tensor) -> torch.Tensor:
        """Images ``(N, H, W, C)`` for latent codes: ``p(x|z)``'s mean (sigmoid of the logits)."""
        decoded = self.decoder(z)
        return torch.sigmoid(decoded) if self.likelihood == "bernoulli" else decoded

    def forward(self, x: torch.Tensor) -> VAEOutput:
        """Encode, draw one ``z`` (in eval mode too: the ELBO is an expectation over it), decode."""
        mean, logvar = self.encode(x)
        return VAEOutput(self.decode(self.reparameterize(mean, logvar)), mean, logvar)

    def reconstruction_loss(self, decoded: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``-log p(x|z)`` per image in nats, summed over pixels: ``(N,)``.

        Bernoulli: binary cross-entropy with logits; Gaussian: the normal negative log-density
        (with its constant), at the decoder's standard deviation.
        """
        if self.likelihood == "bernoulli":
            nll = F.binary_cross_entropy_with_logits(decoded, x, reduction="none")
        else:
            std = self.log_std.exp()
            nll = -Normal(decoded, std, validate_args=False).log_prob(x)
        return nll.flatten(1).sum(1)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Images decoded from the posterior means: ``(N, H, W, C)``, deterministic."""
        return self.decode_images(self.encode(x)[0])

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` new images ``(n, H, W, C)`` decoded from the prior ``N(0, I)``."""
        n = checks.positive_int("n", n)
        device = next(self.parameters()).device
        source = generator.device if generator is not None else device
        z = torch.randn(n, self.latent_size, generator=generator, device=source).to(device)
        return self.decode_images(z)


@torch.no_grad()
def interpolate(vae: VAE, x_a: torch.Tensor, x_b: torch.Tensor, steps: int = 10) -> torch.Tensor:
    """Decode ``steps`` evenly spaced points on the line between two images' posterior means.

    ``x_a`` and ``x_b`` are single images ``(H, W, C)`` (returns ``(steps, H, W, C)``) or batches
    ``(N, H, W, C)`` (returns ``(N, steps, H, W, C)``); the first and last steps are the two
    images' reconstructions.

    Example:
        >>> vae = VAE((8, 8, 1), latent_size=3, hidden=(16,))
        >>> interpolate(vae, torch.rand(8, 8, 1), torch.rand(8, 8, 1), steps=5).shape
        torch.Size([5, 8, 8, 1])
    """
    steps = checks.positive_int("steps", steps)
    if steps < 2:
        raise ConfigError(f"expected at least 2 steps (the two ends), received steps={steps}")
    if x_a.shape != x_b.shape:
        raise ConfigError(
            f"interpolate needs two images (or batches) of one shape, received "
            f"{tuple(x_a.shape)} and {tuple(x_b.shape)}"
        )
    single = x_a.ndim == len(vae.input_shape)
    if single:
        x_a, x_b = x_a.unsqueeze(0), x_b.unsqueeze(0)
    start, end = vae.encode(x_a)[0], vae.encode(x_b)[0]  # (N, L) each
    weights = torch.linspace(0, 1, steps, device=start.device).view(1, steps, 1)
    path = torch.lerp(start.unsqueeze(1), end.unsqueeze(1), weights)  # (N, steps, L)
    images = vae.decode_images(path.flatten(0, 1)).unflatten(0, path.shape[:2])
    return images[0] if single else images


@torch.no_grad()
def latent_grid(vae: VAE, size: int = 15) -> torch.Tensor:
    """Decode a ``size`` x ``size`` grid over a 2-D latent space: ``(size, size, H, W, C)``.

    The grid points are the standard normal's quantiles 5% ... 95% along each axis (Kingma &
    Welling's figure), so they cover where the prior puts its mass. Column ``j`` moves along the
    first latent axis (left to right, increasing); row ``i`` along the second (top to bottom,
    decreasing), as on a plot of the codes.

    Example:
        >>> vae = VAE((8, 8, 1), latent_size=2, hidden=(16,))
        >>> latent_grid(vae, size=4).shape
        torch.Size([4, 4, 8, 8, 1])
    """
    size = checks.positive_int("size", size)
    if vae.latent_size != 2:
        raise ConfigError(
            f"latent_grid needs a 2-D latent space, received a VAE with "
            f"latent_size={vae.latent_size}. Fix: train a VAE with latent_size=2 for the map, or "
            f"plot the codes with PCA/t-SNE."
        )
    device = next(vae.parameters()).device
    values = torch.special.ndtri(torch.linspace(0.05, 0.95, size, device=device))  # (size,)
    first, second = torch.meshgrid(values, values.flip(0), indexing="xy")  # (size, size) each
    z = torch.stack([first, second], dim=-1).flatten(0, 1)  # (size * size, 2), row-major
    return vae.decode_images(z).unflatten(0, (size, size))
