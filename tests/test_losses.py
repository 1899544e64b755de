"""Losses against torch.nn.functional and the Keras formulas, with sample weights."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from ember import losses
from ember.errors import ConfigError, DataError, ShapeError, UnknownNameError

EPS = 1e-7
N, C = 16, 5


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def keras_reduce(per_sample: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    """Keras "sum over batch size": sum(loss_i * w_i) / N."""
    if weight is None:
        return per_sample.mean()
    return (per_sample * weight).sum() / per_sample.shape[0]


def close(a: torch.Tensor, b: torch.Tensor, atol: float = 1e-6) -> None:
    torch.testing.assert_close(a, b, atol=atol, rtol=1e-5)


# -- regression --------------------------------------------------------------------------------
@pytest.mark.parametrize("weighted", [False, True])
def test_regression_losses_match_closed_forms(generator, weighted):
    y_pred = torch.randn(N, 3, generator=generator)
    y_true = torch.randn(N, 3, generator=generator)
    weight = torch.rand(N, generator=generator) if weighted else None
    error = y_pred - y_true
    huber = torch.where(error.abs() <= 0.7, 0.5 * error**2, 0.7 * (error.abs() - 0.35))
    expected = {
        "mse": error.square().mean(1),
        "mae": error.abs().mean(1),
    }
    for name, per_sample in expected.items():
        close(losses.get(name)(y_pred, y_true, weight), keras_reduce(per_sample, weight))
    close(losses.Huber(delta=0.7)(y_pred, y_true, weight), keras_reduce(huber.mean(1), weight))


def test_unweighted_regression_losses_equal_torch_functional(generator):
    y_pred, y_true = torch.randn(N, 4, generator=generator), torch.randn(N, 4, generator=generator)
    close(losses.MeanSquaredError()(y_pred, y_true), F.mse_loss(y_pred, y_true))
    close(losses.MeanAbsoluteError()(y_pred, y_true), F.l1_loss(y_pred, y_true))
    close(losses.Huber(2.0)(y_pred, y_true), F.huber_loss(y_pred, y_true, delta=2.0))


def test_column_outputs_with_flat_targets_do_not_broadcast(generator):
    y_pred, y_true = torch.randn(N, 1, generator=generator), torch.randn(N, generator=generator)
    close(losses.MeanSquaredError()(y_pred, y_true), (y_pred.squeeze(1) - y_true).square().mean())
    with pytest.raises(ShapeError, match="shape"):
        losses.MeanSquaredError()(y_pred, torch.randn(N, 2))


def test_sample_weight_of_ones_equals_unweighted(generator):
    y_pred, y_true = torch.randn(N, 3, generator=generator), torch.randn(N, 3, generator=generator)
    for name in ["mse", "mae", "huber", "kld"]:
        loss = losses.get(name)
        close(loss(y_pred, y_true, torch.ones(N)), loss(y_pred, y_true))


def test_sample_weight_of_wrong_length_names_the_fix(generator):
    with pytest.raises(ShapeError, match="1-D weight tensor of length 16"):
        losses.get("mse")(torch.randn(N), torch.randn(N), torch.ones(N + 1))


def test_kl_divergence_matches_torch_kl_div(generator):
    p = torch.softmax(torch.randn(N, C, generator=generator), -1)
    q = torch.softmax(torch.randn(N, C, generator=generator), -1)
    close(losses.KLDivergence()(q, p), F.kl_div(q.log(), p, reduction="batchmean"))
    weight = torch.rand(N, generator=generator)
    per_sample = (p * (p / q).log()).sum(-1)
    close(losses.get("kld")(q, p, weight), keras_reduce(per_sample, weight))


# -- binary ------------------------------------------------------------------------------------
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_binary_crossentropy_matches_keras_formula(generator, weighted, smoothing):
    logits = torch.randn(N, 2, generator=generator) * 3
    y = torch.randint(0, 2, (N, 2), generator=generator).float()
    weight = torch.rand(N, generator=generator) if weighted else None
    target = y * (1 - smoothing) + 0.5 * smoothing
    p = torch.sigmoid(logits).clamp(EPS, 1 - EPS)
    per_sample = (-(target * p.log() + (1 - target) * (1 - p).log())).mean(1)
    expected = keras_reduce(per_sample, weight)
    from_probabilities = losses.BinaryCrossentropy(label_smoothing=smoothing)
    from_logits = losses.BinaryCrossentropy(from_logits=True, label_smoothing=smoothing)
    close(from_probabilities(torch.sigmoid(logits), y, weight), expected, atol=1e-5)
    close(from_logits(logits, y, weight), expected, atol=1e-5)


def test_binary_crossentropy_from_logits_equals_torch(generator):
    logits, y = (
        torch.randn(N, 1, generator=generator),
        torch.randint(0, 2, (N,), generator=generator),
    )
    expected = F.binary_cross_entropy_with_logits(logits.squeeze(1), y.float())
    close(losses.get("bce").__class__(from_logits=True)(logits, y), expected)


def test_binary_crossentropy_is_finite_at_saturated_probabilities():
    p = torch.tensor([0.0, 1.0], requires_grad=True)
    loss = losses.BinaryCrossentropy()(p, torch.tensor([1.0, 0.0]))
    loss.backward()
    clipped = p.detach().clamp(EPS, 1 - EPS)  # in float32, 1 - 1e-7 rounds to 1 - 1.19e-7
    close(loss, -(torch.log(1 - clipped[1]) + torch.log(clipped[0])) / 2)
    assert torch.isfinite(p.grad).all()


@pytest.mark.parametrize("labels", [[0, 1, 1, 0], [-1, 1, 1, -1]])
def test_hinge_losses_convert_zero_one_labels(labels):
    y_pred = torch.tensor([[0.3], [-0.5], [2.0], [-3.0]])
    signed = torch.tensor([-1.0, 1.0, 1.0, -1.0])
    margin = torch.relu(1 - signed * y_pred.squeeze(1))  # [1.3, 1.5, 0, 0]
    y = torch.tensor(labels)
    close(losses.get("hinge")(y_pred, y), margin.mean())
    close(losses.get("squared_hinge")(y_pred, y), margin.square().mean())
    weight = torch.tensor([1.0, 2.0, 1.0, 1.0])
    close(losses.Hinge()(y_pred, y, weight), (margin * weight).sum() / 4)


# -- multiclass --------------------------------------------------------------------------------
@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_categorical_crossentropy_matches_torch(generator, weighted):
    logits = torch.randn(N, C, generator=generator)
    y = torch.randint(0, C, (N,), generator=generator)
    weight = torch.rand(N, generator=generator) if weighted else None
    expected = keras_reduce(F.cross_entropy(logits, y, reduction="none"), weight)
    close(losses.SparseCategoricalCrossentropy(from_logits=True)(logits, y, weight), expected)
    probabilities = torch.softmax(logits, -1)
    close(losses.SparseCategoricalCrossentropy()(probabilities, y, weight), expected)
    column_labels = y[:, None].int()  # (N, 1) int32 labels work too
    close(losses.SparseCategoricalCrossentropy()(probabilities, column_labels, weight), expected)


def test_sparse_categorical_crossentropy_from_probabilities_is_clipped_nll():
    p = torch.tensor([[1.0, 0.0], [0.3, 0.7]])
    y = torch.tensor([1, 1])
    expected = F.nll_loss(torch.log(p.clamp(EPS, 1 - EPS)), y)
    close(losses.SparseCategoricalCrossentropy()(p, y), expected)
    assert torch.isfinite(expected)


def test_sparse_categorical_crossentropy_fast_path_is_one_cross_entropy_call(monkeypatch):
    logits, y = torch.randn(N, C), torch.randint(0, C, (N,))
    calls = []
    original = F.cross_entropy

    def counting(*args, **kwargs):
        calls.append((args, kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(F, "cross_entropy", counting)
    losses.SparseCategoricalCrossentropy(from_logits=True)(logits, y)
    assert len(calls) == 1
    (input_, target), kwargs = calls[0]
    assert input_ is logits and target is y and kwargs == {}


def test_sparse_categorical_crossentropy_on_sequences_averages_per_sample(generator):
    logits = torch.randn(4, 6, C, generator=generator)  # (N, T, C), class axis last
    y = torch.randint(0, C, (4, 6), generator=generator)
    per_token = F.cross_entropy(logits.reshape(-1, C), y.reshape(-1), reduction="none")
    per_sample = per_token.reshape(4, 6).mean(1)
    weight = torch.tensor([1.0, 0.0, 2.0, 0.5])
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    close(loss(logits, y), per_sample.mean())
    close(loss(logits, y, weight), keras_reduce(per_sample, weight))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_categorical_crossentropy_logits_and_probabilities_agree(generator, weighted, smoothing):
    logits = torch.randn(N, C, generator=generator)
    y = F.one_hot(torch.randint(0, C, (N,), generator=generator), C).float()
    weight = torch.rand(N, generator=generator) if weighted else None
    target = y * (1 - smoothing) + smoothing / C
    per_sample = -(target * torch.log_softmax(logits, -1)).sum(-1)
    expected = keras_reduce(per_sample, weight)
    with_logits = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing)
    with_probabilities = losses.CategoricalCrossentropy(label_smoothing=smoothing)
    close(with_logits(logits, y, weight), expected, atol=1e-5)
    close(with_probabilities(torch.softmax(logits, -1), y, weight), expected, atol=1e-5)


def test_categorical_crossentropy_normalises_rows_like_keras():
    p, y = torch.tensor([[0.4, 0.4]]), torch.tensor([[1.0, 0.0]])  # rows not summing to 1
    close(losses.CategoricalCrossentropy()(p, y), -torch.log(torch.tensor(0.5)))


# -- lookup ------------------------------------------------------------------------------------
def test_names_and_aliases_give_the_right_losses():
    expected = {
        "mse": losses.MeanSquaredError,
        "mean_squared_error": losses.MeanSquaredError,
        "mae": losses.MeanAbsoluteError,
        "mean_absolute_error": losses.MeanAbsoluteError,
        "huber": losses.Huber,
        "binary_crossentropy": losses.BinaryCrossentropy,
        "bce": losses.BinaryCrossentropy,
        "categorical_crossentropy": losses.CategoricalCrossentropy,
        "SparseCategoricalCrossentropy": losses.SparseCategoricalCrossentropy,
        "hinge": losses.Hinge,
        "squared_hinge": losses.SquaredHinge,
        "kl_divergence": losses.KLDivergence,
        "kld": losses.KLDivergence,
    }
    for name, cls in expected.items():
        assert type(losses.get(name)) is cls


def test_loss_attributes_describe_the_task():
    table = {
        "sparse_categorical_crossentropy": ("multiclass", "sparse"),
        "categorical_crossentropy": ("multiclass", "onehot"),
        "bce": ("binary", "any"),
        "hinge": ("binary", "any"),
        "mse": ("regression", "any"),
        "kld": ("regression", "any"),
    }
    for name, (kind, targets) in table.items():
        loss = losses.get(name)
        assert (loss.kind, loss.targets) == (kind, targets)
    assert losses.get("mse").from_logits is False
    assert losses.get("bce").from_logits is False


def test_unknown_loss_name_suggests_close_matches():
    with pytest.raises(UnknownNameError, match="Did you mean 'binary_crossentropy'"):
        losses.get("binary_crossentropyy")


def test_unknown_loss_name_lists_the_known_losses():
    with pytest.raises(UnknownNameError, match=r"Known losses: .*mean_squared_error"):
        losses.get("cross_entropy_loss")


def test_get_returns_loss_instances_unchanged_and_rejects_non_losses():
    loss = losses.Huber(2.0)
    assert losses.get(loss) is loss
    assert isinstance(losses.get(losses.Hinge), losses.Hinge)
    with pytest.raises(ConfigError, match="received 3"):
        losses.get(3)


def test_torch_losses_are_wrapped_with_sample_weight_and_kind(generator):
    logits, y = (
        torch.randn(N, C, generator=generator),
        torch.randint(0, C, (N,), generator=generator),
    )
    weight = torch.rand(N, generator=generator)
    loss = losses.get(torch.nn.CrossEntropyLoss())
    assert (loss.kind, loss.from_logits) == ("multiclass", True)
    close(loss(logits, y), F.cross_entropy(logits, y))
    close(
        loss(logits, y, weight), keras_reduce(F.cross_entropy(logits, y, reduction="none"), weight)
    )
    assert loss.loss.reduction == "mean"  # the user's module is left as it was
    kinds = {
        torch.nn.NLLLoss(): ("multiclass", True),
        torch.nn.BCEWithLogitsLoss(): ("binary", True),
        torch.nn.BCELoss(): ("binary", False),
        torch.nn.MSELoss(): ("regression", False),
    }
    for module, expected in kinds.items():
        wrapped = losses.get(module)
        assert (wrapped.kind, wrapped.from_logits) == expected
    y_pred, y_true = torch.randn(N, 2, generator=generator), torch.randn(N, 2, generator=generator)
    per_sample = (y_pred - y_true).square().mean(1)
    close(losses.get(torch.nn.MSELoss())(y_pred, y_true, weight), keras_reduce(per_sample, weight))


def test_plain_functions_are_wrapped(generator):
    y_pred, y_true = torch.randn(N, 3, generator=generator), torch.randn(N, 3, generator=generator)
    weight = torch.rand(N, generator=generator)

    def cubic(y_pred, y_true):
        return (y_pred - y_true).abs() ** 3

    loss = losses.get(cubic)
    per_sample = ((y_pred - y_true).abs() ** 3).mean(1)
    assert (loss.kind, loss.from_logits) == ("regression", False)
    close(loss(y_pred, y_true), per_sample.mean())
    close(loss(y_pred, y_true, weight), keras_reduce(per_sample, weight))
    scalar = losses.get(lambda y_pred, y_true: (y_pred - y_true).square().mean())
    close(scalar(y_pred, y_true), F.mse_loss(y_pred, y_true))
    with pytest.raises(ConfigError, match="return one loss per sample"):
        scalar(y_pred, y_true, weight)


# -- logits_version ----------------------------------------------------------------------------
def test_logits_version_fuses_softmax_and_sigmoid_with_crossentropy():
    sparse = losses.logits_version(losses.SparseCategoricalCrossentropy(), "softmax")
    assert isinstance(sparse, losses.SparseCategoricalCrossentropy) and sparse.from_logits
    smooth = losses.logits_version(losses.CategoricalCrossentropy(label_smoothing=0.1), "Softmax")
    assert smooth.from_logits and smooth.label_smoothing == 0.1
    binary = losses.logits_version(losses.BinaryCrossentropy(label_smoothing=0.2), "sigmoid")
    assert isinstance(binary, losses.BinaryCrossentropy) and binary.from_logits
    assert binary.label_smoothing == 0.2
    assert losses.logits_version(losses.BinaryCrossentropy(), "softmax") is None
    assert losses.logits_version(losses.CategoricalCrossentropy(), "sigmoid") is None
    assert (
        losses.logits_version(losses.SparseCategoricalCrossentropy(from_logits=True), "softmax")
        is None
    )
    assert losses.logits_version(losses.MeanSquaredError(), "sigmoid") is None
    assert losses.logits_version(losses.SparseCategoricalCrossentropy(), None) is None


def test_logits_version_computes_the_same_loss(generator):
    logits = torch.randn(N, C, generator=generator)
    y = torch.randint(0, C, (N,), generator=generator)
    loss = losses.SparseCategoricalCrossentropy()
    fused = losses.logits_version(loss, "softmax")
    close(fused(logits, y), loss(torch.softmax(logits, -1), y))


# -- validate_targets --------------------------------------------------------------------------
def test_validate_targets_accepts_good_labels():
    losses.validate_targets(losses.get("scce"), torch.tensor([0, 9, 3]), 10)
    losses.validate_targets(losses.get("scce"), torch.tensor([[0], [9]]), 10)
    losses.validate_targets(losses.get("cce"), F.one_hot(torch.tensor([0, 9]), 10).float(), 10)
    losses.validate_targets(losses.get("bce"), torch.tensor([0.0, 1.0, 0.3]), 1)
    losses.validate_targets(losses.get("hinge"), torch.tensor([-1, 1]), 1)
    losses.validate_targets(losses.get("mse"), torch.randn(5, 3), 3)


@pytest.mark.parametrize(
    "loss, y, outputs, message",
    [
        ("scce", torch.tensor([0, 11]), 10, r"labels in \[0, 10\).*received labels from 0 to 11"),
        ("scce", torch.tensor([0, 11]), 10, "give the last layer 12 units"),
        ("scce", torch.tensor([-1, 3]), 10, "received labels from -1 to 3"),
        (
            "scce",
            torch.eye(10),
            10,
            r"one-hot labels of shape \(10, 10\): use categorical_crossentropy",
        ),
        ("scce", torch.tensor([0.5, 1.0]), 10, "fractional values. Fix: pass class indices"),
        ("scce", torch.tensor([0, 1]), 1, "use binary_crossentropy with a sigmoid output"),
        ("cce", torch.tensor([0, 3]), 10, "use sparse_categorical_crossentropy"),
        ("cce", torch.eye(5), 10, r"shape \(5, 5\). Fix: give the last layer 5 units"),
        (
            "bce",
            torch.tensor([-1.0, 1.0]),
            1,
            r"targets in \[0, 1\], received targets from -1 to 1",
        ),
        ("bce", torch.tensor([0, 4]), 1, "use sparse_categorical_crossentropy"),
        ("bce", torch.tensor([[0.0, 1.0]]), 1, r"expects 1 target value\(s\) per sample"),
        ("mse", torch.randn(4, 2), 1, "give the last layer 2 units"),
        ("mse", torch.tensor([1.0, float("nan")]), 1, "NaN"),
    ],
)
def test_validate_targets_names_the_problem_and_fix(loss, y, outputs, message):
    with pytest.raises(DataError, match=message):
        losses.validate_targets(losses.get(loss), y, outputs)


def test_wrapped_torch_loss_keeps_class_weights_through_deep_copies(generator):

    logits, y = (
        torch.randn(N, C, generator=generator),
        torch.randint(0, C, (N,), generator=generator),
    )
    class_weight, weight = torch.rand(C, generator=generator), torch.rand(N, generator=generator)
    loss = copy.deepcopy(losses.get(torch.nn.CrossEntropyLoss(weight=class_weight)))
    per_sample = F.cross_entropy(logits, y, weight=class_weight, reduction="none")
    close(loss(logits, y, weight), keras_reduce(per_sample, weight))
    loss.loss.weight.mul_(2)  # the per-sample copy shares the wrapped module's buffers
    close(loss(logits, y, weight), 2 * keras_reduce(per_sample, weight))


def test_torch_functionals_as_losses_know_their_kind_and_skip_label_checks(generator):
    loss = losses.get(F.cross_entropy)
    assert (loss.kind, loss.from_logits) == ("multiclass", True)
    logits, y = (
        torch.randn(N, C, generator=generator),
        torch.randint(0, C, (N,), generator=generator),
    )
    close(loss(logits, y), F.cross_entropy(logits, y))
    custom = losses.get(lambda y_pred, y_true: F.cross_entropy(y_pred, y_true, reduction="none"))
    losses.validate_targets(custom, y, C)  # a user's function: no guesses about its labels
    losses.validate_targets(losses.get(torch.nn.MultiMarginLoss()), y, C)
