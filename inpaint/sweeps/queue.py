"""The grid-cell queue of a study: every cell enqueued exactly once, claimed by exactly one worker.

Optuna's :class:`~optuna.samplers.GridSampler` on its own picks "an unvisited cell" per worker, and two workers
asking at the same moment can pick the same one (its own docs say duplicated points are possible under
distributed optimisation). We therefore *enqueue* each cell as a WAITING trial (fixed parameters) under the
study's population lock and let workers claim a WAITING trial by the storage's checked WAITING → RUNNING
transition, which at most one worker can win. The GridSampler stays attached to the study: it declares the
grid (visible in optuna-dashboard) and never samples, because every trial carries fixed parameters.
"""

from __future__ import annotations

import itertools
import json
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import fail_stale_trials
from optuna.trial import FrozenTrial, Trial, TrialState

from inpaint.sweeps.optuna_private import study_id, study_storage, trial_id
from inpaint.sweeps.spec import GridRule
from inpaint.sweeps.storage import fail_trials_without_heartbeat, population_lock, rdb_storage

GridValue = str | int | float | bool
Cell = dict[str, GridValue]
CELL_ATTR = "cell"
ERROR_ATTR = "error"
#: set on a trial that could not start because something it needs is missing (:class:`inpaint.errors.UnavailableError`:
#: a weight file, the data's segmentation maps)
UNAVAILABLE_ATTR = "unavailable"
UNAVAILABLE_PATH_ATTR = "unavailable_path"  # the missing file, if one: the cell is re-queued once it exists
LIVE_STATES = (TrialState.WAITING, TrialState.RUNNING, TrialState.COMPLETE)


def grid_cells(axes: Mapping[str, Sequence[GridValue]], only_where: Sequence[GridRule] = ()) -> list[Cell]:
    """All combinations of the axes, in axis order (first axis slowest), e.g. variant × seed; with ``only_where``
    (the spec's grid rules, :class:`~inpaint.sweeps.spec.GridRule`) only those every rule allows."""
    if not axes:
        raise ValueError("a grid needs at least one axis")
    for name, values in axes.items():
        if len(values) == 0:
            raise ValueError(f"grid axis {name!r} has no values")
        if len(set(map(json.dumps, values))) != len(values):
            raise ValueError(f"grid axis {name!r} repeats a value: {list(values)}")
    names = list(axes)
    cells = [dict(zip(names, combo)) for combo in itertools.product(*(axes[n] for n in names))]
    kept = [cell for cell in cells if all(rule.allows(cell) for rule in only_where)]
    if not kept:
        raise ValueError(f"the grid's only_where rules leave none of its {len(cells)} cells")
    return kept


def cell_key(cell: Mapping[str, Any]) -> str:
    """A canonical string naming one grid cell (stable across processes and machines)."""
    return json.dumps(dict(cell), sort_keys=True, separators=(",", ":"))


def trial_cell_key(trial: FrozenTrial) -> str:
    """The cell a trial belongs to, from its fixed parameters (kept by retries) or its parameters."""
    params = trial.system_attrs.get("fixed_params") or trial.params
    return cell_key(params)


@dataclass
class QueueState:
    """Counts of one study's trials after a queue synchronisation."""

    total_cells: int
    complete: int = 0
    running: int = 0
    waiting: int = 0
    failed_cells: list[str] = field(default_factory=list)  # cells with failures only, not re-queued
    enqueued: int = 0

    @property
    def idle(self) -> bool:
        """Nothing left that a worker could claim now or later (no WAITING and no RUNNING trial)."""
        return self.running == 0 and self.waiting == 0


def sync_queue(study: optuna.Study, cells: Iterable[Cell], requeue_failed: bool) -> QueueState:
    """Fail dead trials, then enqueue every cell that has no live trial (under the population lock).

    Args:
        study: the study (RDB storage with heartbeats, see :func:`inpaint.sweeps.storage.open_storage`).
        cells: the grid.
        requeue_failed: also re-queue cells whose trials all failed (raised an exception, or died more often
            than the retry limit allows). True when a command starts (a re-run is a new attempt); False while
            workers poll, so a cell that fails deterministically is not retried in a loop. A cell that could not
            start for a missing weight file is re-queued only once that file exists; one that could not start for
            another reason (e.g. the data has no segmentation maps) is tried again at each start.
    """
    cells = list(cells)
    keys = [cell_key(c) for c in cells]
    if len(set(keys)) != len(keys):
        raise ValueError("the grid has duplicate cells")
    with population_lock(rdb_storage(study).url, study.study_name):
        # Dead workers' RUNNING trials become FAIL; Optuna's retry callback enqueues one WAITING copy each.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            fail_stale_trials(study)
        fail_trials_without_heartbeat(study)
        trials = study.get_trials(deepcopy=False)
        live: Counter[str] = Counter()
        seen: set[str] = set()
        complete: set[str] = set()
        state = QueueState(total_cells=len(cells))
        for t in trials:
            key = trial_cell_key(t)
            seen.add(key)
            if t.state in LIVE_STATES:
                live[key] += 1
            if t.state == TrialState.COMPLETE:
                complete.add(key)
            elif t.state == TrialState.RUNNING:
                state.running += 1
            elif t.state == TrialState.WAITING:
                state.waiting += 1
        waiting_for_file = {key for key, (_, _, path) in _unavailable(trials).items()
                            if path and not Path(path).exists()}
        for cell, key in zip(cells, keys):
            if live[key]:
                continue
            if key in seen and (not requeue_failed or key in waiting_for_file):
                state.failed_cells.append(key)
                continue
            study.enqueue_trial(cell, user_attrs={CELL_ATTR: key})
            state.enqueued += 1
            state.waiting += 1
        state.complete = len(complete.intersection(keys))
    return state


def incomplete_cells(study: optuna.Study, cells: Iterable[Cell]) -> list[str]:
    """Keys of the grid cells that have no COMPLETE trial now (a cell that failed once and was retried with success
    counts as complete: the sweep's status is the current state of each cell, not its history)."""
    complete = {trial_cell_key(t) for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))}
    return [key for key in map(cell_key, cells) if key not in complete]


def _unavailable(trials: Iterable[FrozenTrial]) -> dict[str, tuple[Cell, str, str]]:
    """Cells without a COMPLETE trial whose latest failed attempt could not start (:class:`~inpaint.errors.
    UnavailableError`): cell key → (cell, the one-line reason, the missing file or "")."""
    trials = list(trials)
    complete = {trial_cell_key(t) for t in trials if t.state == TrialState.COMPLETE}
    latest: dict[str, FrozenTrial] = {}
    for t in sorted((t for t in trials if t.state == TrialState.FAIL), key=lambda t: t.number):
        latest[trial_cell_key(t)] = t
    return {
        key: (dict(t.system_attrs.get("fixed_params") or t.params), str(t.user_attrs[UNAVAILABLE_ATTR]),
              str(t.user_attrs.get(UNAVAILABLE_PATH_ATTR, "")))
        for key, t in latest.items()
        if key not in complete and UNAVAILABLE_ATTR in t.user_attrs
    }


def unavailable_cells(study: optuna.Study) -> dict[str, tuple[Cell, str]]:
    """Cells that could not start on the machine or data that last tried them (a weight file or the segmentation
    maps were missing, and no attempt has completed since): cell key → (cell, the one-line reason). Reports show
    them as n/a with the reason."""
    return {key: (cell, reason) for key, (cell, reason, _) in _unavailable(study.get_trials(deepcopy=False)).items()}


def claim_next(study: optuna.Study) -> Trial | None:
    """Atomically move one WAITING trial to RUNNING for this worker; None when the queue is empty."""
    storage = study_storage(study)
    for frozen in storage.get_all_trials(study_id(study), deepcopy=False, states=(TrialState.WAITING,)):
        claimed = trial_id(frozen)
        try:
            if not storage.set_trial_state_values(claimed, state=TrialState.RUNNING):
                continue  # another worker won this one
        except UpdateFinishedTrialError:
            continue
        # First heartbeat at once: a trial without any heartbeat is only failed by its start time (slower).
        if hasattr(storage, "record_heartbeat"):
            storage.record_heartbeat(claimed)
        return Trial(study, claimed)
    return None
