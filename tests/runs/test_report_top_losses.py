"""The report's top losses: ``save_evaluation`` keeps the test images of highest negative
log-likelihood (what ``explain.top_losses`` finds on the same network), the report draws them, and
a text run still lists its most confidently wrong texts."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from ember import explain
from ember.errors import DataError
from ember.runs.evaluation import (
    TOP_LOSSES,
    read_evaluation,
    save_evaluation,
    stored_top_losses,
)
from ember.runs.report import render_report

NAMES = ["ant", "bee", "cat"]


def experiment(x: torch.Tensor, y: torch.Tensor, texts: list[str] | None = None) -> SimpleNamespace:
    """The parts of an Experiment that save_evaluation reads."""
    data = SimpleNamespace(split=lambda split: (x, y), class_names=NAMES)
    if texts is not None:
        data.texts = {"test": texts}
    return SimpleNamespace(data=data)


def scored(count: int = 40) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(36, 3)).eval()
    x = torch.rand(count, 6, 6, 1)  # (N, H, W, C)
    y = torch.randint(0, 3, (count,))
    with torch.no_grad():
        probabilities = net(x).softmax(-1)
    return net, x, y, probabilities


def test_the_stored_top_losses_are_the_highest_negative_log_likelihoods(tmp_path: Path) -> None:
    net, x, y, probabilities = scored()
    path = save_evaluation(tmp_path, "test", experiment(x, y), probabilities)
    tensors, class_names, _ = read_evaluation(path)
    images, top = stored_top_losses(tensors)
    reference = F.nll_loss(probabilities.log(), y, reduction="none")  # (N,)
    order = reference.argsort(descending=True)[:TOP_LOSSES]
    assert top.indices.tolist() == order.tolist()
    torch.testing.assert_close(top.losses, reference[order])
    torch.testing.assert_close(top.true_probabilities, probabilities[order, y[order]])
    assert top.predictions.tolist() == probabilities[order].argmax(-1).tolist()
    assert torch.equal(images, x[order]) and class_names == NAMES
    # The same images, losses and probabilities as explain.top_losses on the network itself.
    direct = explain.top_losses(net, x, y, k=TOP_LOSSES)
    assert direct.indices.tolist() == top.indices.tolist()
    for stored, computed in zip(top, direct):
        torch.testing.assert_close(stored, computed, rtol=1e-5, atol=1e-6)
    assert not any(key.startswith("wrong_") for key in tensors)


def test_the_report_draws_the_stored_top_losses(tmp_path: Path) -> None:
    _, x, y, probabilities = scored(count=10)  # fewer than TOP_LOSSES: all of them
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("recipe: demo\nepochs: 1\n")
    (run / "metrics.jsonl").write_text("")
    save_evaluation(run, "test", experiment(x, y), probabilities)
    page = render_report(run).read_text()
    assert "<h2>Top losses (prediction / truth / loss / probability of truth)</h2>" in page
    assert 'alt="top losses"' in page
    assert (run / "plots" / "top_losses.png").read_bytes()[:4] == b"\x89PNG"
    assert len(load_file(run / "evaluation" / "test.safetensors")["top_losses.images"]) == 10


def test_a_text_run_keeps_its_most_confidently_wrong_texts(tmp_path: Path) -> None:
    tokens = torch.randint(1, 50, (6, 5))  # (N, tokens): not images
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    probabilities = torch.eye(3)[[1, 1, 2, 2, 0, 2]] * 0.7 + 0.1  # wrong: 0, 3, 4
    texts = [f"text {index}" for index in range(6)]
    path = save_evaluation(tmp_path, "test", experiment(tokens, y, texts), probabilities)
    tensors, _, wrong_texts = read_evaluation(path)
    assert stored_top_losses(tensors) is None
    assert sorted(wrong_texts) == ["text 0", "text 3", "text 4"]
    assert tensors["wrong_labels"].tolist() == [y[texts.index(t)].item() for t in wrong_texts]


def test_stored_top_losses_that_do_not_fit_together_are_refused(tmp_path: Path) -> None:
    _, x, y, probabilities = scored(count=8)
    path = save_evaluation(tmp_path, "test", experiment(x, y), probabilities)
    tensors = load_file(path)
    tensors["top_losses.labels"] = tensors["top_losses.labels"][:-1]
    with pytest.raises(DataError, match="do not fit together.*evaluate the run again"):
        stored_top_losses(tensors)
    tensors = load_file(path)
    tensors["top_losses.predictions"][0] = 7
    with pytest.raises(DataError, match="class 7 of 3"):
        stored_top_losses(tensors)
    broken = tmp_path / "broken.safetensors"
    save_file({"probabilities": probabilities, "labels": y[:-1]}, str(broken))
    with pytest.raises(DataError, match=r"labels \(N,\).*\(8, 3\) and \(7,\)"):
        read_evaluation(broken)
    assert read_evaluation(tmp_path / "missing.safetensors") is None
