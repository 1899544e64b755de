"""ember tune on a real PostgreSQL server (what several machines share): the test starts one in a
temporary folder with the Debian package's initdb and pg_ctl, and two workers share the study.

Skipped, with the reason, where PostgreSQL's server programs or the psycopg driver are missing.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from ember import recipes
from ember.errors import ConfigError
from ember.tune import tune

MLP = recipes.get("fashion-mlp")


def server_programs() -> tuple[str, str] | None:
    for folder in [None, *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]:
        initdb, pg_ctl = shutil.which("initdb", path=folder), shutil.which("pg_ctl", path=folder)
        if initdb and pg_ctl:
            return initdb, pg_ctl
    return None


def as_server_user(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: run it as nobody then
    return ["runuser", "-u", "nobody", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def postgres_url():
    programs = server_programs()
    if programs is None:
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed (apt install postgresql)")
    pytest.importorskip("psycopg", reason="the psycopg driver is missing: pip install psycopg")
    initdb, pg_ctl = programs
    folder = Path(tempfile.mkdtemp(prefix="ember-postgres-"))
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(folder, nobody.pw_uid, nobody.pw_gid)
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = folder / "data"
    subprocess.run(
        as_server_user([initdb, "-D", str(data), "-U", "postgres", "--auth=trust"]),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = [pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"]
    subprocess.run(as_server_user(start), check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres:unused@127.0.0.1:{port}/postgres"
    finally:
        stop = [pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]
        subprocess.run(as_server_user(stop), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_two_workers_share_a_study_on_a_postgresql_server(postgres_url, tmp_path):
    grid = {"dropout": [0.0, 0.2, 0.4]}
    config = MLP.config(epochs=1, train_samples=300, hidden_units=8, device="cpu", feature_maps=())
    result = tune(
        MLP, grid, sampler="grid", pruner="none", storage=postgres_url, study_name="mlp-grid",
        workers=2, config=config, out=tmp_path / "search",
    )  # fmt: skip
    # what any machine reading the server sees: the grid, once
    study = optuna.load_study(study_name="mlp-grid", storage=postgres_url)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3
    assert sorted(t.params["dropout"] for t in study.trials) == grid["dropout"]
    assert result.best_value == study.best_value
    # the second worker opened the same study on the server
    log = (tmp_path / "search" / "workers" / "worker-1.log").read_text()
    assert "Using an existing study with `study_name='mlp-grid'`" in log
    # the password is neither shown nor kept: continuing the search needs the URL again
    for written in ("report.html", "tune.json"):
        assert "unused" not in (tmp_path / "search" / written).read_text()
    with pytest.raises(ConfigError, match=r"password is not kept in the folder.*--storage"):
        tune(MLP, grid, sampler="grid", config=config, out=tmp_path / "search")


def test_a_database_the_server_does_not_have_is_named_with_the_fix(postgres_url, tmp_path):
    url = postgres_url.rsplit("/", 1)[0] + "/no_such_database"
    with pytest.raises(ConfigError, match=r'database "no_such_database" does not exist.*Fix'):
        tune(MLP, {"dropout": [0.0]}, sampler="grid", storage=url, out=tmp_path / "search")
    assert not (tmp_path / "search").exists()
