"""The tune report: one self-contained page with the best trial, every trial, Optuna's plots and
importances (as Optuna computes them), or the reason a plot or table is missing."""

from __future__ import annotations

import base64
import re

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState, create_trial

from ember.tune.report import importance_unavailable, render_tune_report
from ember.tune.search import TuneSpec

DISTRIBUTIONS = {
    "learning_rate": FloatDistribution(1e-4, 1e-1, log=True),
    "dropout": CategoricalDistribution([0.0, 0.2, 0.4]),
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def spec(folder):
    space = {k: optuna.distributions.distribution_to_json(d) for k, d in DISTRIBUTIONS.items()}
    return TuneSpec("fashion-mlp", "demo", 6, "val_accuracy", "maximize", space, "tpe")


def trial(state, learning_rate, dropout, curve, folder=None, number=0):
    attrs = {} if folder is None else {"run_dir": str(folder / f"trial-{number:04d}")}
    return create_trial(
        state=state,
        value=curve[-1] if state == TrialState.COMPLETE else None,
        params={"learning_rate": learning_rate, "dropout": dropout},
        distributions=DISTRIBUTIONS,
        intermediate_values=dict(enumerate(curve, start=1)),
        user_attrs=attrs,
    )


def study_of(trials):
    study = optuna.create_study(study_name="demo", direction="maximize")
    for made in trials:
        study.add_trial(made)
    return study


def images(page):
    return [base64.b64decode(data) for data in re.findall(r"data:image/png;base64,([^\"]+)", page)]


def test_the_report_shows_the_best_trial_every_trial_and_optunas_importances(tmp_path):
    (tmp_path / "trial-0000").mkdir()
    (tmp_path / "trial-0000" / "report.html").write_text("<html></html>")
    study = study_of(
        [
            trial(TrialState.COMPLETE, 0.003, 0.0, [0.80, 0.86], tmp_path, 0),
            trial(TrialState.COMPLETE, 0.05, 0.4, [0.70, 0.74]),
            trial(TrialState.PRUNED, 0.0002, 0.2, [0.40]),
            trial(TrialState.COMPLETE, 0.01, 0.2, [0.78, 0.81]),
        ]
    )
    path = render_tune_report(tmp_path, study, spec(tmp_path))
    page = path.read_text()
    assert path == tmp_path / "report.html"
    assert "Trial 0: val_accuracy = 0.8600" in page
    assert '<a href="trial-0000/report.html">trial-0000</a>' in page  # the best run's own report
    assert "<td>pruned at epoch 1</td>" in page
    assert "4 trials (3 complete, 1 pruned); 6 finished trials asked for" in page
    assert "floats from 0.0001 to 0.1, log scale" in page  # the space, in words
    # history, per-epoch curves, importances and parallel coordinates, embedded as PNGs
    pngs = images(page)
    assert len(pngs) == 4 and all(png.startswith(PNG_SIGNATURE) for png in pngs)
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "epochs.png",
        "history.png",
        "importances.png",
        "parallel.png",
    ]
    # the importances table holds Optuna's own numbers
    expected = optuna.importance.get_param_importances(study)
    for name, share in expected.items():
        assert f"<tr><td>{name}</td><td>{share:.3f}</td></tr>" in page
    assert "http" not in page.replace('lang="en"', "")  # nothing fetched from elsewhere


def test_importances_and_history_say_why_they_are_missing(tmp_path):
    one = study_of([trial(TrialState.COMPLETE, 0.003, 0.0, [0.8])])
    page = render_tune_report(tmp_path, one, spec(tmp_path)).read_text()
    assert "Not computed: it needs at least 2 complete trials, and there are 1." in page
    assert len(images(page)) == 2  # the history and the per-epoch curve
    only_pruned = study_of([trial(TrialState.PRUNED, 0.003, 0.0, [0.5])])
    page = render_tune_report(tmp_path, only_pruned, spec(tmp_path)).read_text()
    assert "No trial has completed yet." in page
    assert "Drawn once a trial has completed." in page  # the history
    assert "Drawn once 2 trials have completed." in page  # parallel coordinates
    assert len(images(page)) == 1  # the per-epoch curve of the pruned trial


def test_importances_need_two_settings_that_vary():
    same_dropout = [
        trial(TrialState.COMPLETE, rate, 0.2, [value]) for rate, value in ((0.01, 0.8), (0.02, 0.7))
    ]
    assert importance_unavailable(same_dropout) == (
        "it needs at least 2 settings that vary among the complete trials (varied: learning_rate)"
    )
    varied = [*same_dropout, trial(TrialState.COMPLETE, 0.03, 0.4, [0.6])]
    assert importance_unavailable(varied) is None
