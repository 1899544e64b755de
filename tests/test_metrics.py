"""MetricSet against scikit-learn, with data split over several update() calls."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchmetrics
from sklearn import metrics as sk

from ember.errors import ConfigError, DataError, UnknownNameError
from ember.metrics import METRICS, MetricSet, TopKAccuracy, get

N, C, CHUNKS = 240, 6, 4


def feed(metrics: MetricSet, outputs: torch.Tensor, y: torch.Tensor) -> None:
    for output_chunk, y_chunk in zip(outputs.chunk(CHUNKS), y.chunk(CHUNKS), strict=True):
        metrics.update(output_chunk, y_chunk)


@pytest.fixture
def multiclass() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    y = torch.randint(0, C, (N,), generator=generator)
    logits = torch.randn(N, C, generator=generator) + 1.5 * torch.nn.functional.one_hot(y, C)
    return logits, y


@pytest.fixture
def binary() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    y = torch.randint(0, 2, (N,), generator=generator)
    logits = torch.randn(N, 1, generator=generator) + y[:, None] - 0.5
    return logits, y


def test_multiclass_metrics_match_scikit_learn(multiclass):
    logits, y = multiclass
    names = ["accuracy", "precision", "recall", "f1", "f1_micro", "precision_micro", "recall_macro"]
    metrics = MetricSet(
        [*names, "auc", "average_precision", "top_k_accuracy", TopKAccuracy(2), "specificity"],
        kind="multiclass",
        num_outputs=C,
        from_logits=True,
    )
    feed(metrics, logits, y)
    result = metrics.compute()
    probabilities = torch.softmax(logits, -1).numpy()
    labels, predicted = y.numpy(), logits.argmax(-1).numpy()
    onehot = np.eye(C)[labels]
    confusion = sk.confusion_matrix(labels, predicted, labels=range(C))
    negatives = confusion.sum() - confusion.sum(1)  # per class: samples of other classes
    false_positives = confusion.sum(0) - np.diag(confusion)
    expected = {
        "accuracy": sk.accuracy_score(labels, predicted),
        "precision": sk.precision_score(labels, predicted, average="macro"),
        "recall": sk.recall_score(labels, predicted, average="macro"),
        "f1": sk.f1_score(labels, predicted, average="macro"),
        "f1_micro": sk.f1_score(labels, predicted, average="micro"),
        "precision_micro": sk.precision_score(labels, predicted, average="micro"),
        "recall_macro": sk.recall_score(labels, predicted, average="macro"),
        "auc": sk.roc_auc_score(labels, probabilities, multi_class="ovr", average="macro"),
        "average_precision": sk.average_precision_score(onehot, probabilities, average="macro"),
        "top_k_accuracy": sk.top_k_accuracy_score(labels, probabilities, k=5, labels=range(C)),
        "top_2_accuracy": sk.top_k_accuracy_score(labels, probabilities, k=2, labels=range(C)),
        "specificity": np.mean((negatives - false_positives) / negatives),
    }
    assert metrics.names == list(expected)
    assert result.keys() == expected.keys()
    for name, value in expected.items():
        assert result[name] == pytest.approx(value, abs=1e-5), name


def test_per_class_metrics_and_confusion_matrix_match_scikit_learn(multiclass):
    logits, y = multiclass
    specs = ["f1_per_class", "precision_per_class", "recall_per_class", "confusion_matrix"]
    metrics = MetricSet(specs, kind="multiclass", num_outputs=C, from_logits=True)
    feed(metrics, logits, y)
    labels, predicted = y.numpy(), logits.argmax(-1).numpy()
    f1 = sk.f1_score(labels, predicted, average=None)
    precision = sk.precision_score(labels, predicted, average=None)
    recall = sk.recall_score(labels, predicted, average=None)
    assert "confusion_matrix" not in metrics.names
    assert metrics.names[:C] == [f"f1_class_{i}" for i in range(C)]
    result = metrics.compute()
    for i in range(C):
        assert result[f"f1_class_{i}"] == pytest.approx(f1[i], abs=1e-5)
        assert result[f"precision_class_{i}"] == pytest.approx(precision[i], abs=1e-5)
        assert result[f"recall_class_{i}"] == pytest.approx(recall[i], abs=1e-5)
    everything = metrics.compute_all()
    np.testing.assert_array_equal(
        everything["confusion_matrix"].numpy(), sk.confusion_matrix(labels, predicted)
    )
    np.testing.assert_allclose(everything["f1_per_class"].numpy(), f1, atol=1e-5)


@pytest.mark.parametrize("target_form", ["column", "onehot"])
def test_multiclass_targets_may_be_columns_or_one_hot(multiclass, target_form):
    logits, y = multiclass
    targets = y[:, None] if target_form == "column" else torch.eye(C)[y]
    metrics = MetricSet(["acc", "f1"], kind="multiclass", num_outputs=C, from_logits=True)
    feed(metrics, logits, targets)
    predicted = logits.argmax(-1).numpy()
    result = metrics.compute()
    assert result["acc"] == pytest.approx(sk.accuracy_score(y.numpy(), predicted))
    assert result["f1"] == pytest.approx(sk.f1_score(y.numpy(), predicted, average="macro"))


def test_probability_outputs_give_the_same_metrics_as_logits(multiclass):
    logits, y = multiclass
    specs = ["accuracy", "auc", "top5"]
    from_logits = MetricSet(specs, kind="multiclass", num_outputs=C, from_logits=True)
    from_probabilities = MetricSet(specs, kind="multiclass", num_outputs=C, from_logits=False)
    feed(from_logits, logits, y)
    feed(from_probabilities, torch.softmax(logits, -1), y)
    assert from_logits.compute() == pytest.approx(from_probabilities.compute(), abs=1e-6)


@pytest.mark.parametrize("from_logits", [True, False])
def test_binary_metrics_match_scikit_learn(binary, from_logits):
    logits, y = binary
    outputs = logits if from_logits else torch.sigmoid(logits)
    specs = ["accuracy", "precision", "recall", "f1", "auc", "average_precision", "specificity"]
    metrics = MetricSet(
        [*specs, "confusion_matrix"], kind="binary", num_outputs=1, from_logits=from_logits
    )
    feed(metrics, outputs, y)
    labels, scores = y.numpy(), torch.sigmoid(logits).squeeze(1).numpy()
    predicted = (logits.squeeze(1) > 0).long().numpy()
    (tn, fp), _ = sk.confusion_matrix(labels, predicted)
    expected = {
        "accuracy": sk.accuracy_score(labels, predicted),
        "precision": sk.precision_score(labels, predicted),
        "recall": sk.recall_score(labels, predicted),
        "f1": sk.f1_score(labels, predicted),
        "auc": sk.roc_auc_score(labels, scores),
        "average_precision": sk.average_precision_score(labels, scores),
        "specificity": tn / (tn + fp),
    }
    result = metrics.compute_all()
    for name, value in expected.items():
        assert result[name] == pytest.approx(value, abs=1e-5), name
    np.testing.assert_array_equal(
        result["confusion_matrix"].numpy(), sk.confusion_matrix(labels, predicted)
    )


def test_binary_accuracy_handles_minus_one_labels_and_column_targets(binary):
    logits, y = binary
    metrics = MetricSet(["accuracy"], kind="binary", num_outputs=1, from_logits=True)
    feed(metrics, logits, (2 * y - 1)[:, None])
    predicted = (logits.squeeze(1) > 0).long().numpy()
    assert metrics.compute()["accuracy"] == pytest.approx(sk.accuracy_score(y.numpy(), predicted))


@pytest.mark.parametrize("outputs", [1, 3])
def test_regression_metrics_match_scikit_learn(outputs):
    generator = torch.Generator().manual_seed(2)
    y = torch.randn(N, outputs, generator=generator)
    y_pred = y + 0.5 * torch.randn(N, outputs, generator=generator)
    targets = y.squeeze(1) if outputs == 1 else y  # (N,) targets against (N, 1) outputs
    metrics = MetricSet(
        ["mse", "mean_absolute_error", "r2"], kind="regression", num_outputs=outputs,
        from_logits=False,
    )  # fmt: skip
    feed(metrics, y_pred, targets)
    result = metrics.compute()
    assert result["mse"] == pytest.approx(sk.mean_squared_error(y, y_pred), rel=1e-5)
    assert result["mean_absolute_error"] == pytest.approx(
        sk.mean_absolute_error(y, y_pred), rel=1e-5
    )
    assert result["r2"] == pytest.approx(sk.r2_score(y, y_pred), rel=1e-4)


def test_compute_mid_stream_is_not_destructive(multiclass):
    logits, y = multiclass
    metrics = MetricSet(
        ["accuracy", "f1", "auc"], kind="multiclass", num_outputs=C, from_logits=True
    )
    half = N // 2
    metrics.update(logits[: half // 2], y[: half // 2])
    metrics.update(logits[half // 2 : half], y[half // 2 : half])
    first_half = metrics.compute()
    assert metrics.compute() == first_half  # twice in a row: the same
    predicted = logits.argmax(-1).numpy()
    assert first_half["f1"] == pytest.approx(
        sk.f1_score(y[:half].numpy(), predicted[:half], average="macro"), abs=1e-5
    )
    metrics.update(logits[half:], y[half:])
    everything = metrics.compute()
    assert everything["accuracy"] == pytest.approx(sk.accuracy_score(y.numpy(), predicted))
    assert everything["f1"] == pytest.approx(
        sk.f1_score(y.numpy(), predicted, average="macro"), abs=1e-5
    )
    probabilities = torch.softmax(logits, -1).numpy()
    assert everything["auc"] == pytest.approx(
        sk.roc_auc_score(y.numpy(), probabilities, multi_class="ovr"), abs=1e-5
    )


def test_reset_forgets_previous_batches(multiclass):
    logits, y = multiclass
    metrics = MetricSet(["accuracy", "recall"], kind="multiclass", num_outputs=C, from_logits=True)
    metrics.update(logits, (y + 1) % C)  # every label wrong
    metrics.reset()
    assert metrics.compute() == {}
    metrics.update(logits[:60], y[:60])
    predicted = logits[:60].argmax(-1).numpy()
    assert metrics.compute()["accuracy"] == pytest.approx(
        sk.accuracy_score(y[:60].numpy(), predicted)
    )


def test_accuracy_alone_keeps_a_running_count_not_the_predictions(multiclass):
    logits, y = multiclass
    metrics = MetricSet(["accuracy"], kind="multiclass", num_outputs=C, from_logits=True)
    feed(metrics, logits, y)
    assert metrics._predictions == [] and metrics._scores == [] and metrics._targets == []
    assert metrics._correct.item() == int((logits.argmax(-1) == y).sum())


def test_functions_and_torchmetrics_objects_are_accepted(multiclass):
    logits, y = multiclass

    def mean_logit(y_pred, y_true):
        return y_pred.mean()

    metric = torchmetrics.classification.MulticlassAccuracy(num_classes=C, average="micro")
    metrics = MetricSet([mean_logit, metric], kind="multiclass", num_outputs=C, from_logits=True)
    feed(metrics, logits, y)
    result = metrics.compute()
    assert metrics.names == ["multiclass_accuracy", "mean_logit"]
    assert result["mean_logit"] == pytest.approx(logits.mean().item(), abs=1e-6)
    predicted = logits.argmax(-1).numpy()
    assert result["multiclass_accuracy"] == pytest.approx(sk.accuracy_score(y.numpy(), predicted))
    assert metrics.compute() == result  # the torchmetrics object is fed again, not twice


def test_log_names_are_the_names_given_as_in_keras_and_deduplicated():
    metrics = MetricSet(
        ["acc", "accuracy", "roc_auc", "top5", "precision_macro", "acc", TopKAccuracy(3)],
        kind="multiclass",
        num_outputs=10,
        from_logits=True,
    )
    names = ["acc", "accuracy", "roc_auc", "top5", "precision_macro", "top_3_accuracy"]
    assert metrics.names == names
    assert len(metrics) == 6
    assert "top_k_categorical_accuracy" in METRICS


def test_unknown_metric_name_suggests_close_matches():
    with pytest.raises(UnknownNameError, match="Did you mean 'accuracy'"):
        MetricSet(["acuracy"], kind="multiclass", num_outputs=3, from_logits=True)


def test_class_metrics_for_a_regression_loss_explain_the_fix():
    with pytest.raises(ConfigError, match="regression loss.*Fix: use a classification loss"):
        MetricSet(["accuracy"], kind="regression", num_outputs=1, from_logits=False)
    with pytest.raises(ConfigError, match="compares values"):
        MetricSet(["mse"], kind="multiclass", num_outputs=3, from_logits=True)
    with pytest.raises(ConfigError, match="k < 3"):
        MetricSet(["top5"], kind="multiclass", num_outputs=3, from_logits=True)


def test_mismatched_labels_raise_data_error():
    metrics = MetricSet(["accuracy"], kind="multiclass", num_outputs=3, from_logits=True)
    with pytest.raises(DataError, match="one label per output row"):
        metrics.update(torch.randn(4, 3), torch.zeros(5, dtype=torch.long))


def test_get_resolves_names_before_any_data():
    assert get("f1_micro").log_name == "f1_micro"
    assert get(TopKAccuracy(3)).log_name == "top_3_accuracy"
    with pytest.raises(UnknownNameError, match="Did you mean 'accuracy'"):
        get("acuracy")
