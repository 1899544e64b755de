"""ember.explain: each heat map against a reference (autograd, Captum's LayerGradCam, the
completeness of integrated gradients), in either image layout, with clean refusals."""

from __future__ import annotations

import pytest
import torch
from captum.attr import LayerAttribution, LayerGradCam

from ember import explain, layers, models
from ember.errors import ConfigError, ShapeError
from ember.explain import grad_cam, integrated_gradients


def twin_cnns() -> tuple[models.Sequential, torch.nn.Module]:
    """The same CNN twice: ember's (channels last, softmax) and torch's (channels first, logits)."""
    torch.manual_seed(0)
    ember_net = models.Sequential(
        [
            layers.Conv2D(4, (3, 3), activation="relu", input_shape=(10, 10, 1)),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )
    ember_net(torch.zeros(1, 10, 10, 1))
    conv = torch.nn.Conv2d(1, 4, 3)
    dense = torch.nn.Linear(4 * 8 * 8, 3)
    with torch.no_grad():
        conv.weight.copy_(ember_net.layers[0].weight)
        conv.bias.copy_(ember_net.layers[0].bias)
        # ember flattens (H, W, C); torch flattens (C, H, W): reorder the Dense weights' inputs.
        weight = ember_net.layers[2].weight.view(3, 8, 8, 4).permute(0, 3, 1, 2).reshape(3, -1)
        dense.weight.copy_(weight)
        dense.bias.copy_(ember_net.layers[2].bias)
    torch_net = torch.nn.Sequential(conv, torch.nn.ReLU(), torch.nn.Flatten(), dense).eval()
    return ember_net.eval(), torch_net


def images(count: int = 5) -> torch.Tensor:
    return torch.rand(count, 10, 10, 1, generator=torch.Generator().manual_seed(3))


def test_saliency_is_the_gradient_of_the_class_logit():
    net, _ = twin_cnns()
    x = images()
    target = torch.tensor([0, 1, 2, 0, 1])
    x_grad = x.clone().requires_grad_(True)
    net.logits(x_grad).gather(1, target.view(-1, 1)).sum().backward()
    expected = x_grad.grad.abs().amax(dim=3)
    torch.testing.assert_close(explain.explain(net, x, "saliency", target), expected)


def test_grad_cam_matches_captum_and_does_not_depend_on_the_layout():
    ember_net, torch_net = twin_cnns()
    x = images()
    target = torch.tensor([2, 1, 0, 2, 1])
    ours = grad_cam(ember_net, x, target)
    channels_first = x.permute(0, 3, 1, 2)
    # ember's Conv2D applies its ReLU inside, so torch's twin is explained at its ReLU.
    after_relu = torch_net[1]
    reference = LayerGradCam(torch_net, after_relu).attribute(
        channels_first, target=target, relu_attributions=True
    )
    reference = LayerAttribution.interpolate(reference, (10, 10), "bilinear")[:, 0]
    torch.testing.assert_close(ours, reference, rtol=1e-4, atol=1e-5)
    theirs = grad_cam(torch_net, channels_first, target, layer=after_relu)
    torch.testing.assert_close(theirs, reference, rtol=1e-4, atol=1e-5)


def test_integrated_gradients_are_complete_and_too_few_steps_are_refused():
    net, _ = twin_cnns()
    x = images()
    target = torch.tensor([0, 1, 2, 0, 1])
    attributions, gap = integrated_gradients(net, x, target, steps=64)
    with torch.no_grad():
        change = (net.logits(x) - net.logits(torch.zeros_like(x))).gather(1, target.view(-1, 1))
    sums = attributions.flatten(1).sum(1)
    assert (sums - change.view(-1)).abs().max() <= 0.01 * change.abs().max()
    assert gap.abs().max() < 1e-2
    torch.manual_seed(0)  # a curved score (tanh): one point cannot integrate its gradient
    curved = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(100, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3)
    )
    with torch.no_grad():
        curved[1].weight.mul_(20)
    with pytest.raises(ConfigError, match="incomplete with 1 steps.*steps=4"):
        integrated_gradients(curved, x, target, steps=1)
    integrated_gradients(curved, x, target, steps=256)  # enough points: complete


def test_smoothgrad_averages_noisy_saliency_and_leaves_the_model_as_it_was():
    net, _ = twin_cnns()
    net.train()
    x = images(3)
    torch.manual_seed(0)
    maps = explain.explain(net, x, "smoothgrad", samples=8)
    assert maps.shape == (3, 10, 10) and (maps >= 0).all() and maps.sum() > 0
    assert net.training


def test_bad_requests_name_the_problem():
    net, _ = twin_cnns()
    with pytest.raises(ConfigError, match="gradcam"):
        explain.explain(net, images(), "lime")
    dense_only = models.Sequential(
        [layers.Flatten(input_shape=(10, 10, 1)), layers.Dense(3, activation="softmax")]
    )
    with pytest.raises(
        ConfigError,
        match=r"Conv2D or torch.nn.Conv2d\), and Sequential has none \(its layers: Flatten, Dense\)",
    ):
        explain.explain(dense_only, images(), "gradcam")
    with pytest.raises(ShapeError, match="batch of float images"):
        explain.explain(net, images()[0], "saliency")
    with pytest.raises(ConfigError, match="no layer named 'conv9'"):
        grad_cam(net, images(), torch.zeros(5, dtype=torch.long), layer="conv9")


def test_grad_cam_works_through_a_frozen_backbone():
    net, _ = twin_cnns()
    for parameter in net.parameters():
        parameter.requires_grad_(False)
    maps = grad_cam(net, images(), torch.tensor([0, 1, 2, 0, 1]))
    assert maps.shape == (5, 10, 10) and (maps >= 0).all()
