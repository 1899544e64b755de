"""The VAE model against torch.distributions: reparameterisation, KL, likelihoods, latent views."""

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

from ember.errors import ConfigError
from ember.zoo.vae import VAE, interpolate, latent_grid, standard_normal_kl


def small_vae(**kwargs):
    torch.manual_seed(0)
    return VAE((6, 6, 1), **{"latent_size": 3, "hidden": (16,), **kwargs})


def test_reparameterisation_gradients_flow_to_mean_and_logvar():
    vae = small_vae()
    mean = torch.randn(5, 3, requires_grad=True)
    logvar = torch.randn(5, 3, requires_grad=True)
    torch.manual_seed(1)
    z = vae.reparameterize(mean, logvar)
    torch.manual_seed(1)
    noise = torch.randn(5, 3)  # the same draw
    torch.testing.assert_close(z, mean + (0.5 * logvar).exp() * noise)
    z.sum().backward()
    # dz/dmean = 1 and dz/dlogvar = exp(logvar / 2) * noise / 2
    torch.testing.assert_close(mean.grad, torch.ones(5, 3))
    torch.testing.assert_close(logvar.grad, 0.5 * (0.5 * logvar.detach()).exp() * noise)


def test_kl_equals_the_closed_form_and_torch_distributions():
    torch.manual_seed(0)
    mean, logvar = torch.randn(7, 4, dtype=torch.float64), torch.randn(7, 4, dtype=torch.float64)
    kl = standard_normal_kl(mean, logvar)
    assert kl.shape == (7,)
    variance = logvar.exp()
    closed_form = 0.5 * (variance + mean**2 - 1 - logvar).sum(1)
    posterior = Normal(mean, variance.sqrt())
    prior = Normal(torch.zeros_like(mean), torch.ones_like(mean))
    torch.testing.assert_close(kl, closed_form)
    torch.testing.assert_close(kl, kl_divergence(posterior, prior).sum(1))
    assert standard_normal_kl(torch.zeros(2, 3), torch.zeros(2, 3)).abs().max() == 0


def test_codes_samples_and_reconstructions_have_documented_shapes():
    vae = small_vae()
    images = torch.rand(4, 6, 6, 1)
    mean, logvar = vae.encode(images)
    assert mean.shape == logvar.shape == (4, 3)
    output = vae(images)
    assert output.reconstruction.shape == (4, 6, 6, 1)
    torch.testing.assert_close(output.mean, mean)
    torch.testing.assert_close(vae.decode_images(mean), torch.sigmoid(vae.decode(mean)))
    torch.testing.assert_close(vae.reconstruct(images), torch.sigmoid(vae.decode(mean)))
    samples = vae.sample(9)
    assert samples.shape == (9, 6, 6, 1) and 0 <= samples.min() and samples.max() <= 1
    assert not samples.requires_grad


def test_sampling_is_reproducible_with_a_generator():
    vae = small_vae()
    first = vae.sample(3, generator=torch.Generator().manual_seed(5))
    second = vae.sample(3, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(first, second)
    z = torch.randn(3, 3, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(first, torch.sigmoid(vae.decode(z)))


def test_forward_draws_z_even_in_eval_mode():
    vae = small_vae().eval()
    images = torch.rand(2, 6, 6, 1)
    assert not torch.equal(vae(images).reconstruction, vae(images).reconstruction)
    torch.testing.assert_close(vae.reconstruct(images), vae.reconstruct(images))


def test_bernoulli_reconstruction_loss_is_summed_binary_cross_entropy():
    vae = small_vae()
    logits, x = torch.randn(4, 6, 6, 1), torch.rand(4, 6, 6, 1)
    per_image = vae.reconstruction_loss(logits, x)
    assert per_image.shape == (4,)
    expected = F.binary_cross_entropy(torch.sigmoid(logits), x, reduction="sum") / 4
    torch.testing.assert_close(per_image.mean(), expected)


@pytest.mark.parametrize("decoder_std", [None, 0.2])
def test_gaussian_reconstruction_loss_is_the_normal_negative_log_density(decoder_std):
    vae = small_vae(decoder="gaussian", decoder_std=decoder_std)
    means, x = torch.randn(4, 6, 6, 1), torch.randn(4, 6, 6, 1)
    std = 1.0 if decoder_std is None else decoder_std
    expected = F.gaussian_nll_loss(means, x, torch.full_like(x, std**2), full=True, reduction="sum")
    torch.testing.assert_close(vae.reconstruction_loss(means, x).sum(), expected)
    learned = [name for name, _ in vae.named_parameters() if name == "log_std"]
    assert learned == (["log_std"] if decoder_std is None else [])
    torch.testing.assert_close(vae.decode_images(torch.zeros(1, 3)), vae.decode(torch.zeros(1, 3)))


def test_interpolation_runs_from_one_reconstruction_to_the_other():
    vae = small_vae()
    a, b = torch.rand(6, 6, 1), torch.rand(6, 6, 1)
    path = interpolate(vae, a, b, steps=4)
    assert path.shape == (4, 6, 6, 1)
    torch.testing.assert_close(path[0], vae.reconstruct(a[None])[0])
    torch.testing.assert_close(path[-1], vae.reconstruct(b[None])[0])
    middle = (vae.encode(a[None])[0] + vae.encode(b[None])[0]) / 2
    halfway = interpolate(vae, a, b, steps=3)[1]
    torch.testing.assert_close(halfway, vae.decode_images(middle)[0])
    assert interpolate(vae, torch.rand(2, 6, 6, 1), torch.rand(2, 6, 6, 1), 5).shape == (
        2,
        5,
        6,
        6,
        1,
    )
    with pytest.raises(ConfigError, match="steps=1"):
        interpolate(vae, a, b, steps=1)


def test_latent_grid_decodes_the_prior_quantiles_like_a_plot():
    vae = small_vae(latent_size=2)
    grid = latent_grid(vae, size=5)
    assert grid.shape == (5, 5, 6, 6, 1)
    torch.testing.assert_close(grid[2, 2], vae.decode_images(torch.zeros(1, 2))[0])
    low, high = Normal(0.0, 1.0).icdf(torch.tensor([0.05, 0.95]))
    top_left = vae.decode_images(torch.stack([low, high])[None])[0]  # x smallest, y largest
    torch.testing.assert_close(grid[0, 0], top_left)
    bottom_right = vae.decode_images(torch.stack([high, low])[None])[0]
    torch.testing.assert_close(grid[-1, -1], bottom_right)
    with pytest.raises(ConfigError, match="latent_size=3.*latent_size=2"):
        latent_grid(small_vae(), size=5)


@pytest.mark.parametrize("latent_size", [0, -1])
def test_latent_size_must_be_positive(latent_size):
    with pytest.raises(ConfigError, match=f"received latent_size={latent_size}"):
        VAE((6, 6, 1), latent_size=latent_size)


def test_bad_decoder_settings_are_named():
    with pytest.raises(ConfigError, match="decoder='poisson'"):
        VAE((6, 6, 1), decoder="poisson")
    with pytest.raises(ConfigError, match="decoder_std=0.1 with decoder='bernoulli'"):
        VAE((6, 6, 1), decoder_std=0.1)
    with pytest.raises(ConfigError, match="decoder_std=0"):
        VAE((6, 6, 1), decoder="gaussian", decoder_std=0)
