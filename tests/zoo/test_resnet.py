"""SmallResNet: shapes, gradients, its parameter count, channels-last inputs, eval determinism."""

import pytest
import torch

from ember.errors import ConfigError, ShapeError
from ember.zoo.resnet import SmallResNet


def _channels_first_forward(net: SmallResNet, x: torch.Tensor) -> torch.Tensor:
    """The network's layers run by hand on a contiguous (N, C, H, W) copy of ``x``."""
    features = net.blocks(net.stem(x.permute(0, 3, 1, 2).contiguous()))
    return net.head(net.pool(features).flatten(1))


@pytest.mark.parametrize("stem_stride, widths", [(1, (8, 16)), (2, (8, 16, 32))])
def test_forward_returns_one_logit_per_class(stem_stride, widths):
    torch.manual_seed(0)
    net = SmallResNet(num_classes=7, widths=widths, stem_stride=stem_stride)
    logits = net(torch.rand(5, 28, 28, 1))
    assert logits.shape == (5, 7)
    assert logits.dtype == torch.float32


def test_backward_gives_finite_gradients_for_every_parameter():
    torch.manual_seed(0)
    net = SmallResNet(widths=(8, 16), blocks_per_stage=2, dropout=0.1)
    loss = torch.nn.functional.cross_entropy(net(torch.rand(4, 28, 28, 1)), torch.arange(4))
    loss.backward()
    for name, parameter in net.named_parameters():
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name
    # Residual branches start as the identity (zero last-norm scale), yet that scale still learns.
    assert net.blocks[0].bn2.weight.grad.abs().sum() > 0
    assert net.stem[0].weight.grad.abs().sum() > 0


def test_channels_last_input_matches_a_channels_first_reference():
    torch.manual_seed(0)
    net = SmallResNet(widths=(8, 16), stem_stride=2).eval()
    for module in net.modules():  # give the residual branches weight, so that they are tested too
        if isinstance(module, torch.nn.BatchNorm2d):
            torch.nn.init.uniform_(module.weight, 0.5, 1.5)
    x = torch.rand(3, 28, 28, 1)  # Keras layout (N, H, W, C)
    with torch.no_grad():
        torch.testing.assert_close(net(x), _channels_first_forward(net, x), atol=1e-5, rtol=1e-5)


def test_channels_first_input_is_rejected_with_the_fix():
    net = SmallResNet(widths=(8,))
    with pytest.raises(ShapeError, match=r"expects channels-last images \(N, H, W, 1\)"):
        net(torch.rand(2, 1, 28, 28))


def test_parameter_count_matches_the_architecture():
    def conv(in_channels, out_channels, kernel):
        return in_channels * out_channels * kernel * kernel  # no bias: a norm follows

    def norm(channels):
        return 2 * channels  # scale and shift

    stem = conv(1, 4, 3) + norm(4)
    block_4_to_4 = 2 * (conv(4, 4, 3) + norm(4))  # identity shortcut
    block_4_to_8 = conv(4, 8, 3) + conv(8, 8, 3) + 2 * norm(8) + conv(4, 8, 1) + norm(8)
    head = 8 * 3 + 3
    net = SmallResNet(num_classes=3, widths=(4, 8), blocks_per_stage=1)
    assert sum(p.numel() for p in net.parameters()) == stem + block_4_to_4 + block_4_to_8 + head
    assert stem + block_4_to_4 + block_4_to_8 + head == 1319


def test_eval_mode_is_deterministic():
    torch.manual_seed(0)
    net = SmallResNet(widths=(8, 16), dropout=0.5)
    x = torch.rand(4, 28, 28, 1)
    net.train()
    net(x)  # moves the batch-norm running statistics away from their initial values
    net.eval()
    with torch.no_grad():
        assert torch.equal(net(x), net(x))
        # One image's logits do not depend on the rest of the batch (running statistics).
        torch.testing.assert_close(net(x[:1]), net(x)[:1], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"widths": ()}, "received widths=()"),
        ({"widths": (8, 0)}, r"received widths=\(8, 0\)"),
        ({"blocks_per_stage": 0}, "received blocks_per_stage=0"),
        ({"dropout": 1.0}, "received dropout=1.0"),
    ],
)
def test_bad_configuration_is_rejected(arguments, message):
    with pytest.raises(ConfigError, match=message):
        SmallResNet(**arguments)


def test_stem_pool_and_flatten_head_give_the_documented_shapes_and_parameters():
    # 28 -> stem pool 14 -> stride-2 stages 7 -> 4: the head sees 16 * 4 * 4 features.
    net = SmallResNet(num_classes=10, widths=(8, 16, 16), stem_pool=True, head="flatten")
    assert net.head.in_features == 16 * 4 * 4
    features = net.blocks(net.stem(torch.rand(2, 1, 28, 28)))
    assert features.shape == (2, 16, 4, 4)
    assert net(torch.rand(2, 28, 28, 1)).shape == (2, 10)


def test_flatten_head_matches_a_channels_first_reference():
    torch.manual_seed(0)
    net = SmallResNet(widths=(8, 16), stem_pool=True, head="flatten").eval()
    x = torch.rand(3, 28, 28, 1)
    with torch.no_grad():
        torch.testing.assert_close(net(x), _channels_first_forward(net, x), atol=1e-5, rtol=1e-5)


def test_flatten_head_rejects_another_image_size_with_the_fix():
    net = SmallResNet(widths=(8,), head="flatten", image_size=28)
    with pytest.raises(ShapeError, match=r"built for 28x28 images.*image_size=32"):
        net(torch.rand(2, 32, 32, 1))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"head": "max"}, r"head='pool' or head='flatten'"),
        ({"widths": (4,), "stem_pool": True, "image_size": 1}, r"to nothing"),
    ],
)
def test_bad_head_options_are_rejected(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        SmallResNet(**kwargs)
