"""Optuna storage for sweeps: one URL (SQLite file by default, PostgreSQL across machines).

Three things matter for resumable, parallel sweeps and are set up here:

* **Heartbeats.** Every running trial writes a heartbeat every ``heartbeat_interval`` seconds; a RUNNING trial
  whose last heartbeat is older than ``grace_period`` belongs to a dead worker (SIGKILL, OOM, lost machine).
  :func:`optuna.storages.fail_stale_trials` marks it FAIL and Optuna's
  :class:`~optuna.storages.RetryHeartbeatStaleTrialCallback` enqueues a WAITING copy with the same parameters.
  The FAIL transition is a checked state change, so exactly one worker re-queues a given dead trial.
* **Atomic claims on SQLite.** Optuna claims a queued trial by reading it WAITING and writing RUNNING. PostgreSQL
  locks the row (``SELECT … FOR UPDATE``); SQLite ignores that clause and Python's sqlite3 driver starts the
  transaction only at the write, so two processes can both read WAITING and both "win". We make every SQLite
  transaction ``BEGIN IMMEDIATE`` (the write lock is taken before the read), which restores the atomicity.
* **A population lock** (:func:`population_lock`): adding the grid cells to the queue must happen under mutual
  exclusion, otherwise two workers starting together enqueue every cell twice. SQLite uses an OS file lock
  next to the database, PostgreSQL a session advisory lock; both vanish with the process that holds them, so a
  killed worker never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

from inpaint.sweeps.optuna_private import study_id, study_storage, trial_model, uncached_storage

DEFAULT_HEARTBEAT_INTERVAL_S = 10
DEFAULT_GRACE_PERIOD_S = 60
SQLITE_BUSY_TIMEOUT_S = 120


def default_storage_url(results_dir: str | Path) -> str:
    """The SQLite file holding every study of one results folder (``<results>/studies.db``)."""
    path = Path(results_dir) / "studies.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def sqlite_path(url: str) -> Path | None:
    """The database file of a ``sqlite:///path`` URL, or None for other back-ends."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///") :]
    if not path or path == ":memory:":
        raise ValueError(f"storage URL {url!r}: sweeps need a file database (e.g. sqlite:///results/studies.db)")
    return Path(path)


def _backend(url: str) -> str:
    if url.startswith("sqlite:"):
        return "sqlite"
    if url.startswith(("postgresql:", "postgresql+", "postgres:")):
        return "postgresql"
    raise ValueError(
        f"storage URL {url!r} is not supported: use sqlite:///<file> (one machine) or "
        "postgresql://user@host:port/db (several machines)"
    )


def normalise_url(url: str) -> str:
    """Pick an installed PostgreSQL driver for plain ``postgresql://`` URLs.

    SQLAlchemy 2.1 maps ``postgresql://`` to psycopg 3; the suite's dependency is ``psycopg2-binary``, so such
    URLs are rewritten to ``postgresql+psycopg2://`` when psycopg 3 is missing. Other URLs pass unchanged.
    """
    import importlib.util

    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix) and importlib.util.find_spec("psycopg") is None:
            if importlib.util.find_spec("psycopg2") is None:
                raise ImportError(f"storage URL {url!r} needs a PostgreSQL driver: pip install psycopg2-binary")
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def _make_sqlite_transactions_immediate(storage: RDBStorage) -> None:
    """Take SQLite's write lock at BEGIN so read-then-write state changes are atomic (see module doc)."""
    from sqlalchemy import event

    engine = storage.engine

    @event.listens_for(engine, "connect")
    def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below, not the driver, decide where a transaction starts.
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    engine.dispose()  # connections opened during table creation predate the listeners


def open_storage(
    url: str,
    heartbeat_interval: int = DEFAULT_HEARTBEAT_INTERVAL_S,
    grace_period: int = DEFAULT_GRACE_PERIOD_S,
    max_retry: int | None = 3,
) -> RDBStorage:
    """An RDB storage with heartbeats and stale-trial re-queueing.

    Args:
        url: SQLAlchemy URL, ``sqlite:///file.db`` or ``postgresql://…``.
        heartbeat_interval: seconds between heartbeats of a running trial.
        grace_period: a RUNNING trial without heartbeat for this long is declared dead (FAIL) and re-queued.
            Must exceed ``heartbeat_interval`` comfortably, since a busy machine delays heartbeats.
        max_retry: how often one grid cell is re-queued after its worker died (None = no limit).
    """
    url = normalise_url(url)
    backend = _backend(url)
    if grace_period <= heartbeat_interval:
        raise ValueError(
            f"grace_period ({grace_period} s) must be larger than heartbeat_interval ({heartbeat_interval} s)"
        )
    engine_kwargs: dict[str, Any] = {}
    if backend == "sqlite":
        path = sqlite_path(url)
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        engine_kwargs = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S}}
    else:
        engine_kwargs = {"pool_pre_ping": True}
    import warnings

    # Workers starting together on a fresh database would race on creating Optuna's tables.
    with population_lock(url, "__create_tables__"), warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = RDBStorage(
            url,
            engine_kwargs=engine_kwargs,
            heartbeat_interval=heartbeat_interval,
            grace_period=grace_period,
            heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=max_retry),
        )
    if backend == "sqlite":
        _make_sqlite_transactions_immediate(storage)
    return storage


def fail_trials_without_heartbeat(study: optuna.Study) -> list[int]:
    """FAIL (and re-queue) RUNNING trials that never wrote a heartbeat and started more than a grace period ago.

    Optuna only declares a trial stale from its last heartbeat, so a worker killed between claiming a trial
    and its first heartbeat would leave that trial RUNNING forever. Workers record a heartbeat right after a
    claim, which makes this window milliseconds wide; this sweep closes it. Start times are written by the
    claiming machine's clock, so machines sharing a PostgreSQL study should keep their clocks in sync.
    """
    import datetime

    from optuna.trial import TrialState

    trials = trial_model()  # Optuna's own table model: there is no public query for heartbeat-less trials
    storage = rdb_storage(study)
    grace = storage.grace_period or 2 * (storage.heartbeat_interval or DEFAULT_HEARTBEAT_INTERVAL_S)
    cutoff = datetime.datetime.now() - datetime.timedelta(seconds=grace)
    session = storage.scoped_session()
    try:
        orphans = [
            t.trial_id
            for t in session.query(trials)
            .filter(trials.study_id == study_id(study), trials.state == TrialState.RUNNING)
            .all()
            if not t.heartbeats and t.datetime_start is not None and t.datetime_start < cutoff
        ]
        session.commit()
    finally:
        session.close()
    failed = []
    for trial_id in orphans:
        try:
            if storage.set_trial_state_values(trial_id, state=TrialState.FAIL):
                failed.append(trial_id)
        except optuna.exceptions.UpdateFinishedTrialError:
            pass
    callback = storage.get_heartbeat_stale_trial_callback()
    for trial_id in failed:
        if callback is not None:
            callback(study, storage.get_trial(trial_id))
    return failed


def _advisory_key(study_name: str) -> int:
    """A signed 64-bit key for pg_advisory_lock derived from the study name."""
    digest = hashlib.sha256(f"inpaint-sweep-populate:{study_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def rdb_storage(study: optuna.Study) -> RDBStorage:
    """The RDB storage behind a study (Optuna wraps it in a private caching layer)."""
    storage = uncached_storage(study_storage(study))
    if not isinstance(storage, RDBStorage):
        raise TypeError(f"sweeps need an RDB storage (sqlite/postgresql URL), got {type(storage).__name__}")
    return storage


@functools.lru_cache(maxsize=8)
def _lock_engine(url: str) -> Any:
    from sqlalchemy import create_engine

    return create_engine(normalise_url(url), pool_pre_ping=True, pool_size=1)


@contextlib.contextmanager
def population_lock(url: str, study_name: str, timeout_s: float = 300.0) -> Iterator[None]:
    """Mutual exclusion for queue maintenance of one study, across processes and machines.

    Raises:
        TimeoutError: when another worker holds the lock for longer than ``timeout_s``.
    """
    backend = _backend(url)
    if backend == "sqlite":
        path = sqlite_path(url)
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = path.with_name(f"{path.name}.{hashlib.sha1(study_name.encode()).hexdigest()[:12]}.lock")
        with open(lock_path, "a+") as handle:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError as busy:
                    if time.monotonic() > deadline:
                        message = f"queue lock {lock_path} held by another worker for > {timeout_s} s"
                        raise TimeoutError(message) from busy
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    from sqlalchemy import text

    key = _advisory_key(study_name)
    with _lock_engine(url).connect() as connection:
        deadline = time.monotonic() + timeout_s
        while not connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            connection.commit()
            if time.monotonic() > deadline:
                raise TimeoutError(f"advisory lock for study {study_name!r} held by another worker for > {timeout_s} s")
            time.sleep(0.05)
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            connection.commit()
