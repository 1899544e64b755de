"""The HTML run report: self-contained, and its numbers agree with scikit-learn."""

from __future__ import annotations

import base64
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from safetensors.torch import save_file
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
)

from ember.errors import RunError
from ember.runs import plots
from ember.runs.evaluation import save_evaluation
from ember.runs.report import classification_scores, epoch_records, read_metrics, render_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CLASS_NAMES = ["ant", "bee", "<cat> & co"]  # the third one must come out escaped
EPOCH_TIMES = [1.5, 2.5, 2.0]


def write_run(
    folder: Path,
    *,
    epochs_done: int = 3,
    epochs_planned: int = 3,
    evaluated: bool = True,
    legacy: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A run folder as `ember train` leaves it (``legacy``: as it did before the report showed
    top losses); returns the test probabilities and labels."""
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(
        f"recipe: fashion-mlp\nseed: 0\nepochs: {epochs_planned}\nnote: <b>bold</b>\n"
        "versions: {ember: 0.1.0, torch: 2.13.0, python: 3.11.7}\n"
    )
    lines = [
        json.dumps(
            {
                "kind": "epoch",
                "epoch": epoch,
                "step": 10 * epoch,
                "time": EPOCH_TIMES[epoch - 1],
                "learning_rate": 0.1 / epoch,
                "loss": 1.0 / epoch,
                "accuracy": 0.5 + 0.1 * epoch,
                "val_loss": 1.2 / epoch,
                "val_accuracy": 0.45 + 0.1 * epoch,
            }
        )
        for epoch in range(1, epochs_done + 1)
    ]
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 3, (60,), generator=generator)
    logits = torch.randn(60, 3, generator=generator) + 1.5 * torch.eye(3)[labels]
    probabilities = logits.softmax(dim=1)  # (N, C)
    if evaluated:
        evaluation = {"kind": "evaluation", "split": "test", "epoch": epochs_done}
        evaluation |= {"checkpoint": "last", "time": 0.7, "loss": 0.61, "accuracy": 0.5}
        lines.append(json.dumps(evaluation))
        images = torch.rand(60, 8, 8, 1, generator=generator)  # (N, H, W, C)
        if legacy:
            confidence, predicted = probabilities.max(dim=1)
            wrong = (predicted != labels).nonzero().flatten()[:4]
            (folder / "evaluation").mkdir()
            tensors = {
                "probabilities": probabilities,
                "labels": labels,
                "wrong_images": images[wrong],
                "wrong_labels": labels[wrong],
                "wrong_predictions": predicted[wrong],
                "wrong_confidences": confidence[wrong],
            }
            metadata = {"class_names": json.dumps(CLASS_NAMES)}
            save_file(tensors, str(folder / "evaluation" / "test.safetensors"), metadata=metadata)
        else:
            data = SimpleNamespace(split=lambda split: (images, labels), class_names=CLASS_NAMES)
            save_evaluation(folder, "test", SimpleNamespace(data=data), probabilities)
    # A killed process can leave half a line behind.
    (folder / "metrics.jsonl").write_text("\n".join(lines) + '\n{"kind": "epoch", "epo')
    return probabilities, labels


class _Tables(HTMLParser):
    """Every <table> of a page as rows of cell texts (entities decoded)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.in_cell = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.tables[-1][-1].append("")
            self.in_cell = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self.in_cell = False

    def handle_data(self, data: str) -> None:
        if self.in_cell:
            self.tables[-1][-1][-1] += data


def tables_of(page: str) -> dict[str, list[list[str]]]:
    """Tables keyed by their first header cell (or first cell)."""
    parser = _Tables()
    parser.feed(page)
    return {table[0][0]: table for table in parser.tables}


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> dict:
    run = tmp_path_factory.mktemp("runs") / "fashion-mlp-20250101-000000"
    probabilities, labels = write_run(run)
    path = render_report(run)
    return {"run": run, "path": path, "page": path.read_text(), "p": probabilities, "y": labels}


def test_report_is_self_contained_and_every_image_is_an_embedded_png(finished: dict) -> None:
    page = finished["page"]
    assert finished["path"] == finished["run"] / "report.html"
    for forbidden in ("http://", "https://", "<script", "<link"):
        assert forbidden not in page
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) == 5  # curves, learning rate, confusion matrix, ROC, top losses
    for source in sources:
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.removeprefix("data:image/png;base64,"))[:8] == PNG_MAGIC
    written = sorted(p.name for p in (finished["run"] / "plots").iterdir())
    expected = ["confusion_matrix.png", "curves.png", "learning_rate.png", "roc_curves.png"]
    assert written == sorted([*expected, "top_losses.png"])


def test_a_finished_run_has_its_title_status_and_every_section_in_order(finished: dict) -> None:
    assert "<h1>fashion-mlp — fashion-mlp-20250101-000000</h1>" in finished["page"]
    assert "finished after epoch 3 of 3" in finished["page"]
    assert "ember resume" not in finished["page"]
    assert re.findall("<h2>(.*)</h2>", finished["page"]) == [
        "Test metrics",
        "Loss and metrics per epoch",
        "Learning rate",
        "Per-class metrics",
        "Confusion matrix",
        "ROC curves (one-vs-rest)",
        "Top losses (prediction / truth / loss / probability of truth)",
        "Config",
        "Timings",
    ]


def test_a_run_evaluated_before_top_losses_still_shows_its_most_confidently_wrong_images(
    tmp_path: Path,
) -> None:
    run = tmp_path / "fashion-mlp-old"
    write_run(run, legacy=True)
    page = render_report(run).read_text()
    headings = re.findall("<h2>(.*)</h2>", page)
    assert "Most confidently wrong test images" in headings
    assert not any(heading.startswith("Top losses") for heading in headings)
    assert 'alt="most confidently wrong test images"' in page
    assert (run / "plots" / "wrong_images.png").read_bytes()[:8] == PNG_MAGIC


def test_per_class_scores_match_scikit_learn(finished: dict) -> None:
    y_true, y_pred = finished["y"].numpy(), finished["p"].argmax(dim=1).numpy()
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred)
    table = tables_of(finished["page"])["class"]
    assert table[0] == ["class", "precision", "recall", "F1", "support"]
    assert [row[0] for row in table[1:]] == CLASS_NAMES
    for index, row in enumerate(table[1:]):
        shown = [float(cell) for cell in row[1:4]]
        expected = [precision[index], recall[index], f1[index]]
        assert shown == pytest.approx(expected, abs=5e-5)  # printed with 4 decimals
        assert int(row[4]) == support[index]


def test_test_metrics_match_scikit_learn(finished: dict) -> None:
    y_true, probabilities = finished["y"].numpy(), finished["p"].numpy()
    y_pred = probabilities.argmax(axis=1)
    precision, recall, f1, _ = precision_recall_fscore_support(y_true, y_pred, average="macro")
    expected = {
        "loss": 0.61,  # as logged: it cannot be recomputed from the probabilities alone
        "accuracy": accuracy_score(y_true, y_pred),
        "precision (macro)": precision,
        "recall (macro)": recall,
        "F1 (macro)": f1,
        "ROC-AUC (macro, one-vs-rest)": roc_auc_score(y_true, probabilities, multi_class="ovr"),
    }
    rows = tables_of(finished["page"])["metric"][1:]
    assert [row[0] for row in rows] == list(expected)
    assert [float(row[1]) for row in rows] == pytest.approx(list(expected.values()), abs=5e-5)


def test_confusion_matrix_counts_match_scikit_learn(finished: dict, tmp_path: Path) -> None:
    expected = confusion_matrix(finished["y"].numpy(), finished["p"].argmax(dim=1).numpy())
    matrix = classification_scores(finished["p"], finished["y"])["confusion_matrix"]
    assert matrix.tolist() == expected.tolist()
    figure = plots.plot_confusion_matrix(matrix, CLASS_NAMES, tmp_path / "cm.png")
    annotated = [int(text.get_text()) for text in figure.axes[0].texts]  # row by row
    assert annotated == expected.flatten().tolist()
    assert [label.get_text() for label in figure.axes[0].get_xticklabels()] == CLASS_NAMES
    assert (tmp_path / "cm.png").read_bytes()[:8] == PNG_MAGIC


def test_timings_come_from_the_metrics_log(finished: dict) -> None:
    rows = dict(tables_of(finished["page"])["epochs completed"])
    assert rows == {
        "epochs completed": "3",
        "total training time": "6.0 s",  # 1.5 + 2.5 + 2.0
        "mean time per epoch": "2.0 s",
        "test evaluation time": "0.7 s",
    }


def test_config_is_shown_verbatim_and_all_text_is_escaped(finished: dict) -> None:
    page = finished["page"]
    assert "<pre>recipe: fashion-mlp\nseed: 0\nepochs: 3\nnote: &lt;b&gt;bold&lt;/b&gt;\n" in page
    assert "<td>&lt;cat&gt; &amp; co</td>" in page
    assert "<b>" not in page


def test_a_stopped_run_shows_the_resume_hint_and_no_test_section(tmp_path: Path) -> None:
    run = tmp_path / "fashion-mlp-stopped"
    write_run(run, epochs_done=2, epochs_planned=5, evaluated=False)
    page = render_report(run).read_text()
    assert "stopped at epoch 2 of 5" in page
    assert f"<code>ember resume {run}</code>" in page
    assert re.findall("<h2>(.*)</h2>", page) == [
        "Loss and metrics per epoch",
        "Learning rate",
        "Config",
        "Timings",
    ]
    assert page.count('src="data:image/png;base64,') == 2  # curves and learning rate
    assert "<pre>recipe: fashion-mlp" in page
    assert dict(tables_of(page)["epochs completed"])["total training time"] == "4.0 s"


def test_a_folder_that_is_not_a_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="not an ember run"):
        render_report(tmp_path)


def test_read_metrics_skips_the_torn_last_line_and_keeps_the_latest_epoch(tmp_path: Path) -> None:
    lines = [{"kind": "epoch", "epoch": 1, "loss": 2.0}, {"kind": "epoch", "epoch": 2, "loss": 1.0}]
    lines += [{"kind": "epoch", "epoch": 1, "loss": 1.5}]  # written again after a resume
    text = "\n".join(json.dumps(line) for line in lines) + '\n{"kind": "epoch", "epoch": 3, "lo'
    (tmp_path / "metrics.jsonl").write_text(text)
    assert len(read_metrics(tmp_path)) == 3
    assert [(r["epoch"], r["loss"]) for r in epoch_records(read_metrics(tmp_path))] == [
        (1, 1.5),
        (2, 1.0),
    ]


def test_roc_auc_is_undefined_for_a_class_absent_from_the_labels() -> None:
    generator = torch.Generator().manual_seed(1)
    probabilities = torch.rand(40, 3, generator=generator).softmax(dim=1)
    labels = torch.randint(0, 2, (40,), generator=generator)  # class 2 never occurs
    auroc = classification_scores(probabilities, labels)["auroc"]
    assert math.isnan(auroc[2])
    for index in (0, 1):
        one_vs_rest = roc_auc_score(labels.numpy() == index, probabilities[:, index].numpy())
        assert auroc[index].item() == pytest.approx(one_vs_rest, abs=1e-6)
    macro = classification_scores(probabilities, labels)["ROC-AUC (macro, one-vs-rest)"]
    assert macro == pytest.approx(auroc[:2].mean().item())


def test_curves_have_a_panel_per_metric_with_train_and_validation(tmp_path: Path) -> None:
    records = [
        {"kind": "epoch", "epoch": 1, "time": 1.0, "loss": 0.9, "top5": 0.7, "val_loss": 1.0},
        {"kind": "epoch", "epoch": 2, "time": 1.0, "loss": 0.5, "top5": 0.8, "val_loss": "nan"},
    ]
    figure = plots.plot_curves(records, tmp_path / "curves.png")
    assert [axes.get_title() for axes in figure.axes] == ["loss", "top5"]
    train, validation = figure.axes[0].lines
    assert (train.get_label(), list(train.get_ydata())) == ("train", [0.9, 0.5])
    assert validation.get_label() == "validation"
    assert validation.get_ydata()[0] == 1.0 and math.isnan(validation.get_ydata()[1])
    assert [line.get_label() for line in figure.axes[1].lines] == ["train"]


def test_wrong_images_are_titled_with_true_and_predicted_class(tmp_path: Path) -> None:
    images = torch.rand(2, 6, 5, 3)  # (K, H, W, RGB)
    figure = plots.plot_wrong_images(
        images,
        torch.tensor([0, 2]),
        torch.tensor([1, 0]),
        torch.tensor([0.97, 0.5]),
        CLASS_NAMES,
        tmp_path / "wrong.png",
    )
    titles = [text.get_text() for text in figure.axes[0].texts]
    assert titles == ["true: ant\npredicted: bee (97%)", "true: <cat> & co\npredicted: ant (50%)"]
    assert (tmp_path / "wrong.png").read_bytes()[:8] == PNG_MAGIC
