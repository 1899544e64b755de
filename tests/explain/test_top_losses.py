"""ember.explain.top_losses: per-sample losses equal torch's cross-entropy, ranked largest first,
for ember and torch classifiers in either image layout; the grid's titles; clean refusals."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import ember
from ember import explain, layers, models
from ember.errors import ConfigError, DataError, ShapeError
from ember.explain.top_losses import MISTAKE_COLOR, TopLosses

PNG = b"\x89PNG\r\n\x1a\n"
NAMES = ["ant", "bee", "cat"]


def torch_cnn() -> torch.nn.Module:
    """Channels first, logits out, with dropout and batch norm (which eval mode must settle)."""
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.5),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 6 * 6, 3),
    )


def ember_cnn() -> models.Sequential:
    """Channels last, softmax out: scored through its logits."""
    torch.manual_seed(1)
    net = models.Sequential(
        [
            layers.Conv2D(4, (3, 3), activation="relu", input_shape=(8, 8, 1)),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )
    net(torch.zeros(1, 8, 8, 1))
    return net


def data(count: int = 23, channels_last: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(2)
    shape = (count, 8, 8, 1) if channels_last else (count, 1, 8, 8)
    return torch.rand(shape, generator=generator), torch.randint(
        0, 3, (count,), generator=generator
    )


def assert_matches_reference(result: TopLosses, logits: torch.Tensor, y: torch.Tensor, k: int):
    reference = F.cross_entropy(logits, y, reduction="none")  # (N,)
    order = reference.argsort(descending=True)[:k]
    assert result.indices.tolist() == order.tolist()
    torch.testing.assert_close(result.losses, reference[order])
    probabilities = logits.softmax(-1)[order]
    assert result.predictions.tolist() == probabilities.argmax(-1).tolist()
    assert result.labels.tolist() == y[order].tolist()
    torch.testing.assert_close(result.predicted_probabilities, probabilities.max(-1).values)
    torch.testing.assert_close(result.true_probabilities, probabilities[torch.arange(k), y[order]])


def test_losses_are_torchs_cross_entropy_ranked_largest_first_channels_first():
    net, (x, y) = torch_cnn().eval(), data()
    result = explain.top_losses(net, x, y, k=7, batch_size=5)  # batches of 5: a ragged last one
    with torch.no_grad():
        logits = net(x)
    assert_matches_reference(result, logits, y, k=7)
    assert (result.losses[:-1] >= result.losses[1:]).all()


def test_an_ember_softmax_model_is_scored_on_its_logits_channels_last():
    net, (x, y) = ember_cnn().eval(), data(channels_last=True)
    result = explain.top_losses(net, x, y, k=5)
    with torch.no_grad():
        logits = net.logits(x)
    assert_matches_reference(result, logits, y, k=5)


def test_a_plain_module_ending_in_softmax_is_read_as_probabilities():
    logits_net = torch_cnn()
    probability_net = torch.nn.Sequential(logits_net, torch.nn.Softmax(dim=1)).eval()
    x, y = data()
    result = explain.top_losses(probability_net, x, y, k=6)
    with torch.no_grad():
        logits = logits_net(x)
    assert_matches_reference(result, logits, y, k=6)


def test_an_ember_model_wrapping_a_module_is_scored_on_the_modules_output():
    inner = torch_cnn().eval()
    x, y = data()
    result = explain.top_losses(ember.Model(inner), x, y, k=4)
    with torch.no_grad():
        logits = inner(x)
    assert_matches_reference(result, logits, y, k=4)


def test_a_custom_loss_replaces_the_cross_entropy():
    net, (x, y) = torch_cnn().eval(), data()

    def smoothed(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(scores, labels, reduction="none", label_smoothing=0.2)

    result = explain.top_losses(net, x, y, k=23, loss=smoothed)
    with torch.no_grad():
        reference = smoothed(net(x), y)
    torch.testing.assert_close(result.losses, reference[result.indices])
    assert result.indices.tolist() == reference.argsort(descending=True).tolist()


def test_k_beyond_the_data_keeps_every_sample_once():
    net, (x, y) = torch_cnn().eval(), data(count=4)
    result = explain.top_losses(net, x, y, k=50)
    assert sorted(result.indices.tolist()) == [0, 1, 2, 3]
    assert all(len(field) == 4 for field in result)


def test_equal_losses_keep_their_data_order():
    probabilities = torch.tensor([[0.5, 0.5], [0.9, 0.1], [0.5, 0.5], [0.5, 0.5]])
    labels = torch.tensor([0, 1, 1, 0])
    losses = -probabilities[torch.arange(4), labels].log()
    result = TopLosses.from_losses(losses, probabilities, labels, k=4)
    assert result.indices.tolist() == [1, 0, 2, 3]


def test_the_model_keeps_its_mode_weights_gradients_and_running_statistics():
    net, (x, y) = torch_cnn().train(), data()
    net[1].eval()  # a frozen batch norm held in eval mode inside a training model stays so
    net(x).sum().backward()  # some gradients to keep
    before = {name: tensor.clone() for name, tensor in net.state_dict().items()}
    gradients = [p.grad.clone() for p in net.parameters()]
    first = explain.top_losses(net, x, y, k=5)
    second = explain.top_losses(net, x, y, k=5)
    assert [module.training for module in net.modules()] == [
        True,
        True,
        False,
        True,
        True,
        True,
        True,
    ]
    for name, tensor in net.state_dict().items():
        assert torch.equal(tensor, before[name]), name  # batch norm's statistics too
    assert all(torch.equal(p.grad, g) for p, g in zip(net.parameters(), gradients))
    assert torch.equal(first.losses, second.losses)  # eval mode: dropout off


def test_plot_top_losses_titles_prediction_truth_loss_and_probability_of_truth(tmp_path):
    result = TopLosses(
        indices=torch.tensor([2, 0]),
        losses=torch.tensor([3.2189, 0.6931]),
        predictions=torch.tensor([1, 2]),
        labels=torch.tensor([0, 2]),
        predicted_probabilities=torch.tensor([0.9, 0.5]),
        true_probabilities=torch.tensor([0.04, 0.5]),
    )
    images = torch.rand(3, 1, 6, 5)  # channels first
    figure = explain.plot_top_losses(images, result, NAMES, tmp_path / "top.png")
    texts = figure.axes[0].texts
    assert [t.get_text() for t in texts[:2]] == ["bee / ant\n3.22 / 0.04", "cat / cat\n0.69 / 0.50"]
    assert [t.get_color() for t in texts[:2]] == [MISTAKE_COLOR, "black"]
    assert "probability of truth" in texts[2].get_text()
    assert (tmp_path / "top.png").read_bytes()[:8] == PNG
    mosaic = torch.as_tensor(figure.axes[0].images[0].get_array()).float()  # (H', W', RGB)
    tiles = mosaic[..., 0].unfold(0, 6, 1).unfold(1, 5, 1)  # every 6x5 window
    found = [(tiles == picture[0]).flatten(2).all(-1).any().item() for picture in images]
    assert found == [True, False, True]  # images 2 and 0 drawn, 1 not


def test_bad_arguments_are_refused_before_any_work():
    net, (x, y) = torch_cnn().eval(), data()
    with pytest.raises(ConfigError, match="positive integer, received k=0"):
        explain.top_losses(net, x, y, k=0)
    with pytest.raises(ConfigError, match="received batch_size=0"):
        explain.top_losses(net, x, y, batch_size=0)
    with pytest.raises(ShapeError, match="23 inputs and 22 labels"):
        explain.top_losses(net, x, y[:-1])
    with pytest.raises(DataError, match="received -1"):
        explain.top_losses(net, x, torch.cat([y[:-1], torch.tensor([-1])]))
    with pytest.raises(DataError, match="below the model's 3 classes, received label 3"):
        explain.top_losses(net, x, torch.cat([y[:-1], torch.tensor([3])]))
    with pytest.raises(DataError, match="y.argmax"):
        explain.top_losses(net, x, F.one_hot(y, 3).float())
    with pytest.raises(ConfigError, match="loss must be a function"):
        explain.top_losses(net, x, y, loss="mse")
    with pytest.raises(ShapeError, match="reduction='none'"):
        explain.top_losses(net, x, y, loss=F.cross_entropy)
    with pytest.raises(ShapeError, match=r"one row of class scores.*\(5, 1, 6, 6\)"):
        explain.top_losses(torch.nn.Conv2d(1, 1, 3), x[:5], y[:5])


def test_plot_top_losses_refuses_images_or_names_that_do_not_fit():
    net, (x, y) = torch_cnn().eval(), data()
    result = explain.top_losses(net, x, y, k=5)
    with pytest.raises(ShapeError, match="pass the same x"):
        explain.plot_top_losses(x[:2], result, NAMES)
    with pytest.raises(ConfigError, match="received 2 class names"):
        explain.plot_top_losses(x, result._replace(labels=torch.full((5,), 2)), NAMES[:2])
    with pytest.raises(ShapeError, match=r"received \(23, 64\)"):
        explain.plot_top_losses(x.flatten(1), result, NAMES)
