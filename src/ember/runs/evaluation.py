"""Evaluate a run's network on a split: metrics for ``metrics.jsonl``, details for the report.

``evaluation/<split>.safetensors`` holds the class probabilities and labels of every image and
the most confidently wrong images, which the report draws.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch
from torchmetrics.functional.classification import (
    multiclass_accuracy,
    multiclass_auroc,
    multiclass_f1_score,
    multiclass_precision,
    multiclass_recall,
)

from ember.recipes.experiment import Experiment
from ember.saving import save_tensors

WRONG_IMAGES = 24  # how many confidently wrong images the report shows


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


def evaluate_split(experiment: Experiment, split: str) -> tuple[dict[str, Any], torch.Tensor]:
    """Metrics (with the time taken) and class probabilities for ``split``."""
    x, y = experiment.data.split(split)
    start = time.perf_counter()
    probabilities = experiment.probabilities(x)
    metrics = classification_metrics(probabilities, y)
    metrics["time"] = round(time.perf_counter() - start, 4)
    return metrics, probabilities


def save_evaluation(
    run_dir: Path, split: str, experiment: Experiment, probabilities: torch.Tensor
) -> Path:
    """Write ``evaluation/<split>.safetensors`` for the report."""
    x, labels = experiment.data.split(split)
    confidence, predicted = probabilities.max(-1)
    wrong = (predicted != labels).nonzero().flatten()
    worst = wrong[confidence[wrong].argsort(descending=True)[:WRONG_IMAGES]]
    tensors = {
        "probabilities": probabilities.float(),
        "labels": labels.long(),
        "wrong_images": x[worst].float(),
        "wrong_labels": labels[worst].long(),
        "wrong_predictions": predicted[worst].long(),
        "wrong_confidences": confidence[worst].float(),
    }
    path = Path(run_dir) / "evaluation" / f"{split}.safetensors"
    path.parent.mkdir(exist_ok=True)
    save_tensors(tensors, path, metadata={"class_names": json.dumps(experiment.data.class_names)})
    return path
