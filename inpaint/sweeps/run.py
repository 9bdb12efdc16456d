"""Running a sweep end to end: open the study, work through it (one or several workers), write the report."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState
from rich.console import Console

from inpaint.sweeps.objective import Objective, TrialContext
from inpaint.sweeps.progress import SweepProgress
from inpaint.sweeps.queue import Cell, grid_cells, incomplete_cells
from inpaint.sweeps.spec import ProfileSpec, SweepSpec
from inpaint.sweeps.stop import StopRequest
from inpaint.sweeps.storage import default_storage_url, open_storage
from inpaint.sweeps.study import open_grid_study, open_search_study
from inpaint.sweeps.trial_log import LOG_NAME, terminal_stream, trial_output
from inpaint.sweeps.worker import cell_slug, run_grid_worker, run_trial, store_outcome

WORKER_ENV = "INPAINT_SWEEP_WORKER"  # set in worker processes started by --workers N


@dataclass
class SweepPlan:
    """Resolved settings of one sweep invocation."""

    spec: SweepSpec
    profile: ProfileSpec
    storage_url: str
    results_dir: Path
    seeds: list[int]
    data_root: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def study_name(self) -> str:
        return self.spec.study_name(self.profile.name)

    @property
    def out_dir(self) -> Path:
        return self.results_dir / self.spec.name

    @property
    def axes(self) -> dict[str, list[Any]]:
        return self.spec.grid_axes(self.seeds)

    @property
    def cells(self) -> list[Cell]:
        """The grid's cells: every combination of the axes that the spec's ``only_where`` rules allow."""
        return grid_cells(self.axes, self.spec.only_where)

    def study_attrs(self) -> dict[str, Any]:
        facts = dict(self.profile.facts)
        if self.data_root:
            facts["data"] = f"{facts.get('data', 'folder')} ({self.data_root})"
        return {
            "sweep": self.spec.name,
            "profile": self.profile.name,
            "report": self.spec.report,
            "out_dir": str(self.out_dir),
            "facts": facts,
            "data_root": self.data_root,
            "overrides": {k: str(v) for k, v in self.overrides.items()},
        }


def make_plan(
    spec: SweepSpec,
    profile: str,
    storage: str | None = None,
    results_dir: str | None = None,
    seeds: list[int] | None = None,
    data_root: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> SweepPlan:
    prof = spec.profile(profile)
    results = Path(results_dir or prof.results_dir)
    return SweepPlan(
        spec=spec,
        profile=prof,
        storage_url=storage or default_storage_url(results),
        results_dir=results,
        seeds=list(seeds) if seeds else list(prof.seeds),
        data_root=data_root,
        overrides=dict(overrides or {}),
    )


def open_study(plan: SweepPlan) -> optuna.Study:
    storage = open_storage(plan.storage_url, plan.profile.heartbeat_interval, plan.profile.grace_period)
    if plan.spec.kind == "grid":
        study = open_grid_study(storage, plan.study_name, plan.axes, plan.spec.direction, plan.study_attrs())
    else:
        pruning = plan.spec.pruning
        # Parallel workers with one fixed sampler seed would propose identical parameters: seed only a lone one.
        parallel = os.environ.get(WORKER_ENV) == "1"
        study = open_search_study(
            storage,
            plan.study_name,
            plan.spec.direction,
            seed=None if parallel or not plan.seeds else plan.seeds[0],
            n_startup_trials=int(pruning.get("n_startup_trials", 5)),
            n_warmup_steps=int(pruning.get("n_warmup_steps", 0)),
            attrs=plan.study_attrs(),
        )
    return study


def suggest_search_params(trial: optuna.Trial, spec: SweepSpec) -> dict[str, Any]:
    """Sample the search space of a TPE sweep on ``trial``."""
    params: dict[str, Any] = {}
    for p in spec.search_space:
        if p.type == "float":
            params[p.name] = trial.suggest_float(p.name, float(p.low), float(p.high), log=p.log)  # type: ignore[arg-type]
        elif p.type == "int":
            params[p.name] = trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log)  # type: ignore[arg-type]
        else:
            params[p.name] = trial.suggest_categorical(p.name, p.choices)
    return params


def run_search_worker(plan: SweepPlan, study: optuna.Study, objective: Objective, progress: SweepProgress,
                      stop: StopRequest | None = None, quiet: bool = False) -> None:
    """TPE + median pruning through :meth:`optuna.Study.optimize` (it handles heartbeats and stale trials)."""
    runs_dir = plan.out_dir / "runs"
    n_trials = plan.profile.n_trials
    states = (TrialState.COMPLETE, TrialState.PRUNED)

    def optuna_objective(trial: optuna.Trial) -> float:
        params = suggest_search_params(trial, plan.spec)
        seed = plan.seeds[0] if plan.seeds else 0
        params_with_seed = {**params, "seed": seed} if "seed" in plan.spec.param_keys else params
        run_dir = runs_dir / f"trial-{trial.number:04d}"
        run_dir.mkdir(parents=True, exist_ok=True)
        trial.set_user_attr("run_dir", str(run_dir))
        progress.on_event("start", {"number": trial.number, "cell": params, "run_dir": run_dir})
        started = time.perf_counter()
        with trial_output(run_dir / LOG_NAME, enabled=quiet):
            outcome = objective(TrialContext(trial=trial, params=params_with_seed, run_dir=run_dir))
        store_outcome(trial, outcome, wall_s=time.perf_counter() - started)
        return outcome.value

    def stop_when_enough(study: optuna.Study, finished: optuna.trial.FrozenTrial) -> None:
        progress.on_event("done", {"number": finished.number, "cell": finished.params, "state": finished.state,
                                   "attrs": finished.user_attrs, "count": False})
        done = len(study.get_trials(deepcopy=False, states=states))
        progress.set_done(min(done, n_trials))
        if done >= n_trials:
            study.stop()
        if stop is not None:
            stop.check()

    if len(study.get_trials(deepcopy=False, states=states)) >= n_trials:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.optimize(optuna_objective, callbacks=[stop_when_enough], catch=(Exception,), gc_after_trial=True)


def spawn_workers(argv: list[str], workers: int) -> list[subprocess.Popen]:
    """Start ``workers`` worker processes of the same command; CPU threads are split between them."""
    env = dict(os.environ)
    threads = max(1, (os.cpu_count() or 1) // workers)
    env.setdefault("OMP_NUM_THREADS", str(threads))
    env[WORKER_ENV] = "1"
    return [
        subprocess.Popen(
            [sys.executable, "-m", "inpaint.commands.sweep", *argv, "--workers", "1", "--worker-only"], env=env
        )
        for _ in range(workers)
    ]


def stop_workers(procs: list[subprocess.Popen]) -> None:
    """Pass SIGTERM on to every worker still running (each stops at its next step, leaving a checkpoint)."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)


def run_plan(plan: SweepPlan, objective: Objective, workers: int = 1, argv: list[str] | None = None,
             show_progress: bool = True, max_trials: int | None = None,
             stop: StopRequest | None = None, quiet: bool = False) -> optuna.Study:
    """Run the sweep with ``workers`` worker processes (1: in this process) and return the study.

    ``quiet``: each trial's output goes to its run folder's ``trial.log``; the console shows the live view only.

    ``stop`` (:mod:`inpaint.sweeps.stop`): once requested, worker processes are sent SIGTERM and waited for, an
    in-process worker stops before its next trial, and ``SIGTERMException`` is raised.
    """
    study = open_study(plan)
    total = len(plan.cells) if plan.spec.kind == "grid" else plan.profile.n_trials
    title = f"{plan.study_name}"
    terminal = terminal_stream() if quiet and show_progress else None  # stays on screen while trials are redirected
    console = Console(file=terminal) if terminal else None
    with contextlib.closing(terminal) if terminal else contextlib.nullcontext(), \
            SweepProgress(title, total, console=console, enabled=show_progress) as progress:
        if workers > 1:
            if argv is None:
                raise ValueError("several workers need the command line to re-run (argv)")
            procs = spawn_workers(argv, workers)
            passed_on = False
            while any(p.poll() is None for p in procs):
                if stop is not None and stop.requested and not passed_on:
                    stop_workers(procs)
                    passed_on = True
                progress.poll(study)
                time.sleep(0.2 if passed_on else 2.0)
            progress.poll(study)
            if stop is not None:
                stop.check()
            failed = [p.returncode for p in procs if p.returncode != 0]
            if failed:
                raise RuntimeError(f"{len(failed)} worker process(es) failed (exit codes {failed})")
        elif plan.spec.kind == "grid":
            run_grid_worker(study, plan.axes, objective, plan.out_dir / "runs", on_event=progress.on_event,
                            max_trials=max_trials, stop=stop, quiet=quiet, only_where=plan.spec.only_where)
        else:
            run_search_worker(plan, study, objective, progress, stop, quiet)
    return study


def sweep_status(plan: SweepPlan, study: optuna.Study) -> tuple[int, int, list[str]]:
    """(done, total, what is missing) now: grid cells without a complete trial, or the search's missing trials.

    Earlier failures that a retry has since completed do not count: the status is each cell's current state."""
    if plan.spec.kind == "grid":
        cells = plan.cells
        missing = incomplete_cells(study, cells)
        return len(cells) - len(missing), len(cells), missing
    total = plan.profile.n_trials
    done = min(total, len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))))
    return done, total, [f"{total - done} of {total} trials"] if done < total else []


__all__ = ["SweepPlan", "make_plan", "open_study", "run_plan", "run_trial", "cell_slug", "sweep_status"]
