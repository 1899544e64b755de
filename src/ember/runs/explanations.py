"""The report's "why" panel: Grad-CAM (or saliency, for a network without convolutions) over one
test image of each of the first classes, beside the network's prediction and confidence."""

from __future__ import annotations

from pathlib import Path

import torch

from ember import explain
from ember.errors import ConfigError
from ember.explain.attributions import find_convolution
from ember.recipes.experiment import Experiment

IMAGES = 8  # one per class, the first classes


def save_explanations(run_dir: Path, split: str, experiment: Experiment) -> Path | None:
    """Write ``evaluation/<split>/explanations-<method>.png`` for an image classifier's run
    (other runs: None)."""
    if experiment.evaluation != "classification":
        return None
    x, labels = experiment.data.split(split)
    if x.ndim != 4 or not x.is_floating_point():
        return None
    picked = [int((labels == c).nonzero()[0, 0]) for c in labels.unique()[:IMAGES]]
    network = experiment.network
    device = next(network.parameters()).device
    images = x[picked].to(device)
    try:
        find_convolution(network)
        method = "gradcam"
    except ConfigError:  # no convolution: the pixels' gradient instead
        method = "saliency"
    maps = explain.explain(network, images, method)
    with torch.no_grad():
        probabilities = experiment.probabilities(images).cpu()
    names = experiment.data.class_names
    titles = [
        f"true {names[int(labels[i])]}\npredicted {names[int(p.argmax())]} {float(p.max()):.0%}"
        for i, p in zip(picked, probabilities)
    ]
    path = Path(run_dir) / "evaluation" / split / f"explanations-{method}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    return explain.plot_overlays(images.cpu(), maps.cpu(), titles, path, method)
