"""The variational-autoencoder task: maximise the ELBO, reported as its two terms.

A batch is ``(x,)`` or ``(x, y)``; labels are ignored. Per image,

    reconstruction = -log p(x|z)            (summed over pixels, one z drawn from q(z|x))
    kl             = KL(q(z|x) || N(0, I))  (closed form, summed over latent dimensions)
    loss           = reconstruction + beta * kl

each averaged over the batch (the engine then averages over the epoch's images). With the
default ``beta=1`` and a Bernoulli decoder, ``loss`` is the negative ELBO in nats per image: the
"summed BCE + KL per image" that pytorch/examples' VAE reports. Evaluation draws ``z`` too, so
its loss is the same estimate on held-out data.
"""

from __future__ import annotations

import torch
from torch import nn

from ember import checks
from ember.errors import ConfigError, ShapeError
from ember.tasks.autoencoder import check_images, check_output_shape
from ember.train.task import Task
from ember.zoo.vae import standard_normal_kl

Batch = tuple[torch.Tensor, ...]


class VariationalAutoencoder(Task):
    """Trains a VAE: ``module(x)`` gives ``(reconstruction, mean, logvar)``.

    The module (e.g. :class:`ember.models.VAE`) must also have
    ``reconstruction_loss(reconstruction, x) -> (N,)``, the per-image negative log-likelihood of
    its decoder, since only the module knows whether its outputs are Bernoulli logits or Gaussian
    means.

    Args:
        module: the VAE.
        beta: weight of the KL term (beta-VAE, Higgins et al. 2017); 1 is the ELBO.

    Example:
        >>> import torch
        >>> from ember.zoo.vae import VAE
        >>> task = VariationalAutoencoder(VAE((8, 8, 1), latent_size=2, hidden=(16,)))
        >>> out = task.training_step((torch.rand(4, 8, 8, 1),))
        >>> sorted(out)
        ['kl', 'loss', 'reconstruction']
        >>> torch.allclose(out["loss"], out["reconstruction"] + out["kl"])
        True
    """

    metrics = None  # the step outputs are the scores, averaged by the engine

    def __init__(self, module: nn.Module, *, beta: float = 1.0) -> None:
        checks.non_negative_number("beta", beta)
        if not callable(getattr(module, "reconstruction_loss", None)):
            raise ConfigError(
                f"the VariationalAutoencoder task needs a module with reconstruction_loss("
                f"reconstruction, x) returning each image's negative log-likelihood (N,); "
                f"{type(module).__name__} has none. Fix: use ember.models.VAE, or add that method "
                f"(for Bernoulli logits: binary_cross_entropy_with_logits summed per image)."
            )
        super().__init__(module)
        self.forward = module
        self.beta = float(beta)

    def setup(self, example: Batch, device: torch.device) -> None:
        """Check the images and one forward pass before any training step."""
        x = example[0]
        bernoulli = getattr(self.module, "likelihood", "bernoulli") == "bernoulli"
        check_images(x, bernoulli, "a Bernoulli decoder", "decoder='gaussian'")
        was_training = self.module.training
        self.module.eval()
        try:
            with torch.no_grad():
                output = self.module(x[:2])
        except (RuntimeError, IndexError) as error:
            raise ShapeError(
                f"the VAE could not run on images of per-sample shape {tuple(x.shape[1:])}: "
                f"{error}. Fix: build it with input_shape={tuple(x.shape[1:])}, or reshape the "
                f"data to what it expects."
            ) from error
        finally:
            self.module.train(was_training)
        if not isinstance(output, tuple) or len(output) != 3:
            raise ShapeError(
                f"a VAE module must return (reconstruction, mean, logvar), received "
                f"{type(output).__name__}. Fix: return all three from forward (ember.models.VAE "
                f"returns a VAEOutput)."
            )
        reconstruction, mean, logvar = output
        check_output_shape(reconstruction, x[:2], "decoder")
        if mean.shape != logvar.shape or mean.ndim != 2:
            raise ShapeError(
                f"a VAE's encoder must give mean and logvar of one shape (N, latent_size), "
                f"received {tuple(mean.shape)} and {tuple(logvar.shape)}. Fix: split one "
                f"(N, 2 * latent_size) output in two with .chunk(2, dim=-1)."
            )

    def compile(self) -> None:
        """Route the forward pass through ``torch.compile``."""
        self.forward = torch.compile(self.module)

    def training_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Negative ELBO per image and its two terms, averaged over the batch."""
        x = batch[0]
        reconstruction, mean, logvar = self.forward(x)
        nll = self.module.reconstruction_loss(reconstruction, x).mean()
        kl = standard_normal_kl(mean, logvar).mean()
        loss = nll + self.beta * kl
        return {"loss": loss, "reconstruction": nll, "kl": kl}

    def validation_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Like :meth:`training_step`; run by the engine under ``inference_mode``."""
        return self.training_step(batch)

    def predict_step(self, batch: Batch) -> torch.Tensor:
        """Reconstructions ``(N, H, W, C)`` from the posterior means (``module.reconstruct``),
        else the module's first output."""
        reconstruct = getattr(self.module, "reconstruct", None)
        if reconstruct is not None:
            return reconstruct(batch[0])
        return self.module(batch[0])[0]
