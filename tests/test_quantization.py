"""ember.quantization: PT2E int8 (static, dynamic) checked against float32 PyTorch, saved and
reloaded, compiled at any batch size, and refused cleanly when it cannot apply."""

from __future__ import annotations

import pytest
import torch

from ember import layers, models, quantization
from ember.deploy import export_pt2
from ember.errors import ConfigError, ShapeError


def small_cnn(seed: int = 0) -> models.Sequential:
    torch.manual_seed(seed)
    net = models.Sequential(
        [
            layers.Conv2D(8, (3, 3), padding="same", activation="relu", input_shape=(12, 12, 1)),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            layers.Dense(16, activation="relu"),
            layers.Dense(4, activation="softmax"),
        ]
    )
    net(torch.zeros(2, 12, 12, 1))
    return net.eval()


def images(count: int, seed: int = 1) -> torch.Tensor:
    return torch.rand(count, 12, 12, 1, generator=torch.Generator().manual_seed(seed))


def test_the_layout_round_trips_between_layers_are_removed_without_changing_the_outputs():
    net = small_cnn()
    graph = quantization.capture(net, images(2), "static")
    moves = [n for n in graph.graph.nodes if n.target == torch.ops.aten.movedim.int]
    assert len(moves) == 2  # into channels-first once, back to channels-last once, before Flatten
    x = images(5)
    with torch.no_grad():
        torch.testing.assert_close(graph(x), net(x), rtol=0, atol=1e-6)


@pytest.mark.parametrize("method", ["static", "dynamic"])
def test_int8_stays_close_to_float32(method):
    net, calibration, x = small_cnn(), images(256), images(200, seed=2)
    int8 = quantization.quantize(net, calibration[:2], method, calibration)
    with torch.no_grad():
        expected, received = net(x), int8(x)
    assert (received - expected).abs().max() < 0.02  # probabilities
    assert (received.argmax(1) == expected.argmax(1)).float().mean() > 0.95
    kept = [name for name, _ in int8.named_parameters() if name.endswith("weight")]
    # The float weights int8 replaced are dropped; dynamic int8 keeps the convolution's.
    assert kept == ([] if method == "static" else ["layers.0.weight"])


def test_compiled_int8_matches_the_reference_graph_at_any_batch_size():
    net, calibration = small_cnn(), images(128)
    int8 = quantization.quantize(net, calibration[:2], "static", calibration)
    compiled = quantization.Compiled(int8)
    for size in (1, 3, 300):  # exact bucket, padded, split into chunks
        x = images(size, seed=size)
        with torch.no_grad():
            torch.testing.assert_close(compiled(x), int8(x), rtol=0, atol=2e-3)


def test_a_saved_int8_program_is_smaller_and_reloads_with_its_metadata(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(256, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 8))
    calibration = torch.randn(128, 256)
    int8 = quantization.quantize(net, calibration[:2], "static", calibration)
    path = quantization.save(int8, calibration[:2], tmp_path / "int8.pt2", {"classes": ["a"]})
    fp32 = export_pt2(net, calibration[:2], tmp_path / "fp32.pt2")
    assert fp32.stat().st_size / path.stat().st_size > 3  # 4x, less the graph and scales
    loaded, metadata = quantization.load(path)
    assert metadata == {"classes": ["a"]}
    x = torch.randn(7, 256)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), int8(x), rtol=0, atol=1e-3)
    assert not list(tmp_path.glob(".*"))  # no temporary file left


def test_bad_requests_are_refused_before_any_work():
    net, calibration = small_cnn(), images(64)
    with pytest.raises(ConfigError, match="expected method in"):
        quantization.quantize(net, calibration[:2], "int4", calibration)
    with pytest.raises(ConfigError, match="calibration"):
        quantization.quantize(net, calibration[:2], "static")
    with pytest.raises(ConfigError, match="fine-tunes"):
        quantization.quantize(net, calibration[:2], "qat")
    with pytest.raises(ShapeError, match=r"\(N, 12, 12, 1\)"):
        quantization.quantize(net, calibration[:2], "static", torch.rand(64, 28, 28, 1))
    with pytest.raises(ShapeError, match="float64"):
        quantization.quantize(net, calibration[:2], "static", calibration.double())
    no_layers = models.Sequential(
        [layers.Flatten(input_shape=(12, 12, 1)), layers.Activation("relu")]
    )
    with pytest.raises(ConfigError, match="no layer that static int8 quantizes"):
        quantization.quantize(no_layers, calibration[:2], "static", calibration)
    convolutions_only = models.Sequential(
        [layers.Conv2D(4, (3, 3), input_shape=(12, 12, 1)), layers.GlobalAveragePooling2D()]
    )
    with pytest.raises(ConfigError, match="no Dense layer"):
        quantization.quantize(convolutions_only, calibration[:2], "dynamic")
