"""The VAE task: its loss is summed BCE + KL per image; training; errors before any step."""

import pytest
import torch
import torch.nn.functional as F
from failing_fits import fails_before_any_step
from torch.distributions import Normal, kl_divergence

import ember
from ember.errors import ConfigError, DataError, ShapeError
from ember.tasks.vae import VariationalAutoencoder
from ember.zoo.vae import VAE


def small_vae(**kwargs):
    torch.manual_seed(0)
    return VAE((6, 6, 1), **{"latent_size": 2, "hidden": (16,), **kwargs})


def binary_images(n=64):
    """Two prototype images with a few flipped pixels: easy to encode in a 2-D latent."""
    generator = torch.Generator().manual_seed(0)
    prototypes = (torch.rand(2, 6, 6, 1, generator=generator) > 0.5).float()
    x = prototypes[torch.arange(n) % 2]
    flips = torch.rand(x.shape, generator=generator) < 0.05
    return torch.where(flips, 1 - x, x)


def test_loss_is_summed_bce_plus_kl_per_image():
    vae = small_vae()
    x = torch.rand(5, 6, 6, 1)
    torch.manual_seed(3)
    out = VariationalAutoencoder(vae).training_step((x, torch.zeros(5)))  # labels are ignored
    torch.manual_seed(3)  # the same z
    logits, mean, logvar = vae(x)
    bce = F.binary_cross_entropy(torch.sigmoid(logits), x, reduction="sum") / 5
    kl = kl_divergence(Normal(mean, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum() / 5
    torch.testing.assert_close(out["reconstruction"], bce)
    torch.testing.assert_close(out["kl"], kl)
    torch.testing.assert_close(out["loss"], bce + kl)


def test_beta_weighs_only_the_kl_term():
    vae = small_vae()
    x = torch.rand(5, 6, 6, 1)
    torch.manual_seed(3)
    out = VariationalAutoencoder(vae, beta=4.0).training_step((x,))
    torch.testing.assert_close(out["loss"], out["reconstruction"] + 4.0 * out["kl"])
    with pytest.raises(ConfigError, match="beta=-1"):
        VariationalAutoencoder(vae, beta=-1)


@pytest.mark.parametrize("decoder", ["bernoulli", "gaussian"])
def test_trainer_fit_reduces_the_negative_elbo(decoder):
    x = binary_images()
    task = VariationalAutoencoder(small_vae(decoder=decoder))
    trainer = ember.Trainer(task, ember.optimizers.Adam(0.01), epochs=15, device="cpu")
    history = trainer.fit(x, x, batch_size=16, verbose=0).history
    assert set(history) >= {"loss", "reconstruction", "kl", "val_loss", "val_reconstruction"}
    assert history["loss"][-1] < history["loss"][0] - 5  # nats per image
    logs = trainer.evaluate(x, verbose=0)
    assert logs["loss"] == pytest.approx(logs["reconstruction"] + logs["kl"], rel=1e-5)


def test_predict_gives_deterministic_reconstructions():
    x = binary_images(8)
    trainer = ember.Trainer(VariationalAutoencoder(small_vae()), epochs=1, device="cpu")
    first, second = trainer.predict(x), trainer.predict(x)
    assert first.shape == x.shape and 0 <= first.min() and first.max() <= 1
    torch.testing.assert_close(first, second)


def test_images_outside_0_1_for_a_bernoulli_decoder_are_explained():
    pixels = binary_images(8) * 255
    fails_before_any_step(
        VariationalAutoencoder(small_vae()),
        pixels,
        DataError,
        r"Bernoulli decoder needs images in \[0, 1\], found values from 0 to 255.*x / 255.0",
    )
    centred = binary_images(8) - 0.5
    fails_before_any_step(VariationalAutoencoder(small_vae()), centred, DataError, "-0.5 to 0.5")
    # A Gaussian decoder takes any real values.
    gaussian = VariationalAutoencoder(small_vae(decoder="gaussian"))
    ember.Trainer(gaussian, epochs=1, device="cpu").fit(centred, verbose=0)


def test_a_decoder_output_of_another_shape_is_explained_with_both_shapes():
    flat = binary_images(8).view(8, 36)  # runs (36 values) but comes back as (6, 6, 1)
    fails_before_any_step(
        VariationalAutoencoder(small_vae()), flat, ShapeError, r"\(2, 6, 6, 1\).*\(2, 36\)"
    )
    fails_before_any_step(
        VariationalAutoencoder(small_vae()),
        torch.rand(8, 5, 5, 1),
        ShapeError,
        r"input_shape=\(5, 5, 1\)",
    )


class NotAVAE(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(36, 36)

    def forward(self, x):
        return self.linear(x.flatten(1)).view_as(x)

    def reconstruction_loss(self, decoded, x):
        return (decoded - x).pow(2).flatten(1).sum(1)


def test_a_module_that_is_not_a_vae_is_explained():
    with pytest.raises(ConfigError, match="reconstruction_loss.*has none"):
        VariationalAutoencoder(torch.nn.Identity())
    fails_before_any_step(
        VariationalAutoencoder(NotAVAE()),
        binary_images(8),
        ShapeError,
        r"return \(reconstruction, mean, logvar\)",
    )
