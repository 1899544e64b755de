"""SampleGrid: one PNG per epoch, of fixed noise, tiled as documented, leaving training alone."""

import numpy as np
import pytest
import torch
from matplotlib.image import imread

import ember
from ember.callbacks.sample_grid import SampleGrid, image_grid, save_png
from ember.errors import ConfigError
from ember.tasks.gan import GAN
from ember.zoo.dcgan import DCGANDiscriminator, DCGANGenerator


def small_gan(seed=0, num_classes=None):
    torch.manual_seed(seed)
    return GAN(
        DCGANGenerator(8, width=4, num_classes=num_classes),
        DCGANDiscriminator(width=4, num_classes=num_classes),
        latent_size=8,
        conditional=num_classes is not None,
        num_classes=num_classes,
    )


def fit(gan, callbacks, epochs=2, labels=None):
    torch.manual_seed(1)
    x = torch.rand(32, 28, 28, 1, generator=torch.Generator().manual_seed(2))
    data = x if labels is None else (x, labels)
    trainer = ember.Trainer(gan, epochs=epochs, callbacks=callbacks, device="cpu")
    trainer.fit(data, batch_size=16, verbose=0)


def test_one_png_per_epoch_showing_the_generator_on_fixed_noise(tmp_path):
    gan = small_gan()
    grids = SampleGrid(gan, tmp_path / "samples", num_samples=6, columns=3, seed=5, padding=2)
    fit(gan, [grids])
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == [
        "epoch-001.png",
        "epoch-002.png",
    ]
    noise = torch.randn(6, 8, generator=torch.Generator().manual_seed(5))
    assert torch.equal(grids.noise, noise)  # drawn once, from the callback's own seed
    expected = image_grid(gan.generate(noise).numpy(), columns=3, padding=2)[..., 0]
    saved = imread(tmp_path / "samples" / "epoch-002.png")[..., 0]  # grey saved as RGBA
    assert saved.shape == (2 * 30 + 2, 3 * 30 + 2) == expected.shape
    np.testing.assert_allclose(saved, expected, atol=1 / 255 + 1e-6)  # 8-bit pixels


def test_the_callback_leaves_training_exactly_as_it_was(tmp_path):
    plain, watched = small_gan(), small_gan()
    fit(plain, [])
    fit(watched, [SampleGrid(watched, tmp_path, num_samples=4)])
    for key, value in plain.module.state_dict().items():
        assert torch.equal(watched.module.state_dict()[key], value), key


def test_a_conditional_grid_has_one_column_per_class(tmp_path):
    gan = small_gan(num_classes=3)
    grids = SampleGrid(gan, tmp_path, num_samples=6, padding=1)
    fit(gan, [grids], epochs=1, labels=torch.arange(32) % 3)
    assert grids.columns == 3 and grids.labels.tolist() == [0, 1, 2, 0, 1, 2]
    assert imread(grids.paths[0]).shape[:2] == (2 * 29 + 1, 3 * 29 + 1)


def test_image_grid_places_images_row_by_row_on_white():
    images = np.stack([np.full((2, 2, 1), i / 10) for i in range(5)])  # image i is all i/10
    grid = image_grid(images, columns=3, padding=1)
    assert grid.shape == (7, 10, 1)
    assert grid[1, 1, 0] == 0.0 and grid[1, 4, 0] == 0.1 and grid[1, 7, 0] == 0.2
    assert grid[4, 1, 0] == 0.3 and grid[4, 4, 0] == 0.4
    assert grid[4, 7, 0] == 1.0 and grid[0, 0, 0] == 1.0  # the empty cell and the padding


def test_a_task_without_a_generator_is_refused(tmp_path):
    task = ember.Supervised(torch.nn.Linear(2, 2), "mse")
    with pytest.raises(ConfigError, match="has no generate"):  # at once, before any training
        SampleGrid(task, tmp_path)
    with pytest.raises(ConfigError, match="num_samples=0"):
        SampleGrid(small_gan(), tmp_path, num_samples=0)


def test_save_png_scale_repeats_each_pixel_into_a_block(tmp_path):
    image = np.array([[[0.0], [1.0]], [[1.0], [0.0]]])  # a 2x2 checkerboard
    save_png(image, tmp_path / "big.png", scale=3)
    saved = imread(tmp_path / "big.png")[..., 0]
    np.testing.assert_allclose(saved, np.kron(image[..., 0], np.ones((3, 3))), atol=1 / 255)
