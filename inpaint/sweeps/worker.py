"""A grid worker: claim a queued cell, run it with a heartbeat, store its results; repeat until done.

Any number of workers (processes, machines) may run this loop on the same study at once.
"""

from __future__ import annotations

import json
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import Trial, TrialState

from inpaint.errors import UnavailableError, user_input_cause
from inpaint.lit.machine import peak_rss_mib
from inpaint.naming import slug
from inpaint.sweeps.objective import Objective, TrialContext, TrialOutcome
from inpaint.sweeps.optuna_private import study_storage, trial_id
from inpaint.sweeps.queue import (
    CELL_ATTR,
    ERROR_ATTR,
    UNAVAILABLE_ATTR,
    UNAVAILABLE_PATH_ATTR,
    Cell,
    QueueState,
    claim_next,
    grid_cells,
    sync_queue,
)
from inpaint.sweeps.spec import GridRule
from inpaint.sweeps.stop import StopRequest
from inpaint.sweeps.trial_log import LOG_NAME, trial_output

# Events sent to a progress display: ("sync", QueueState) | ("start", trial_number, cell) | ("done", …)
EventSink = Callable[[str, dict[str, Any]], None]


@contextmanager
def heartbeat(storage: Any, trial_id: int, interval_s: float) -> Iterator[None]:
    """Record a heartbeat for ``trial_id`` every ``interval_s`` seconds while the block runs."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.is_set():
            try:
                storage.record_heartbeat(trial_id)
            except Exception:  # a transient DB error must not kill the training run; the next beat retries
                pass
            stop.wait(interval_s)

    thread = threading.Thread(target=beat, name=f"optuna-heartbeat-{trial_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def cell_slug(cell: Cell) -> str:
    """A file-system-safe name for a cell, e.g. ``seed=0_variant=2global-local__global-local``."""
    return "_".join(f"{name}={slug(str(value))}" for name, value in cell.items())


def trial_run_dir(runs_dir: Path, cell: Cell, number: int) -> Path:
    """``<runs>/<cell slug>/trial-0007``: the run folder of trial ``number`` of ``cell``."""
    return Path(runs_dir) / cell_slug(cell) / f"trial-{number:04d}"


def run_trial(
    study: optuna.Study,
    trial: Trial,
    cell: Cell,
    objective: Objective,
    runs_dir: Path,
    axes: Mapping[str, Sequence[Any]] | None = None,
    quiet: bool = False,
) -> TrialState:
    """Run one claimed trial and store its outcome (COMPLETE with user attrs, FAIL with the error).

    ``quiet``: everything the trial prints goes to ``<run dir>/trial.log`` instead (:mod:`inpaint.sweeps.trial_log`).
    """
    for name, value in cell.items():
        # Records parameter + distribution on the trial; the fixed (enqueued) value is returned.
        choices = list(axes[name]) if axes and name in axes and value in axes[name] else [value]
        trial.suggest_categorical(name, choices)
    run_dir = trial_run_dir(runs_dir, cell, trial.number)
    run_dir.mkdir(parents=True, exist_ok=True)
    trial.set_user_attr("run_dir", str(run_dir))
    trial.set_user_attr("worker", f"{os.uname().nodename}:{os.getpid()}")
    started = time.perf_counter()
    storage = study_storage(study)
    interval = storage.get_heartbeat_interval() or 10
    log = run_dir / LOG_NAME
    try:
        with heartbeat(storage, trial_id(trial), interval), trial_output(log, enabled=quiet):
            outcome = objective(TrialContext(trial=trial, params=dict(cell), run_dir=run_dir))
    except optuna.TrialPruned:
        study.tell(trial, state=TrialState.PRUNED)
        return TrialState.PRUNED
    except BaseException as err:  # KeyboardInterrupt included: the cell is re-queued at the next start
        trial.set_user_attr(ERROR_ATTR, "".join(traceback.format_exception_only(type(err), err)).strip()[-2000:])
        missing = user_input_cause(err)
        if isinstance(missing, UnavailableError):
            # not a failure of the cell: it cannot start on this machine or data (a weight file, segmentation maps).
            # Reports show n/a with this reason; the next start of the sweep tries again.
            trial.set_user_attr(UNAVAILABLE_ATTR, str(missing))
            trial.set_user_attr(UNAVAILABLE_PATH_ATTR, missing.path)
            study.tell(trial, state=TrialState.FAIL)
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(f"n/a: {missing}\n")
            return TrialState.FAIL
        study.tell(trial, state=TrialState.FAIL)
        if not isinstance(err, Exception):
            raise
        if quiet:
            with open(log, "a", encoding="utf-8") as handle:
                traceback.print_exc(file=handle)
        else:
            traceback.print_exc()
        return TrialState.FAIL
    store_outcome(trial, outcome, wall_s=time.perf_counter() - started)
    study.tell(trial, outcome.value)
    return TrialState.COMPLETE


def store_outcome(trial: Trial, outcome: TrialOutcome, wall_s: float) -> None:
    """Put everything a report needs on the trial, as JSON-serialisable user attributes."""
    trial.set_user_attr("metrics", json.loads(json.dumps(outcome.metrics, default=float)))
    trial.set_user_attr("config", json.loads(json.dumps(outcome.config, default=str)))
    for key, value in outcome.extra.items():
        trial.set_user_attr(key, json.loads(json.dumps(value, default=str)))
    trial.set_user_attr("wall_s", round(wall_s, 3))
    trial.set_user_attr("peak_rss_mb", round(peak_rss_mib(), 1))


@dataclass
class WorkerSummary:
    """What one worker did."""

    ran: list[int] = field(default_factory=list)  # trial numbers
    failed: list[int] = field(default_factory=list)
    final: QueueState | None = None


def run_grid_worker(
    study: optuna.Study,
    axes: Mapping[str, Sequence[Any]],
    objective: Objective,
    runs_dir: str | Path,
    poll_s: float = 2.0,
    on_event: EventSink | None = None,
    max_trials: int | None = None,
    stop: StopRequest | None = None,
    quiet: bool = False,
    only_where: Sequence[GridRule] = (),
) -> WorkerSummary:
    """Work through the study's grid until every cell is finished (by this or other workers).

    A worker whose queue is empty keeps polling while other trials are RUNNING: if their worker dies, the
    heartbeat goes stale after the storage's grace period, the trial is failed and re-queued, and this worker
    picks it up.

    Args:
        max_trials: stop after running this many trials (None = until the grid is done).
        stop: checked before each claim; a requested stop raises ``SIGTERMException`` (:mod:`inpaint.sweeps.stop`).
        quiet: each trial's output goes to its run folder's ``trial.log`` (:func:`run_trial`).
        only_where: the grid's rules (:attr:`~inpaint.sweeps.spec.SweepSpec.only_where`): cells they leave out are
            never queued.
    """
    cells = grid_cells(axes, only_where)
    runs_dir = Path(runs_dir)
    emit = on_event or (lambda _kind, _data: None)
    summary = WorkerSummary()
    state = sync_queue(study, cells, requeue_failed=True)
    emit("sync", {"state": state})
    while max_trials is None or len(summary.ran) < max_trials:
        if stop is not None:
            stop.check()
        trial = claim_next(study)
        if trial is None:
            state = sync_queue(study, cells, requeue_failed=False)
            emit("sync", {"state": state})
            if state.idle:
                break
            if state.waiting == 0:
                time.sleep(poll_s)
            continue
        frozen = study_storage(study).get_trial(trial_id(trial))
        cell: Cell = dict(frozen.system_attrs.get("fixed_params") or {})
        emit("start", {"number": trial.number, "cell": cell, "run_dir": trial_run_dir(runs_dir, cell, trial.number)})
        result = run_trial(study, trial, cell, objective, runs_dir, axes, quiet=quiet)
        summary.ran.append(trial.number)
        if result == TrialState.FAIL:
            summary.failed.append(trial.number)
        emit("done", {"number": trial.number, "cell": cell, "state": result,
                      "attrs": study_storage(study).get_trial(trial_id(trial)).user_attrs})
    summary.final = state
    return summary


__all__ = ["run_grid_worker", "run_trial", "trial_run_dir", "heartbeat", "cell_slug", "WorkerSummary", "CELL_ATTR"]
