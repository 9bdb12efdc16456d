"""Sweep engine: grid queue, exactly-once claims with concurrent workers, resume after SIGKILL.

Real Optuna storages (SQLite file, PostgreSQL when available) and real worker subprocesses. The objective is a
cheap but real computation (a seeded least-squares fit) that records every start and finish in a ledger
folder, so the tests can count how often each grid cell actually ran.

Run as a script, this file is the worker:
    python tests/test_sweeps_engine.py URL STUDY LEDGER SLEEP_S N_VARIANTS N_SEEDS
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import numpy as np
import optuna
import pytest
from lightning.pytorch.utilities.exceptions import SIGTERMException
from optuna.trial import TrialState

from inpaint.errors import MissingWeightsError, UnavailableError
from inpaint.sweeps.objective import TrialContext, TrialOutcome
from inpaint.sweeps.optuna_private import study_storage, trial_id
from inpaint.sweeps.queue import cell_key, claim_next, grid_cells, incomplete_cells, sync_queue, unavailable_cells
from inpaint.sweeps.stop import StopRequest
from inpaint.sweeps.storage import normalise_url, open_storage
from inpaint.sweeps.study import open_grid_study
from inpaint.sweeps.worker import run_grid_worker

HEARTBEAT_S, GRACE_S = 1, 3
WORKER_TIMEOUT_S = 60


def toy_axes(n_variants: int, n_seeds: int) -> dict[str, list]:
    return {"variant": [f"v{i}" for i in range(n_variants)], "seed": list(range(n_seeds))}


class LedgerObjective:
    """Least-squares residual of a seeded random system; logs start/done markers into ``ledger``."""

    def __init__(self, ledger: Path, sleep_s: float) -> None:
        self.ledger, self.sleep_s = ledger, sleep_s

    def __call__(self, ctx: TrialContext) -> TrialOutcome:
        key = cell_key(ctx.params)
        tag = f"{abs(hash(key)) % 10**8}-{ctx.trial.number}-{os.getpid()}"
        (self.ledger / f"start-{tag}.json").write_text(key)
        rng = np.random.default_rng([int(ctx.params["seed"]), sum(map(ord, str(ctx.params["variant"])))])
        a, b = rng.normal(size=(32, 4)), rng.normal(size=32)
        _, residual, *_ = np.linalg.lstsq(a, b, rcond=None)
        time.sleep(self.sleep_s)  # stands in for training time, so a kill can land mid-trial
        (self.ledger / f"done-{tag}.json").write_text(key)
        return TrialOutcome(value=float(residual[0]), metrics={"residual": float(residual[0])})


def ledger_counts(ledger: Path, kind: str) -> Counter[str]:
    return Counter(p.read_text() for p in ledger.glob(f"{kind}-*.json"))


def worker_main(url: str, study_name: str, ledger: str, sleep_s: float, n_variants: int, n_seeds: int) -> int:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    axes = toy_axes(n_variants, n_seeds)
    storage = open_storage(url, heartbeat_interval=HEARTBEAT_S, grace_period=GRACE_S)
    study = open_grid_study(storage, study_name, axes, direction="minimize")
    stop = StopRequest().install()
    try:
        run_grid_worker(study, axes, LedgerObjective(Path(ledger), sleep_s), Path(ledger) / "runs", poll_s=0.3,
                        stop=stop)
    except SIGTERMException:
        return stop.exit_code
    return 0


SPAWNED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _reap_workers():
    """Kill worker processes a failing test left behind."""
    yield
    while SPAWNED:
        proc = SPAWNED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def spawn_worker(url: str, study: str, ledger: Path, sleep_s: float, n_variants: int, n_seeds: int) -> subprocess.Popen:
    args = [sys.executable, __file__, url, study, str(ledger), str(sleep_s), str(n_variants), str(n_seeds)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    SPAWNED.append(proc)
    return proc


def finish(proc: subprocess.Popen) -> str:
    out, _ = proc.communicate(timeout=WORKER_TIMEOUT_S)
    assert proc.returncode == 0, out
    return out


def load_trials(url: str, study_name: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=study_name, storage=normalise_url(url)).get_trials(deepcopy=False)


# --- unit tests of the queue ---------------------------------------------------------------------------------


def test_grid_cells_order_and_validation():
    cells = grid_cells({"variant": ["a", "b"], "seed": [0, 1, 2]})
    assert cells[:3] == [{"variant": "a", "seed": s} for s in range(3)] and len(cells) == 6
    assert cell_key({"seed": 1, "variant": "a"}) == cell_key({"variant": "a", "seed": 1})
    with pytest.raises(ValueError, match="repeats"):
        grid_cells({"seed": [0, 0]})
    with pytest.raises(ValueError, match="no values"):
        grid_cells({"seed": []})


@pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")
def test_sync_queue_is_idempotent_and_requeues_failures_only_at_start(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    axes = toy_axes(2, 1)
    study = open_grid_study(open_storage(url, 1, 3), "q", axes)
    first = sync_queue(study, grid_cells(axes), requeue_failed=True)
    again = sync_queue(study, grid_cells(axes), requeue_failed=True)
    assert (first.enqueued, again.enqueued, again.waiting) == (2, 0, 2)
    # A trial that raised: not retried while workers poll, retried when a command starts again.
    trial = study.ask()  # pops the first WAITING trial
    study.tell(trial, state=TrialState.FAIL)
    polling = sync_queue(study, grid_cells(axes), requeue_failed=False)
    assert polling.enqueued == 0 and len(polling.failed_cells) == 1
    restart = sync_queue(study, grid_cells(axes), requeue_failed=True)
    assert restart.enqueued == 1 and restart.waiting == 2


def test_claimed_trial_without_heartbeat_is_failed_and_requeued_after_grace(tmp_path):
    """A worker killed between its claim and its first heartbeat must not block the cell forever."""
    study = open_grid_study(open_storage(f"sqlite:///{tmp_path / 's.db'}", 1, 2), "orphan", toy_axes(1, 1))
    sync_queue(study, grid_cells(toy_axes(1, 1)), requeue_failed=True)
    (waiting,) = study.get_trials(states=(TrialState.WAITING,))
    assert study_storage(study).set_trial_state_values(trial_id(waiting), TrialState.RUNNING)  # claimed, then "killed"
    assert sync_queue(study, grid_cells(toy_axes(1, 1)), requeue_failed=False).running == 1  # within grace
    time.sleep(2.2)
    state = sync_queue(study, grid_cells(toy_axes(1, 1)), requeue_failed=False)
    states = sorted(t.state.name for t in study.get_trials())
    assert states == ["FAIL", "WAITING"] and state.waiting == 1 and state.enqueued == 0
    (retry,) = study.get_trials(states=(TrialState.WAITING,))
    assert retry.system_attrs["failed_trial"] == waiting.number


def test_sqlite_url_validation(tmp_path):
    with pytest.raises(ValueError, match="file database"):
        open_storage("sqlite:///:memory:")
    with pytest.raises(ValueError, match="not supported"):
        open_storage("mysql://x/y")
    with pytest.raises(ValueError, match="grace_period"):
        open_storage(f"sqlite:///{tmp_path / 'a.db'}", heartbeat_interval=5, grace_period=5)


# --- real processes ------------------------------------------------------------------------------------------


def test_sigkill_midway_then_rerun_completes_without_rerunning_finished(tmp_path):
    url, study, ledger = f"sqlite:///{tmp_path / 'studies.db'}", "killme", tmp_path / "ledger"
    ledger.mkdir()
    n_cells = 6
    proc = spawn_worker(url, study, ledger, 1.0, 3, 2)  # 6 cells of 1 s: the kill lands with ≥ 3 s margin
    deadline = time.monotonic() + WORKER_TIMEOUT_S
    while sum(ledger_counts(ledger, "done").values()) < 2:
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline, "worker made no progress"
        time.sleep(0.05)
    time.sleep(0.3)  # land inside the next trial
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = ledger_counts(ledger, "done")
    started_before = ledger_counts(ledger, "start")
    assert 2 <= len(done_before) < n_cells

    finish(spawn_worker(url, study, ledger, 0.05, 3, 2))

    trials = load_trials(url, study)
    complete = Counter(cell_key(t.params) for t in trials if t.state == TrialState.COMPLETE)
    assert set(complete) == {cell_key(c) for c in grid_cells(toy_axes(3, 2))}
    assert set(complete.values()) == {1}, "a cell completed twice"
    started_after = ledger_counts(ledger, "start")
    for key in done_before:  # finished before the kill: never started again
        assert started_after[key] == 1, key
    interrupted = [k for k in started_before if k not in done_before]
    for key in interrupted:  # killed mid-run: its RUNNING trial went stale, was failed and re-queued once
        assert started_after[key] == 2
        failed = [t for t in trials if t.state == TrialState.FAIL and cell_key(t.params) == key]
        retried = [t for t in trials if t.system_attrs.get("failed_trial") is not None and cell_key(t.params) == key]
        assert len(failed) == 1 and len(retried) == 1
    assert all(t.state in (TrialState.COMPLETE, TrialState.FAIL) for t in trials)


def test_sigterm_stops_after_the_running_trial_with_exit_143_then_rerun_completes(tmp_path):
    """Outside a trainer, SIGTERM lets the running trial finish and stops before the next claim: nothing is lost
    and nothing runs twice."""
    url, study, ledger = f"sqlite:///{tmp_path / 'studies.db'}", "termme", tmp_path / "ledger"
    ledger.mkdir()
    proc = spawn_worker(url, study, ledger, 1.0, 3, 2)
    deadline = time.monotonic() + WORKER_TIMEOUT_S
    while sum(ledger_counts(ledger, "start").values()) < 2:
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline, "worker made no progress"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)  # inside the second trial
    out, _ = proc.communicate(timeout=WORKER_TIMEOUT_S)
    assert proc.returncode == 128 + signal.SIGTERM, out
    assert ledger_counts(ledger, "start") == ledger_counts(ledger, "done")  # the running trial finished
    assert sum(ledger_counts(ledger, "done").values()) == 2
    trials = load_trials(url, study)
    assert all(t.state in (TrialState.COMPLETE, TrialState.WAITING) for t in trials)

    finish(spawn_worker(url, study, ledger, 0.05, 3, 2))
    assert set(ledger_counts(ledger, "done").values()) == {1}  # every cell ran exactly once
    assert len(ledger_counts(ledger, "done")) == 6


def test_status_is_the_current_state_of_each_cell(tmp_path):
    """A cell whose first trial failed and whose retry completed is complete: the sweep's status is not its past."""
    storage = open_storage(f"sqlite:///{tmp_path / 'studies.db'}", heartbeat_interval=HEARTBEAT_S,
                           grace_period=GRACE_S)
    axes = toy_axes(2, 1)
    study = open_grid_study(storage, "status", axes, direction="minimize")
    cells = grid_cells(axes)
    sync_queue(study, cells, requeue_failed=True)
    first = claim_next(study)
    study.tell(first, state=TrialState.FAIL)
    assert incomplete_cells(study, cells) == [cell_key(c) for c in cells]
    sync_queue(study, cells, requeue_failed=True)  # a new run retries the failed cell
    while (trial := claim_next(study)) is not None:
        study.tell(trial, 1.0)
    assert any(t.state == TrialState.FAIL for t in study.get_trials(deepcopy=False))
    assert incomplete_cells(study, cells) == []


class NeedsWeights:
    """Cell ``v1`` needs a weight file (raises MissingWeightsError, wrapped as a config parser would, until it
    exists); every other cell completes."""

    def __init__(self, weights: Path) -> None:
        self.weights = weights
        self.ran: list[str] = []

    def __call__(self, ctx: TrialContext) -> TrialOutcome:
        self.ran.append(str(ctx.params["variant"]))
        if ctx.params["variant"] == "v1" and not self.weights.is_file():
            try:
                raise MissingWeightsError(f"n/a — {self.weights.name} is not in {self.weights.parent}", self.weights)
            except MissingWeightsError as err:
                raise RuntimeError("config could not be parsed") from err
        return TrialOutcome(value=1.0, metrics={})


@pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")
def test_a_cell_missing_a_weight_file_is_na_and_runs_once_the_file_is_there(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 'studies.db'}", heartbeat_interval=HEARTBEAT_S,
                           grace_period=GRACE_S)
    axes = toy_axes(3, 1)
    study = open_grid_study(storage, "weights", axes, direction="minimize")
    objective = NeedsWeights(tmp_path / "hub" / "net.pth")
    summary = run_grid_worker(study, axes, objective, tmp_path / "runs", poll_s=0.1)
    key = cell_key({"variant": "v1", "seed": 0})
    assert objective.ran == ["v0", "v1", "v2"] and summary.failed == [1]
    assert incomplete_cells(study, grid_cells(axes)) == [key]
    (cell, reason), = unavailable_cells(study).values()
    assert cell == {"variant": "v1", "seed": 0} and reason == f"n/a — net.pth is not in {tmp_path / 'hub'}"
    log = (tmp_path / "runs").glob("*v1*/trial-*/trial.log")
    assert any("n/a — net.pth" in p.read_text() for p in log)
    # a new start does not retry it while the file is missing (every worker of a command starts with a sync) ...
    run_grid_worker(study, axes, objective, tmp_path / "runs", poll_s=0.1)
    assert objective.ran == ["v0", "v1", "v2"]
    # ... and runs it once the file exists; then it is complete and no longer n/a
    objective.weights.parent.mkdir()
    objective.weights.write_bytes(b"weights")
    run_grid_worker(study, axes, objective, tmp_path / "runs", poll_s=0.1)
    assert objective.ran[3:] == ["v1"] and incomplete_cells(study, grid_cells(axes)) == []
    assert unavailable_cells(study) == {}


class NeedsMaps:
    """Every cell needs segmentation maps the data does not have (no file to wait for), wrapped as the config
    parser wraps it, until ``maps`` is set."""

    def __init__(self) -> None:
        self.maps = False
        self.ran = 0

    def __call__(self, ctx: TrialContext) -> TrialOutcome:
        self.ran += 1
        if not self.maps:
            try:
                raise UnavailableError("needs segmentation maps: the embedded source has none")
            except UnavailableError as err:
                raise ValueError("Does not validate against any of the Union subtypes") from err
        return TrialOutcome(value=1.0, metrics={})


@pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")
def test_a_cell_the_data_cannot_serve_is_na_and_tried_again_at_each_start_on_a_one_cell_grid(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 'studies.db'}", heartbeat_interval=HEARTBEAT_S,
                           grace_period=GRACE_S)
    axes = toy_axes(1, 1)  # one cell: Optuna's own grid bookkeeping used to raise KeyError('grid_id') here
    study = open_grid_study(storage, "maps", axes, direction="minimize")
    objective = NeedsMaps()
    summary = run_grid_worker(study, axes, objective, tmp_path / "runs", poll_s=0.1)
    assert objective.ran == 1 and summary.failed == [0]
    (cell, reason), = unavailable_cells(study).values()
    assert cell == {"variant": "v0", "seed": 0} and reason == "needs segmentation maps: the embedded source has none"
    run_grid_worker(study, axes, objective, tmp_path / "runs", poll_s=0.1)  # no file to wait for: tried again
    assert objective.ran == 2 and len(unavailable_cells(study)) == 1
    objective.maps = True  # e.g. the same study run on a folder with maps
    run_grid_worker(study, axes, objective, tmp_path / "runs", poll_s=0.1)
    assert objective.ran == 3 and incomplete_cells(study, grid_cells(axes)) == [] and unavailable_cells(study) == {}


def run_two_workers(url: str, ledger: Path, sleep_s: float, n_variants: int, n_seeds: int) -> None:
    study = f"pair-{uuid.uuid4().hex[:8]}"
    procs = [spawn_worker(url, study, ledger, sleep_s, n_variants, n_seeds) for _ in range(2)]
    outs = [finish(p) for p in procs]
    trials = load_trials(url, study)
    expected = {cell_key(c) for c in grid_cells(toy_axes(n_variants, n_seeds))}
    started = ledger_counts(ledger, "start")
    assert set(started) == expected and set(started.values()) == {1}, (started, outs)
    assert sorted(t.state.name for t in trials) == ["COMPLETE"] * len(expected)


# (sleep per trial, variants, seeds): a 4-cell grid of slow trials, and a 20-cell race with instant trials
# (without BEGIN IMMEDIATE on SQLite this one double-claims cells in practice).
CASES = [pytest.param(0.3, 2, 2, id="4-cells"), pytest.param(0.0, 10, 2, id="20-instant-cells")]


@pytest.mark.parametrize("sleep_s, n_variants, n_seeds", CASES)
def test_two_workers_sqlite_run_each_cell_once(tmp_path, sleep_s, n_variants, n_seeds):
    (tmp_path / "ledger").mkdir()
    run_two_workers(f"sqlite:///{tmp_path / 'studies.db'}", tmp_path / "ledger", sleep_s, n_variants, n_seeds)


@pytest.mark.postgres
@pytest.mark.parametrize("sleep_s, n_variants, n_seeds", CASES)
def test_two_workers_postgres_run_each_cell_once(tmp_path, sleep_s, n_variants, n_seeds):
    url = os.environ.get("INPAINT_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but INPAINT_TEST_POSTGRES_URL is unset: .ci/run must start .ci/postgres.sh")
        pytest.skip("no PostgreSQL server: run `export INPAINT_TEST_POSTGRES_URL=$(.ci/postgres.sh)` to enable")
    (tmp_path / "ledger").mkdir()
    run_two_workers(url, tmp_path / "ledger", sleep_s, n_variants, n_seeds)


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])))
