"""Where a study lives: an Optuna RDB storage (SQLite by default, any SQLAlchemy URL), opened with
heartbeats so that a trial whose process was killed is failed and run again.

A running trial records a heartbeat every ``heartbeat`` seconds. When one has been silent for
twice that long, the next worker to start a trial marks it failed, and Optuna's
``RetryHeartbeatStaleTrialCallback`` queues a copy with the same parameters.

Example:
    >>> import pathlib, tempfile
    >>> url = default_url(pathlib.Path(tempfile.mkdtemp()))
    >>> url.startswith("sqlite:///") and url.endswith("/study.db")
    True
    >>> storage = open_storage(url, heartbeat=10)
    >>> storage.get_heartbeat_interval()
    10
    >>> shown_url("postgresql+psycopg://tuner:secret@db.lan:5432/ember")
    'postgresql+psycopg://tuner:***@db.lan:5432/ember'
"""

from __future__ import annotations

import warnings
from pathlib import Path

import optuna
import sqlalchemy
import sqlalchemy.exc
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

from ember.errors import ConfigError

STUDY_FILE = "study.db"
MAX_RETRIES = 3  # a trial killed this many times is left failed: its parameters may be the cause
SQLITE_LOCK_WAIT = 60  # seconds a worker waits for another's write to SQLite before failing


def default_url(folder: Path) -> str:
    """The SQLite file in a tune folder (an absolute path: workers may start elsewhere)."""
    return f"sqlite:///{(Path(folder) / STUDY_FILE).resolve()}"


def shown_url(url: str) -> str:
    """``url`` with its password hidden, for messages and reports."""
    try:
        return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return url


def open_storage(url: str, heartbeat: int) -> RDBStorage:
    """Open (and create the tables of) the study storage at ``url``, or raise a ConfigError
    naming the URL, why it cannot be opened and the fix."""
    engine_kwargs = {}
    if url.startswith("sqlite"):
        engine_kwargs = {"connect_args": {"timeout": SQLITE_LOCK_WAIT}}
    try:
        with warnings.catch_warnings():
            # heartbeats are "experimental" in Optuna's terms; they are what resume relies on
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=heartbeat,
                heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(
                    max_retry=MAX_RETRIES
                ),
            )
    except (sqlalchemy.exc.SQLAlchemyError, ImportError) as error:
        raise ConfigError(
            f"cannot open the study storage {shown_url(url)!r}: {_reason(error)}. "
            f"Fix: {_fix(url, error)}"
        ) from None


def _reason(error: BaseException) -> str:
    if isinstance(error, ImportError):
        cause = error.__cause__
        return f"its database driver is not installed ({cause or error})"
    original = getattr(error, "orig", None)  # the driver's own error, without SQLAlchemy's links
    text = str(original if original is not None else error)
    return " ".join(text.split("\n")[0].split())


def _fix(url: str, error: BaseException) -> str:
    if isinstance(error, sqlalchemy.exc.ArgumentError):
        return (
            "pass an SQLAlchemy URL such as sqlite:///tune.db (a file here), "
            "sqlite:////absolute/path/tune.db or postgresql+psycopg://user:password@host:5432/db."
        )
    if url.startswith("sqlite"):
        return "make sure the file's folder exists and is writable (sqlite:/// then the path)."
    if url.startswith("postgresql"):
        return (
            "check that the server is running and the host, port, user, password and database "
            "are right; the driver is psycopg 3 (pip install 'psycopg[binary]', URL "
            "postgresql+psycopg://...)."
        )
    return "check the URL, that the database server is reachable and its driver installed."


__all__ = ["default_url", "open_storage", "shown_url"]
