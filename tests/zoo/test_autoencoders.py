"""Dense and convolutional autoencoders: documented shapes, sigmoid outputs, bad settings."""

import pytest
import torch

from ember.errors import ConfigError
from ember.zoo.autoencoders import ConvAutoencoder, DenseAutoencoder


def test_dense_autoencoder_codes_and_reconstructions_have_documented_shapes():
    torch.manual_seed(0)
    net = DenseAutoencoder((6, 5, 2), hidden=(16, 8), code_size=3)
    images = torch.rand(4, 6, 5, 2)
    assert net.encode(images).shape == (4, 3)
    output = net(images)
    assert output.shape == (4, 6, 5, 2)
    assert 0 < output.min() and output.max() < 1


def test_dense_autoencoder_mirrors_its_hidden_layers():
    net = DenseAutoencoder((10,), hidden=(7, 5), code_size=2)
    encoder = [m.out_features for m in net.encoder if isinstance(m, torch.nn.Linear)]
    decoder = [m.out_features for m in net.decoder if isinstance(m, torch.nn.Linear)]
    assert encoder == [7, 5, 2]
    assert decoder == [5, 7, 10]
    assert DenseAutoencoder((10,), hidden=(), code_size=2).encode(torch.rand(3, 10)).shape == (3, 2)


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3), (7, 9, 2), (5, 5, 1)])
def test_conv_autoencoder_gives_back_the_input_shape(shape):
    torch.manual_seed(0)
    net = ConvAutoencoder(shape, code_size=4, filters=(4, 8, 8))
    images = torch.rand(2, *shape)
    assert net.encode(images).shape == (2, 4)
    assert net(images).shape == (2, *shape)


def test_decode_is_the_sigmoid_of_decode_logits():
    torch.manual_seed(0)
    for net in (DenseAutoencoder((4, 4, 1), code_size=2), ConvAutoencoder((4, 4, 1), code_size=2)):
        code = torch.randn(3, 2)
        torch.testing.assert_close(net.decode(code), torch.sigmoid(net.decode_logits(code)))
        torch.testing.assert_close(
            net(torch.ones(3, 4, 4, 1)), net.decode(net.encode(torch.ones(3, 4, 4, 1)))
        )


def test_gradients_reach_every_parameter_and_are_finite():
    torch.manual_seed(0)
    for net in (DenseAutoencoder((8, 8, 1), code_size=3), ConvAutoencoder((8, 8, 3), code_size=3)):
        images = torch.rand(2, *net.input_shape)
        net(images).sum().backward()
        for name, parameter in net.named_parameters():
            assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name


@pytest.mark.parametrize("code_size", [0, -3, 2.5, True])
def test_code_size_must_be_a_positive_integer(code_size):
    with pytest.raises(ConfigError, match=f"received code_size={code_size!r}"):
        DenseAutoencoder((4, 4, 1), code_size=code_size)
    with pytest.raises(ConfigError, match="code_size"):
        ConvAutoencoder((4, 4, 1), code_size=code_size)


def test_bad_layer_settings_are_named():
    with pytest.raises(ConfigError, match=r"hidden=\(64, 0\)"):
        DenseAutoencoder((4,), hidden=(64, 0))
    with pytest.raises(ConfigError, match=r"height, width, channels.*\(28, 28, 1\)"):
        ConvAutoencoder((28, 28), code_size=2)
    with pytest.raises(ConfigError, match="filters"):
        ConvAutoencoder((28, 28, 1), code_size=2, filters=())
