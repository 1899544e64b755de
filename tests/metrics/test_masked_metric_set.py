"""MetricSet.update with an output mask: every metric counts the real steps only, equal to
torchmetrics (or a closed form) on the selected steps, over several batches."""

import pytest
import torch
import torchmetrics.functional as TMF
import torchmetrics.functional.classification as TMC

from ember.errors import DataError
from ember.metrics import MetricSet, TopKAccuracy


def batches(shape, seed=0):
    """Two batches of (outputs, mask): right-padded masks, one row without real steps."""
    generator = torch.Generator().manual_seed(seed)
    for lengths in ([3, 1, 0], [2, 4, 4]):
        mask = torch.arange(4)[None, :] < torch.tensor(lengths)[:, None]  # (3, 4)
        yield torch.randn(3, 4, *shape, generator=generator), mask


def hit_rate(y_pred, y_true):
    return (y_pred.argmax(-1) == y_true).float().mean()


def test_multiclass_metrics_count_the_real_steps_only():
    metrics = MetricSet(
        ["accuracy", "f1", TopKAccuracy(2), "auc", "confusion_matrix", hit_rate],
        kind="multiclass",
        num_outputs=5,
        from_logits=True,
    )
    kept_outputs, kept_labels = [], []
    for index, (outputs, mask) in enumerate(batches((5,))):
        labels = torch.randint(0, 5, (3, 4), generator=torch.Generator().manual_seed(index))
        metrics.update(outputs, labels, mask)
        kept_outputs.append(outputs[mask])
        kept_labels.append(labels[mask])
    rows, labels = torch.cat(kept_outputs), torch.cat(kept_labels)  # 14 real steps of 24
    results = metrics.compute_all()
    accuracy = (rows.argmax(-1) == labels).float().mean().item()
    assert results["accuracy"] == pytest.approx(accuracy)
    assert results["hit_rate"] == pytest.approx(accuracy)  # a function sees the real steps
    f1 = TMC.multiclass_f1_score(rows.argmax(-1), labels, num_classes=5, average="macro")
    assert results["f1"] == pytest.approx(f1.item())
    top_2 = (rows.topk(2, -1).indices == labels[:, None]).any(-1).float().mean()
    assert results["top_2_accuracy"] == pytest.approx(top_2.item())
    auc = TMC.multiclass_auroc(rows.softmax(-1), labels, num_classes=5, average="macro")
    assert results["auc"] == pytest.approx(auc.item())
    assert int(results["confusion_matrix"].sum()) == len(labels) == 14


def test_regression_and_binary_metrics_count_the_real_steps_only():
    metrics = MetricSet(["mse", "mae", "r2"], kind="regression", num_outputs=2, from_logits=False)
    kept_outputs, kept_targets = [], []
    for outputs, mask in batches((2,), seed=1):
        targets = outputs + torch.linspace(-1, 1, 24).reshape(3, 4, 2)
        metrics.update(outputs, targets, mask)
        kept_outputs.append(outputs[mask])
        kept_targets.append(targets[mask])
    rows, targets = torch.cat(kept_outputs), torch.cat(kept_targets)
    results = metrics.compute()
    assert results["mse"] == pytest.approx(TMF.mean_squared_error(rows, targets).item())
    assert results["mae"] == pytest.approx(TMF.mean_absolute_error(rows, targets).item())
    assert results["r2"] == pytest.approx(TMF.r2_score(rows, targets).item())

    binary = MetricSet(["accuracy", "auc"], kind="binary", num_outputs=1, from_logits=True)
    kept_outputs, kept_labels = [], []
    for outputs, mask in batches((1,), seed=2):
        labels = (outputs.squeeze(-1) + 0.5 * torch.randn(3, 4) > 0).long()
        binary.update(outputs, labels, mask)
        kept_outputs.append(outputs[mask].squeeze(-1))
        kept_labels.append(labels[mask])
    scores, labels = torch.cat(kept_outputs), torch.cat(kept_labels)
    results = binary.compute()
    assert results["accuracy"] == pytest.approx(((scores > 0).long() == labels).float().mean())
    assert results["auc"] == pytest.approx(TMC.binary_auroc(scores.sigmoid(), labels).item())


def test_a_mask_that_does_not_fit_the_outputs_is_refused():
    metrics = MetricSet(["accuracy"], kind="multiclass", num_outputs=3, from_logits=True)
    with pytest.raises(DataError, match=r"output mask's \(2, 5\), received labels of shape"):
        metrics.update(torch.randn(2, 4, 3), torch.zeros(2, 4), torch.ones(2, 5, dtype=bool))
