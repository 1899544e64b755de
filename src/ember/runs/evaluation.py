"""Evaluate a run's network on a split: metrics for ``metrics.jsonl``, details for the report.

:func:`classification_metrics` gives the macro scores logged for a split, and
:func:`classification_scores` the per-class scores, ROC curves and confusion matrix of the report.

``evaluation/<split>.safetensors`` holds the class probabilities and labels of every sample, an
image classifier's top losses (its highest-loss images, right or wrong, with their loss and the
probability of their true class: fastai's top losses) or a text classifier's most confidently
wrong texts (in its metadata), which the report shows, and :func:`save_feature_maps` draws the
split's penultimate features in 2-D beside them.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from torchmetrics.functional.classification import (
    multiclass_accuracy,
    multiclass_auroc,
    multiclass_confusion_matrix,
    multiclass_f1_score,
    multiclass_precision,
    multiclass_recall,
    multiclass_roc,
)

from ember.errors import DataError
from ember.explain.top_losses import SMALLEST_PROBABILITY, TopLosses
from ember.plots.feature_maps import feature_map
from ember.recipes.experiment import Experiment
from ember.saving import save_tensors

TOP_LOSSES = 24  # how many highest-loss test images the report shows
WRONG_TEXTS = 24  # how many most confidently wrong test texts the report lists
TOP_LOSSES_PREFIX = "top_losses."  # + a field of TopLosses: the file's keys for them


def classification_metrics(probabilities: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """Loss (mean negative log-likelihood), accuracy and macro precision, recall, F1, ROC-AUC.

    Example:
        >>> p = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
        >>> metrics = classification_metrics(p, torch.tensor([0, 1, 1]))
        >>> round(metrics["accuracy"], 4), round(metrics["loss"], 4)
        (0.6667, 0.4149)
    """
    classes = probabilities.shape[-1]
    loss = torch.nn.functional.nll_loss(probabilities.clamp_min(1e-12).log(), labels)
    arguments = {"num_classes": classes, "average": "macro"}
    return {
        "loss": float(loss),
        "accuracy": float(
            multiclass_accuracy(probabilities, labels, num_classes=classes, average="micro")
        ),
        "precision": float(multiclass_precision(probabilities, labels, **arguments)),
        "recall": float(multiclass_recall(probabilities, labels, **arguments)),
        "f1": float(multiclass_f1_score(probabilities, labels, **arguments)),
        "roc_auc": float(multiclass_auroc(probabilities, labels, **arguments)),
    }


def classification_scores(probabilities: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
    """Per-class and macro scores of (N, C) probabilities against (N,) labels, via torchmetrics.

    ROC-AUC is undefined for a class that is absent from ``labels``: it is NaN there and left
    out of the macro mean.

    Example:
        >>> import torch
        >>> scores = classification_scores(torch.eye(3)[[0, 1, 2, 2]], torch.tensor([0, 1, 2, 1]))
        >>> scores["recall"].tolist(), scores["confusion_matrix"][1].tolist()
        ([1.0, 0.5, 1.0], [0, 1, 1])
    """
    num_classes = probabilities.shape[1]
    args = (probabilities.float(), labels.long(), num_classes)
    support = torch.bincount(labels.long(), minlength=num_classes)
    with warnings.catch_warnings():  # a class without positives: handled below
        warnings.filterwarnings("ignore", message="No (positive|negative) samples in targets")
        false_positive_rates, true_positive_rates, _ = multiclass_roc(*args)
        auroc = multiclass_auroc(*args, average=None).double()
    auroc[(support == 0) | (support == len(labels))] = float("nan")
    return {
        "precision": multiclass_precision(*args, average=None),
        "recall": multiclass_recall(*args, average=None),
        "f1": multiclass_f1_score(*args, average=None),
        "support": support,
        "accuracy": multiclass_accuracy(*args, average="micro").item(),
        "precision (macro)": multiclass_precision(*args, average="macro").item(),
        "recall (macro)": multiclass_recall(*args, average="macro").item(),
        "F1 (macro)": multiclass_f1_score(*args, average="macro").item(),
        "ROC-AUC (macro, one-vs-rest)": auroc.nanmean().item(),
        "auroc": auroc,
        "roc": (false_positive_rates, true_positive_rates),
        "confusion_matrix": multiclass_confusion_matrix(*args),
    }


def evaluate_split(
    experiment: Experiment, split: str, run_dir: Path | None = None
) -> tuple[dict[str, Any], torch.Tensor | None]:
    """Metrics (with the time taken) and, for classification, class probabilities for ``split``.

    A language model's metrics are its task's: the loss in nats per token, bits per token,
    next-token accuracy, and the perplexity ``exp(loss)``. A custom evaluator's are its own; its
    plots go to ``run_dir/evaluation/<split>/``.
    """
    start = time.perf_counter()
    if experiment.evaluator is not None:
        out_dir = Path(run_dir or ".") / "evaluation" / split
        out_dir.mkdir(parents=True, exist_ok=True)
        metrics = dict(experiment.evaluator(experiment, split, out_dir))
        probabilities = None
    elif experiment.evaluation == "language_model":
        metrics = experiment.trainer.evaluate(experiment.batches(split), verbose=0)
        metrics["perplexity"] = math.exp(min(metrics["loss"], 700.0))
        probabilities = None
    else:
        x, y = experiment.data.split(split)
        probabilities = experiment.probabilities(x)
        metrics = classification_metrics(probabilities, y)
    metrics["time"] = round(time.perf_counter() - start, 4)
    return metrics, probabilities


def save_evaluation(
    run_dir: Path, split: str, experiment: Experiment, probabilities: torch.Tensor | None
) -> Path | None:
    """Write ``evaluation/<split>.safetensors`` for the report (classification runs only).

    An image's loss is the negative log of its true class's probability (the probabilities
    the metrics are computed from, so a test-time-augmented average where the run has one).
    """
    if probabilities is None:
        return None
    x, labels = experiment.data.split(split)
    probabilities, labels = probabilities.float(), labels.long()
    tensors = {"probabilities": probabilities, "labels": labels}
    metadata = {"class_names": json.dumps(experiment.data.class_names)}
    if x.ndim == 4:  # images (N, H, W, C): the report draws the top losses
        true_probabilities = probabilities.gather(1, labels.view(-1, 1))[:, 0]
        losses = -true_probabilities.clamp_min(SMALLEST_PROBABILITY).log()
        top = TopLosses.from_losses(losses, probabilities, labels, TOP_LOSSES)
        tensors |= {TOP_LOSSES_PREFIX + name: value for name, value in top._asdict().items()}
        tensors[TOP_LOSSES_PREFIX + "images"] = x[top.indices].float()
    texts = getattr(experiment.data, "texts", None)
    if texts is not None and split in texts:  # text runs: the report lists the snippets
        confidence, predicted = probabilities.max(-1)
        wrong = (predicted != labels).nonzero().flatten()
        worst = wrong[confidence[wrong].argsort(descending=True)[:WRONG_TEXTS]]
        tensors["wrong_labels"] = labels[worst]
        tensors["wrong_predictions"] = predicted[worst]
        tensors["wrong_confidences"] = confidence[worst]
        metadata["wrong_texts"] = json.dumps([texts[split][i] for i in worst.tolist()])
    path = Path(run_dir) / "evaluation" / f"{split}.safetensors"
    path.parent.mkdir(exist_ok=True)
    save_tensors(tensors, path, metadata=metadata)
    return path


def read_evaluation(path: Path) -> tuple[dict[str, torch.Tensor], list[str], list[str]] | None:
    """A classification run's ``evaluation/<split>.safetensors``: its tensors, class names and
    wrong texts; None if there is no such file or it holds no class probabilities."""
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), "pt") as file:
            metadata = file.metadata() or {}
            tensors = {key: file.get_tensor(key) for key in file.keys()}
    except (SafetensorError, OSError, ValueError) as error:
        raise DataError(
            f"{path} is not a readable safetensors file ({error}). "
            f"Fix: write it again with `ember evaluate {path.parent.parent}`."
        ) from error
    probabilities, labels = tensors.get("probabilities"), tensors.get("labels")
    if probabilities is None or labels is None:
        return None  # not a classification run: nothing per class to show
    if probabilities.ndim != 2 or labels.shape != (len(probabilities),):
        raise DataError(
            f"expected probabilities (N, C) and labels (N,) in {path}, received shapes "
            f"{tuple(probabilities.shape)} and {tuple(labels.shape)}"
        )
    num_classes = probabilities.shape[1]
    try:
        class_names = [str(name) for name in json.loads(metadata.get("class_names", "[]"))]
    except ValueError:
        class_names = []
    if len(class_names) != num_classes:
        class_names = [str(index) for index in range(num_classes)]
    try:
        wrong_texts = [str(text) for text in json.loads(metadata.get("wrong_texts", "[]"))]
    except ValueError:
        wrong_texts = []
    return tensors, class_names, wrong_texts


def stored_top_losses(tensors: dict[str, torch.Tensor]) -> tuple[torch.Tensor, TopLosses] | None:
    """The top-loss images and their :class:`~ember.explain.top_losses.TopLosses` (indices into
    the test set) that :func:`save_evaluation` stored; None for a file without them (a text
    run, or a run evaluated before top losses)."""
    keys = [TOP_LOSSES_PREFIX + name for name in (*TopLosses._fields, "images")]
    if not all(key in tensors for key in keys):
        return None
    *fields, images = (tensors[key] for key in keys)
    top = TopLosses(*fields)
    count, classes = len(images), tensors["probabilities"].shape[1]
    shapes = [tuple(field.shape) for field in top]
    largest = int(torch.cat([top.labels, top.predictions, torch.zeros(1, dtype=torch.long)]).max())
    if any(shape != (count,) for shape in shapes) or largest >= classes:
        raise DataError(
            f"the stored top losses do not fit together: {count} images, fields of shapes "
            f"{shapes}, class {largest} of {classes}. Fix: evaluate the run again with "
            f"`ember evaluate RUN`."
        )
    return images, top


def save_feature_maps(run_dir: Path, split: str, experiment: Experiment) -> list[Path]:
    """Draw ``split``'s penultimate features by class (``experiment.feature_maps`` methods).

    The PNGs go to ``evaluation/<split>/feature-map-<method>.png``, where the report shows a test
    split's plots. Classification runs only; the points are the network's (not a flip average's).
    """
    if experiment.evaluation != "classification" or not experiment.feature_maps:
        return []
    x, labels = experiment.data.split(split)
    out_dir = Path(run_dir) / "evaluation" / split
    out_dir.mkdir(parents=True, exist_ok=True)
    return feature_map(
        experiment.network,
        x,
        labels,
        experiment.data.class_names,
        out_dir,
        experiment.feature_maps,
        seed=experiment.seed,
    )
