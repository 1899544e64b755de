"""DCGAN networks: shapes and ranges, gradients, class conditioning, per-image normalisation."""

import pytest
import torch

from ember.errors import ConfigError, DataError, ShapeError
from ember.zoo.dcgan import DCGANDiscriminator, DCGANGenerator


@pytest.mark.parametrize("image_shape", [(28, 28, 1), (32, 32, 3)])
def test_generator_makes_channels_last_images_in_the_tanh_range(image_shape):
    torch.manual_seed(0)
    generator = DCGANGenerator(16, image_shape, width=8)
    with torch.no_grad():
        generator.upsample[-2].weight.mul_(1000)  # saturate: the range is tanh's, not luck
    images = generator(torch.randn(5, 16))
    assert images.shape == (5, *image_shape)
    assert images.min() >= -1 and images.max() <= 1
    assert images.min() < -0.99 and images.max() > 0.99


@pytest.mark.parametrize("image_shape", [(28, 28, 1), (32, 32, 3)])
def test_discriminator_gives_one_logit_per_image(image_shape):
    torch.manual_seed(0)
    discriminator = DCGANDiscriminator(image_shape, width=8)
    assert discriminator(torch.rand(3, *image_shape)).shape == (3,)


@pytest.mark.parametrize("num_classes", [None, 4])
def test_backward_reaches_every_parameter_with_finite_gradients(num_classes):
    torch.manual_seed(0)
    generator = DCGANGenerator(8, width=4, num_classes=num_classes)
    discriminator = DCGANDiscriminator(width=4, num_classes=num_classes)
    labels = None if num_classes is None else torch.tensor([0, 1, 3])
    args = () if labels is None else (labels,)
    discriminator(generator(torch.randn(3, 8), *args), *args).square().mean().backward()
    for network in (generator, discriminator):
        for name, parameter in network.named_parameters():
            assert parameter.grad is not None, name
            assert torch.isfinite(parameter.grad).all() and parameter.grad.abs().sum() > 0, name


def test_labels_condition_both_networks():
    torch.manual_seed(0)
    generator = DCGANGenerator(8, width=4, num_classes=3).eval()
    discriminator = DCGANDiscriminator(width=4, num_classes=3).eval()
    latents, image = torch.randn(1, 8).repeat(2, 1), torch.rand(1, 28, 28, 1).repeat(2, 1, 1, 1)
    labels = torch.tensor([0, 2])
    made = generator(latents, labels)
    assert not torch.allclose(made[0], made[1])
    # the generator's input is the noise scaled by the label's embedding
    scaled = latents * generator.label_embedding(labels)
    expected = generator.upsample(generator.project(scaled)).permute(0, 2, 3, 1)
    torch.testing.assert_close(made, expected)
    scores = discriminator(image, labels)
    assert not torch.allclose(scores[0], scores[1])
    # the discriminator reads the label as one-hot channels beside the image's
    planes = torch.zeros(2, 28, 28, 3)
    planes[0, ..., 0], planes[1, ..., 2] = 1, 1
    features = discriminator.features(torch.cat([image, planes], 3).permute(0, 3, 1, 2))
    torch.testing.assert_close(scores, discriminator.head(features).squeeze(1))


def test_layer_normalisation_judges_each_image_alone():
    torch.manual_seed(0)
    images = torch.rand(4, 28, 28, 1)
    layer = DCGANDiscriminator(width=4, normalization="layer").train()
    torch.testing.assert_close(layer(images)[:1], layer(images[:1]))
    batch = DCGANDiscriminator(width=4, normalization="batch").train()
    assert not torch.allclose(batch(images)[:1], batch(images[:2])[:1])


def test_bad_inputs_are_explained():
    with pytest.raises(ConfigError, match=r"square images .* image_shape=\(30, 30, 1\)"):
        DCGANGenerator(8, (30, 30, 1))
    with pytest.raises(ConfigError, match="image_shape=\\(28, 32, 1\\)"):
        DCGANDiscriminator((28, 32, 1))
    with pytest.raises(ConfigError, match="received latent_size=0"):
        DCGANGenerator(0)
    with pytest.raises(ConfigError, match="normalization='group'"):
        DCGANDiscriminator(normalization="group")
    with pytest.raises(ShapeError, match=r"\(N, 28, 28, 1\), received shape \(2, 1, 28, 28\)"):
        DCGANDiscriminator(width=4)(torch.rand(2, 1, 28, 28))
    with pytest.raises(ShapeError, match=r"latent vectors \(N, 8\), received shape \(2, 9\)"):
        DCGANGenerator(8, width=4)(torch.randn(2, 9))
    with pytest.raises(DataError, match="class-conditional .* received none"):
        DCGANGenerator(8, width=4, num_classes=3)(torch.randn(2, 8))
