"""A search's report: ``report.html`` in the tune folder, one self-contained page (PNGs embedded,
no script, no external link) like a run's report.

It shows the best settings, a table of every trial (state, value, settings, duration, a link to
its run's own report), and Optuna's matplotlib plots: the optimisation history, each trial's
metric per epoch (where pruned trials stop), the parameter importances and a parallel-coordinate
plot. A plot that cannot be drawn yet says why instead.
"""

from __future__ import annotations

import base64
import html
import os
import socket
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import optuna
from matplotlib.ticker import MaxNLocator
from optuna.trial import FrozenTrial, TrialState
from optuna.visualization import matplotlib as optuna_plots

from ember.plots.figure import save_figure
from ember.recipes.config import as_set_text
from ember.runs.report import write_page
from ember.tune.objective import HOST_ATTR, RUN_DIR_ATTR
from ember.tune.search import BASE_CONFIG_FILE, TuneSpec
from ember.tune.space import describe
from ember.tune.storage import shown_url

REPORT_FILE = "report.html"
PLOTS_FOLDER = "plots"


def render_tune_report(folder: Path, study: optuna.Study, spec: TuneSpec) -> Path:
    """Write ``folder/report.html`` (and its PNGs under ``folder/plots/``); return its path."""
    folder = Path(folder)
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    states = [t.state.name.lower() for t in trials]
    counts = ", ".join(f"{states.count(s)} {s}" for s in sorted(set(states))) or "no trials yet"
    title = f"tune {spec.recipe} — study {study.study_name}"
    page = [
        f"<h1>{_escape(title)}</h1>",
        f'<p class="status">{len(trials)} trials ({_escape(counts)}); {spec.trials} finished '
        f"trials asked for. {_escape(spec.metric)} is "
        f"{'maximised' if spec.direction == 'maximize' else 'minimised'}; sampler "
        f"{_escape(spec.sampler)}, pruner {_escape(spec.pruner)}, storage "
        f"<code>{_escape(shown_url(spec.storage_url(folder)))}</code>.</p>",
        "<h2>Best trial</h2>",
    ]
    if complete:
        best = study.best_trial
        rows = [[_escape(name), _escape(_value(value))] for name, value in best.params.items()]
        page.append(
            f"<p>Trial {best.number}: {_escape(spec.metric)} = {best.value:.4f} "
            f"({_run_link(best, folder)}).</p>"
        )
        page.append(_table(["setting", "value"], rows))
    else:
        page.append("<p>No trial has completed yet.</p>")
    page += ["<h2>Trials</h2>", _trials_table(trials, folder, spec.metric)]

    plots = folder / PLOTS_FOLDER
    page.append("<h2>Optimisation history</h2>")
    page.append(
        _plot(optuna_plots.plot_optimization_history, study, spec, plots / "history.png")
        if complete
        else "<p>Drawn once a trial has completed.</p>"
    )
    page.append("<h2>Each trial's metric per epoch</h2>")
    page.append(
        _plot(optuna_plots.plot_intermediate_values, study, spec, plots / "epochs.png")
        if any(t.intermediate_values for t in trials)
        else "<p>Drawn once a trial has reported an epoch.</p>"
    )
    page.append("<h2>Parameter importances</h2>")
    reason = importance_unavailable(complete)
    if reason is None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Target and region quantiles", UserWarning)
            importances = optuna.importance.get_param_importances(study)
        rows = [[_escape(name), f"{share:.3f}"] for name, share in importances.items()]
        page.append(_table(["setting", "importance"], rows))
        page.append(
            _plot(optuna_plots.plot_param_importances, study, spec, plots / "importances.png")
        )
    else:
        page.append(f"<p>Not computed: {_escape(reason)}.</p>")
    page.append("<h2>Parallel coordinates</h2>")
    page.append(
        _plot(optuna_plots.plot_parallel_coordinate, study, spec, plots / "parallel.png")
        if len(complete) >= 2  # one line spans no range: matplotlib warns and draws nothing
        else "<p>Drawn once 2 trials have completed.</p>"
    )
    space = [[_escape(k), _escape(describe(d))] for k, d in spec.distributions().items()]
    page += ["<h2>Search space</h2>", _table(["setting", "values tried"], space)]
    base = folder / BASE_CONFIG_FILE
    if base.is_file():
        page += ["<h2>Base config</h2>", f"<pre>{_escape(base.read_text(encoding='utf-8'))}</pre>"]
    return write_page(folder / REPORT_FILE, title, page)


def importance_unavailable(complete: list[FrozenTrial]) -> str | None:
    """Why parameter importances cannot be computed from ``complete`` trials, or None.

    Example:
        >>> importance_unavailable([])
        'it needs at least 2 complete trials, and there are 0'
    """
    if len(complete) < 2:
        return f"it needs at least 2 complete trials, and there are {len(complete)}"
    names = {name for trial in complete for name in trial.params}
    varied = sorted(n for n in names if len({repr(t.params.get(n)) for t in complete}) > 1)
    if len(varied) < 2:
        shown = ", ".join(varied) or "none"
        return f"it needs at least 2 settings that vary among the complete trials (varied: {shown})"
    return None


def _trials_table(trials: list[FrozenTrial], folder: Path, metric: str) -> str:
    rows = []
    for trial in trials:
        epochs = max(trial.intermediate_values, default=0)
        state = trial.state.name.lower()
        if trial.state == TrialState.PRUNED:
            state += f" at epoch {epochs}"
        value = trial.value if trial.value is not None else trial.intermediate_values.get(epochs)
        params = ", ".join(f"{k}={_value(v)}" for k, v in trial.params.items())
        rows.append(
            [
                str(trial.number),
                _escape(state),
                "" if value is None else f"{value:.4f}",
                _escape(params),
                "" if trial.duration is None else f"{trial.duration.total_seconds():.1f} s",
                _run_link(trial, folder),
            ]
        )
    header = ["trial", "state", f"{metric} (last epoch)", "settings", "duration", "run"]
    return _table(header, rows)


def _run_link(trial: FrozenTrial, folder: Path) -> str:
    path = trial.user_attrs.get(RUN_DIR_ATTR)
    if path is None:
        return "no run"
    host = trial.user_attrs.get(HOST_ATTR)
    if host is not None and host != socket.gethostname():
        return _escape(f"{path} on {host}")
    relative = os.path.relpath(path, folder)
    if (Path(path) / REPORT_FILE).is_file():
        return f'<a href="{_escape(relative)}/{REPORT_FILE}">{_escape(relative)}</a>'
    return _escape(relative)


def _plot(draw: Callable[..., Any], study: optuna.Study, spec: TuneSpec, path: Path) -> str:
    # Optuna's matplotlib plots draw through pyplot and switch to the ggplot style: both are
    # undone here (the style by the rc context, the figure by closing it).
    with matplotlib.rc_context(), warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        # PED-ANOVA's note that few trials make importances equal: the table shows it already
        warnings.filterwarnings("ignore", "Target and region quantiles", UserWarning)
        if draw is optuna_plots.plot_intermediate_values:
            axes = draw(study)
            axes.set_ylabel(spec.metric)
            axes.set_xlabel("epoch")
        else:
            axes = draw(study, target_name=spec.metric)
        if draw in (optuna_plots.plot_intermediate_values, optuna_plots.plot_optimization_history):
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs and trials
        figure = axes.figure
        figure.set_size_inches(9, 5)
        figure.tight_layout()  # room for the long setting names under the axes
        try:
            save_figure(figure, path)
        finally:
            plt.close(figure)
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{_escape(path.stem)}">'


def _table(header: list[str], rows: list[list[str]]) -> str:
    """An HTML table of cells that are already HTML."""
    head = "<tr>" + "".join(f"<th>{_escape(cell)}</th>" for cell in header) + "</tr>"
    body = ["<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows]
    return "\n".join(["<table>", head, *body, "</table>"])


def _value(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else as_set_text(value)


def _escape(text: str) -> str:
    return html.escape(str(text), quote=True)


__all__ = ["REPORT_FILE", "importance_unavailable", "render_tune_report"]
