"""A run's report: one self-contained HTML page (PNG plots embedded) written into the run folder.

It reads what a run leaves behind: ``config.yaml``, ``metrics.jsonl`` and, once the run has been
evaluated, ``evaluation/test.safetensors`` (test-set probabilities, labels and the top losses: the
highest-loss images, or the most confidently wrong texts). Per-class scores, the confusion matrix and ROC curves come from
:func:`~ember.runs.evaluation.classification_scores` (torchmetrics). The page has no script
and no external link, so it opens offline and can be mailed as one file.
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path
from typing import Any

import torch
import yaml

from ember.explain.top_losses import plot_top_losses
from ember.files import atomic_path
from ember.runs import metrics_log, plots
from ember.runs.evaluation import classification_scores, read_evaluation, stored_top_losses
from ember.runs.rundir import CONFIG_FILE, check_run

TEST_EVALUATION_FILE = Path("evaluation") / "test.safetensors"
REPORT_FILE = "report.html"
PLOTS_FOLDER = "plots"

# metrics.jsonl's names for the macro scores -> the names shown (and keys of classification_scores)
MACRO_SCORES = {
    "precision": "precision (macro)",
    "recall": "recall (macro)",
    "f1": "F1 (macro)",
    "roc_auc": "ROC-AUC (macro, one-vs-rest)",
}

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 1000px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
.status { font-size: 1.1em; color: #555; } code, pre { font-family: ui-monospace, Menlo, monospace; }
pre { background: #f6f8fa; padding: 1em; overflow-x: auto; border: 1px solid #ddd; }
pre.sample { white-space: pre-wrap; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.8em; } th { background: #f0f0f0; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; height: auto; }
"""


def write_page(path: Path, title: str, sections: list[str]) -> Path:
    """Write ``sections`` (HTML fragments) as one self-contained page titled ``title``, atomically.

    Example:
        >>> import tempfile
        >>> page = write_page(Path(tempfile.mkdtemp()) / "p.html", "a <title>", ["<p>hi</p>"])
        >>> "<title>a &lt;title&gt;</title>" in page.read_text()
        True
    """
    document = (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )
    with atomic_path(path) as temporary:
        temporary.write_text(document, encoding="utf-8")
    return path


def read_metrics(run_dir: str | os.PathLike) -> list[dict]:
    """Every record of ``run_dir/metrics.jsonl`` in order; unparsable lines are skipped.

    A killed run can leave a truncated last line, so a line that is not a JSON object is ignored.
    A run without the file yet has no records.

    Example:
        >>> import pathlib, tempfile
        >>> run = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (run / "metrics.jsonl").write_text('{"kind": "epoch", "epoch": 1}\\n{"kind": "ep')
        >>> read_metrics(run)
        [{'kind': 'epoch', 'epoch': 1}]
    """
    return metrics_log.read(Path(run_dir) / metrics_log.METRICS_FILE)


def epoch_records(records: list[dict]) -> list[dict]:
    """The ``"epoch"`` records sorted by epoch; a later line for the same epoch wins (a resume)."""
    by_epoch = {r["epoch"]: r for r in records if r.get("kind") == "epoch" and "epoch" in r}
    return [by_epoch[epoch] for epoch in sorted(by_epoch)]


def last_evaluation(records: list[dict], split: str = "test") -> dict | None:
    """The last ``"evaluation"`` record of ``split``, or None if there is none."""
    matches = [r for r in records if r.get("kind") == "evaluation" and r.get("split") == split]
    return matches[-1] if matches else None


def read_config(run_dir: str | os.PathLike) -> tuple[str, dict]:
    """``config.yaml``'s text (shown verbatim) and its mapping (empty if it is not one).

    Raises :class:`~ember.errors.RunError` if ``run_dir`` is not a run folder.
    """
    text = (check_run(Path(run_dir)) / CONFIG_FILE).read_text(encoding="utf-8")
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError:
        config = None
    return text, config if isinstance(config, dict) else {}


def render_report(run_dir: str | os.PathLike) -> Path:
    """Write ``run_dir/report.html`` (and its PNGs under ``run_dir/plots/``); return its path.

    A run that has no test evaluation yet (stopped early) gets its curves, config and a hint
    to resume it, and no test section.

    Example:
        >>> import json, pathlib, tempfile
        >>> run = pathlib.Path(tempfile.mkdtemp()) / "demo-run"
        >>> run.mkdir()
        >>> _ = (run / "config.yaml").write_text("recipe: demo\\nepochs: 3\\n")
        >>> line = {"kind": "epoch", "epoch": 1, "time": 1.0, "learning_rate": 0.1, "loss": 0.9}
        >>> _ = (run / "metrics.jsonl").write_text(json.dumps(line) + "\\n")
        >>> render_report(run).name
        'report.html'
        >>> "stopped at epoch 1 of 3" in (run / "report.html").read_text()
        True
    """
    run_dir = Path(run_dir)
    config_text, config = read_config(run_dir)
    records = read_metrics(run_dir)
    epochs = epoch_records(records)
    test_record = last_evaluation(records, "test")
    # A run without a test split ends with an evaluation of its validation split instead.
    final_record = test_record or last_evaluation(records, "val")
    evaluation = read_evaluation(run_dir / TEST_EVALUATION_FILE)
    plots_dir = run_dir / PLOTS_FOLDER
    recipe = str(config.get("recipe", "run"))
    done = epochs[-1]["epoch"] if epochs else 0
    planned = config.get("epochs") if isinstance(config.get("epochs"), int) else None
    of_planned = f" of {planned}" if planned is not None else ""

    title = f"{recipe} — {run_dir.name}"
    page = [f"<h1>{_escape(title)}</h1>"]
    if evaluation is not None or final_record is not None:
        early = " (stopped early)" if planned is not None and done < planned else ""
        page.append(f'<p class="status">finished after epoch {done}{of_planned}{early}</p>')
    else:
        page.append(
            f'<p class="status">stopped at epoch {done}{of_planned} — continue with '
            f"<code>ember resume {_escape(str(run_dir))}</code></p>"
        )

    if evaluation is not None:
        tensors, class_names, wrong_texts = evaluation
        scores = classification_scores(tensors["probabilities"], tensors["labels"])
        page += ["<h2>Test metrics</h2>", _test_metrics_table(test_record, scores)]
    elif test_record is not None:  # not a classification run: its metrics as logged
        page += ["<h2>Test metrics</h2>", _logged_metrics_table(test_record)]
    elif final_record is not None:  # no test split
        page += ["<h2>Validation metrics</h2>", _logged_metrics_table(final_record)]

    page.append("<h2>Loss and metrics per epoch</h2>")
    if epochs:
        plots.plot_curves(epochs, plots_dir / "curves.png")
        page.append(_image(plots_dir / "curves.png", "loss and metric curves"))
    else:
        page.append("<p>No epoch has finished yet.</p>")
    if any("learning_rate" in record for record in epochs):
        plots.plot_learning_rate(epochs, plots_dir / "learning_rate.png")
        page += ["<h2>Learning rate</h2>", _image(plots_dir / "learning_rate.png", "learning rate")]

    if evaluation is not None:
        page += _classification_sections(tensors, class_names, scores, plots_dir, wrong_texts)

    folder = run_dir / "evaluation" / "test"
    figures = sorted([*folder.glob("*.png"), *folder.glob("*.gif")])
    if figures:  # feature maps, or a recipe evaluator's own plots (a forecast against the truth)
        page.append("<h2>Test plots</h2>")
        page += [_image(path, path.stem.replace("_", " ")) for path in figures]
    samples = [(r["epoch"], r["sample"]) for r in epochs if isinstance(r.get("sample"), str)]
    if samples:
        page.append("<h2>Generated text after each epoch</h2>")
        page += [f"<h3>epoch {e}</h3><pre class='sample'>{_escape(t)}</pre>" for e, t in samples]
    page += ["<h2>Config</h2>", f"<pre>{_escape(config_text)}</pre>"]
    page += ["<h2>Timings</h2>", _timings_table(epochs, final_record)]

    return write_page(run_dir / REPORT_FILE, title, page)


def _logged_metrics_table(test_record: dict) -> str:
    rows = [
        [key, _number(value)]
        for key, value in ((k, plots.as_float(v)) for k, v in test_record.items())
        if key not in plots.NOT_METRICS and value is not None
    ]
    where = f"checkpoint {test_record.get('checkpoint', '?')}, epoch {test_record.get('epoch')}"
    return _table(["metric", "value"], rows) + f"<p>Evaluated ({_escape(where)}).</p>"


def _test_metrics_table(test_record: dict | None, scores: dict[str, Any]) -> str:
    # Accuracy and the macro scores are computed from the probabilities, like the per-class table
    # below; other logged metrics (the loss, a recipe's own ones) are shown as logged.
    logged = {
        key: plots.as_float(value)
        for key, value in (test_record or {}).items()
        if key not in plots.NOT_METRICS and plots.as_float(value) is not None
    }
    rows = {"loss": logged.pop("loss")} if "loss" in logged else {}
    rows["accuracy"] = scores["accuracy"]
    logged.pop("accuracy", None)
    for key, name in MACRO_SCORES.items():
        logged.pop(key, None)
        rows[name] = scores[name]
    rows.update(logged)
    table = _table(["metric", "value"], [[name, _number(value)] for name, value in rows.items()])
    if test_record is None:
        return table
    where = (
        f"checkpoint {test_record.get('checkpoint', '?')}, epoch {test_record.get('epoch', '?')}"
    )
    return table + f"<p>Evaluated on the test set ({_escape(where)}).</p>"


def _classification_sections(
    tensors: dict[str, torch.Tensor],
    class_names: list[str],
    scores: dict,
    plots_dir: Path,
    wrong_texts: list[str],
) -> list[str]:
    rows = [
        [name, _number(p), _number(r), _number(f), str(int(s))]
        for name, p, r, f, s in zip(
            class_names,
            scores["precision"].tolist(),
            scores["recall"].tolist(),
            scores["f1"].tolist(),
            scores["support"].tolist(),
        )
    ]
    header = ["class", "precision", "recall", "F1", "support"]
    confusion, roc = plots_dir / "confusion_matrix.png", plots_dir / "roc_curves.png"
    plots.plot_confusion_matrix(scores["confusion_matrix"], class_names, confusion)
    plots.plot_roc_curves(*scores["roc"], scores["auroc"].tolist(), class_names, roc)
    sections = [
        "<h2>Per-class metrics</h2>",
        _table(header, rows),
        "<h2>Confusion matrix</h2>",
        "<p>Rows are the true classes, columns the predicted ones.</p>",
        _image(confusion, "confusion matrix"),
        "<h2>ROC curves (one-vs-rest)</h2>",
        _image(roc, "ROC curves"),
    ]
    top = stored_top_losses(tensors)
    wrong_keys = ["wrong_images", "wrong_labels", "wrong_predictions", "wrong_confidences"]
    if top is not None:
        images, result = top
        sections.append("<h2>Top losses (prediction / truth / loss / probability of truth)</h2>")
        sections.append(
            "<p>The test images with the highest loss (the negative log of the probability of "
            "their true class), largest first, right or wrong: a red title is a mistake.</p>"
        )
        grid = plots_dir / "top_losses.png"
        # The images stored are the top losses themselves: their own positions, not the test set's.
        plot_top_losses(
            images, result._replace(indices=torch.arange(len(images))), class_names, grid
        )
        sections.append(_image(grid, "top losses"))
    elif all(key in tensors for key in wrong_keys):  # a run evaluated before top losses
        sections.append("<h2>Most confidently wrong test images</h2>")
        if len(tensors["wrong_images"]) == 0:
            sections.append("<p>No test image was misclassified.</p>")
        else:
            grid = plots_dir / "wrong_images.png"
            plots.plot_wrong_images(*(tensors[key] for key in wrong_keys), class_names, grid)
            sections.append(_image(grid, "most confidently wrong test images"))
    elif wrong_texts and len(wrong_texts) == len(tensors.get("wrong_labels", ())):
        sections.append("<h2>Most confidently wrong test texts</h2>")
        truths, guesses = tensors["wrong_labels"].tolist(), tensors["wrong_predictions"].tolist()
        confidences = tensors["wrong_confidences"].tolist()
        rows = [
            [text, class_names[t], class_names[g], f"{100 * c:.1f}%"]
            for text, t, g, c in zip(wrong_texts, truths, guesses, confidences)
        ]
        sections.append(_table(["text", "true", "predicted", "confidence"], rows))
    return sections


def _timings_table(epochs: list[dict], test_record: dict | None) -> str:
    times = [plots.as_float(r.get("time")) for r in epochs]
    times = [time for time in times if time is not None]
    rows = [["epochs completed", str(len(epochs))]]
    if times:
        rows.append(["total training time", _duration(sum(times))])
        rows.append(["mean time per epoch", _duration(sum(times) / len(times))])
    evaluation_time = plots.as_float((test_record or {}).get("time"))
    if evaluation_time is not None:
        rows.append(["test evaluation time", _duration(evaluation_time)])
    return _table(None, rows)


def _table(header: list[str] | None, rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_escape(cell)}</th>" for cell in header or [])
    body = [
        "<tr>"
        + "".join(
            f'<td class="number">{_escape(cell)}</td>' if index else f"<td>{_escape(cell)}</td>"
            for index, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    ]
    head_row = [f"<tr>{head}</tr>"] if head else []
    return "\n".join(["<table>", *head_row, *body, "</table>"])


def _image(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    kind = "gif" if path.suffix == ".gif" else "png"  # a filmed episode is an animated GIF
    return f'<img src="data:image/{kind};base64,{data}" alt="{_escape(alt)}">'


def _number(value: float) -> str:
    return "n/a" if value != value else f"{value:.4f}"  # NaN != NaN


def _duration(seconds: float) -> str:
    if seconds < 59.95:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _escape(text: str) -> str:
    return html.escape(text, quote=True)
