"""The autoencoder task against torch's losses: denoising, sparsity, training, bad inputs."""

import pytest
import torch
import torch.nn.functional as F
from failing_fits import fails_before_any_step

import ember
from ember.errors import ConfigError, DataError, ShapeError
from ember.tasks.autoencoder import Autoencoder, gaussian_noise, masking_noise
from ember.zoo.autoencoders import ConvAutoencoder, DenseAutoencoder


class Recorder(torch.nn.Module):
    """Remembers its input and returns a fixed guess: shows what the task fed and compared."""

    def __init__(self):
        super().__init__()
        self.guess = torch.nn.Parameter(torch.tensor(0.3))

    def forward(self, x):
        self.seen = x.clone()
        return self.guess.expand_as(x)


def images(n=16, shape=(6, 6, 1), seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, *shape, generator=generator)


def test_bce_and_mse_match_torch_on_the_reconstructions():
    torch.manual_seed(0)
    net = DenseAutoencoder((6, 6, 1), hidden=(8,), code_size=2)
    x = images(5)
    out = Autoencoder(net).training_step((x,))
    torch.testing.assert_close(out["loss"], F.binary_cross_entropy(net(x), x))
    torch.testing.assert_close(out["reconstruction"], out["loss"])
    out = Autoencoder(net, "mse").training_step((x, torch.zeros(5)))  # labels are ignored
    torch.testing.assert_close(out["loss"], F.mse_loss(net(x), x))
    plain = torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(36, 36),
        torch.nn.Sigmoid(),
        torch.nn.Unflatten(1, (6, 6, 1)),
    )
    out = Autoencoder(plain).training_step((x,))  # no logits: BCE on its probabilities
    torch.testing.assert_close(out["loss"], F.binary_cross_entropy(plain(x), x))


def test_sparsity_adds_the_weighted_l1_norm_of_the_codes():
    torch.manual_seed(0)
    net = DenseAutoencoder((6, 6, 1), hidden=(8,), code_size=3)
    x = images(5)
    out = Autoencoder(net, sparsity=0.01).training_step((x,))
    l1 = net.encode(x).abs().sum(1).mean()
    torch.testing.assert_close(out["sparsity"], l1)
    torch.testing.assert_close(out["reconstruction"], F.binary_cross_entropy(net(x), x))
    torch.testing.assert_close(out["loss"], out["reconstruction"] + 0.01 * l1)


def test_sparsity_needs_encode_and_decode():
    with pytest.raises(ConfigError, match="needs encode.*has no encode and decode"):
        Autoencoder(torch.nn.Identity(), sparsity=0.1)


@pytest.mark.parametrize("noise", ["gaussian", "masking"])
def test_denoising_noise_is_applied_in_training_only_and_the_target_stays_clean(noise):
    task = Autoencoder(Recorder(), noise=noise, noise_level=0.4)
    x = images(8) * 0.9 + 0.05  # no zeros, so masked pixels are visible
    out = task.training_step((x,))
    assert not torch.equal(task.module.seen, x)
    assert 0 <= task.module.seen.min() and task.module.seen.max() <= 1
    torch.testing.assert_close(out["loss"], F.binary_cross_entropy(torch.full_like(x, 0.3), x))
    task.validation_step((x,))
    assert torch.equal(task.module.seen, x)


def test_masking_noise_zeroes_about_the_requested_fraction_of_pixels():
    task = Autoencoder(Recorder(), noise="masking", noise_level=0.3)
    task.training_step((torch.ones(20, 30, 30, 3),))
    seen = task.module.seen
    zeroed = (seen == 0).all(-1).float().mean().item()  # all channels of a pixel at once
    assert abs(zeroed - 0.3) < 0.02
    assert torch.equal((seen == 0).any(-1), (seen == 0).all(-1))
    flat = masking_noise(torch.ones(50, 400), 0.1)  # flat data: single values
    assert abs((flat == 0).float().mean().item() - 0.1) < 0.01


def test_gaussian_noise_has_the_requested_std_and_is_clipped():
    torch.manual_seed(0)
    x = torch.full((100_000,), 0.5)
    assert abs((gaussian_noise(x, 0.1) - x).std().item() - 0.1) < 0.002
    clipped = gaussian_noise(torch.full((10_000,), 0.9), 0.3)
    assert clipped.max() == 1 and (clipped == 1).float().mean() > 0.3


def test_a_noise_function_is_used_as_given():
    task = Autoencoder(Recorder(), noise=lambda x: 1 - x)
    x = images(3)
    task.training_step((x,))
    torch.testing.assert_close(task.module.seen, 1 - x)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"noise": "salt"}, "noise='gaussian', 'masking'.*received noise='salt'"),
        ({"noise": "masking", "noise_level": 1.0}, r"fraction in \[0, 1\).*noise_level=1.0"),
        ({"noise": "gaussian", "noise_level": -0.1}, "non-negative std.*noise_level=-0.1"),
        ({"loss": "l1"}, "received loss='l1'"),
        ({"sparsity": -1}, "sparsity=-1"),
    ],
)
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Autoencoder(DenseAutoencoder((4,), code_size=2), **kwargs)


def structured_images(n=64):
    """Images spanned by two patterns: an autoencoder with a 2-D code can learn them."""
    generator = torch.Generator().manual_seed(0)
    patterns = torch.rand(2, 36, generator=generator)
    weights = torch.rand(n, 2, generator=generator)
    return (weights @ patterns / 2).view(n, 6, 6, 1)


@pytest.mark.parametrize(
    "make",
    [
        lambda: DenseAutoencoder((6, 6, 1), hidden=(16,), code_size=2),
        lambda: ConvAutoencoder((6, 6, 1), code_size=2, filters=(4,)),
    ],
)
def test_trainer_fit_reduces_the_reconstruction_loss(make):
    torch.manual_seed(0)
    x = structured_images()
    task = Autoencoder(make(), "mse", noise="gaussian", noise_level=0.05, sparsity=1e-4)
    trainer = ember.Trainer(task, ember.optimizers.Adam(0.01), epochs=15, device="cpu")
    history = trainer.fit(x, x, batch_size=16, verbose=0).history
    assert set(history) >= {"loss", "reconstruction", "sparsity", "val_loss", "val_reconstruction"}
    assert history["reconstruction"][-1] < 0.5 * history["reconstruction"][0]
    assert trainer.predict(x).shape == x.shape


def test_a_decoder_output_of_another_shape_is_explained_with_both_shapes():
    net = DenseAutoencoder((6, 6, 1), code_size=2)
    flat = images(8).view(8, 36)  # runs (36 values) but comes back as (6, 6, 1)
    fails_before_any_step(Autoencoder(net), flat, ShapeError, r"\(2, 6, 6, 1\).*\(2, 36\)")


def test_data_the_model_cannot_run_on_is_explained():
    net = DenseAutoencoder((6, 6, 1), code_size=2)
    fails_before_any_step(
        Autoencoder(net), images(8, (5, 5, 1)), ShapeError, r"input_shape=\(5, 5, 1\)"
    )


def test_images_outside_0_1_with_bce_say_the_range_and_suggest_dividing_by_255():
    net = DenseAutoencoder((6, 6, 1), code_size=2)
    pixels = images(8) * 255
    fails_before_any_step(
        Autoencoder(net), pixels, DataError, r"\[0, 1\], found values from .* to 25\d.*x / 255.0"
    )
    fails_before_any_step(
        Autoencoder(net), pixels.round().to(torch.uint8), DataError, "float images.*255"
    )
    ember.Trainer(Autoencoder(net, "mse"), epochs=1, device="cpu").fit(pixels, verbose=0)
