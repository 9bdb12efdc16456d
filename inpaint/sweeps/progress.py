"""The sweep's live view: cells done / total, failures, each running cell with its training step, elapsed time, ETA.

Fed by worker events (in-process worker) or by polling the study (worker processes); a running cell's step comes
from its run folder's progress file (:mod:`inpaint.sweeps.trial_log`), read at each refresh. One line is printed
per finished cell (✓ with its time, or ✗ with the reason and the trial's log).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from inpaint.sweeps.trial_log import LOG_NAME, read_step


def describe(cell: dict[str, Any]) -> str:
    """``variant Global->Local · seed 1``; floats with 3 significant digits (search parameters)."""
    return " · ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in cell.items())


class _RunningColumn(ProgressColumn):
    """The running cells and their steps, re-read at every refresh."""

    def __init__(self, view: SweepProgress) -> None:
        super().__init__()
        self.view = view

    def render(self, task: Task) -> Text:
        return Text(self.view.running_text())


class SweepProgress:
    """A progress bar fed by worker events (in-process worker) or by polling the study (worker processes)."""

    def __init__(self, title: str, total: int, console: Console | None = None, enabled: bool = True) -> None:
        self.console = console or Console(stderr=True)
        self.total = total
        self.enabled = enabled
        self.failed = 0
        self._running: dict[int, tuple[str, str | None]] = {}  # trial number → (cell, run folder)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failures]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            _RunningColumn(self),
            console=self.console,
            disable=not enabled,
            refresh_per_second=2,
        )
        self.task = self.progress.add_task(title, total=total, failures="", start=True)
        self._done = 0
        self._reported: set[int] | None = None  # finished trials already printed (poll mode)

    def __enter__(self) -> SweepProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def running_text(self) -> str:
        """Called by the display's refresh thread: it reads a snapshot (``_running`` is only ever replaced, never
        changed in place, so the worker thread cannot change it under the iteration)."""
        parts = []
        for cell, run_dir in tuple(self._running.values()):
            step = read_step(run_dir)
            parts.append(f"{cell} ({step})" if step else cell)
        return "running: " + "; ".join(parts) if parts else ""

    def set_done(self, done: int) -> None:
        if done != self._done:
            self.progress.update(self.task, completed=done)
            self._done = done

    def _count_failure(self) -> None:
        self.failed += 1
        self.progress.update(self.task, failures=f"[red]{self.failed} failed[/red]")

    def on_event(self, kind: str, data: dict[str, Any]) -> None:
        """Event sink for :func:`inpaint.sweeps.worker.run_grid_worker`."""
        if kind == "sync":
            self.set_done(data["state"].complete)
        elif kind == "start":
            run_dir = data.get("run_dir")
            entry = (describe(data["cell"]), str(run_dir) if run_dir else None)
            self._running = {**self._running, data.get("number", -1): entry}
        elif kind == "done":
            self._running = {k: v for k, v in self._running.items() if k != data.get("number", -1)}
            state: TrialState = data["state"]
            attrs = data.get("attrs", {})
            if state == TrialState.COMPLETE:
                if data.get("count", True):
                    self.set_done(self._done + 1)
                msg = f"[green]✓[/green] {describe(data['cell'])} ({attrs.get('wall_s', 0):.0f} s)"
            elif attrs.get("unavailable"):  # cannot start here (a weight file, the data's maps): n/a, not a failure
                missing = Path(str(attrs.get("unavailable_path", ""))).name
                why = f"needs {missing} (not on this machine)" if missing else str(attrs["unavailable"])[:160]
                msg = f"[yellow]– n/a[/yellow] {describe(data['cell'])}: {why}"
            else:
                self._count_failure()
                log = Path(attrs["run_dir"]) / LOG_NAME if attrs.get("run_dir") else None
                where = f" (log: {log})" if log is not None and log.is_file() else ""
                msg = f"[red]✗ {state.name}[/red] {describe(data['cell'])}: {attrs.get('error', '')[:200]}{where}"
            if self.enabled:
                self.progress.console.print(msg)

    def poll(self, study: optuna.Study) -> None:
        """Refresh from the storage (when trials run in other processes)."""
        trials = study.get_trials(deepcopy=False)
        finished = {t.number: t for t in trials if t.state.is_finished()}
        if self._reported is None:  # trials finished before this command started are not news
            self._reported = set(finished)
        for number in sorted(set(finished) - self._reported):
            t = finished[number]
            self.on_event("done", {"number": number, "cell": t.params or t.system_attrs.get("fixed_params", {}),
                                   "state": t.state, "attrs": t.user_attrs, "count": False})
            self._reported.add(number)
        done = sum(t.state == TrialState.COMPLETE for t in trials)
        self.set_done(min(done, self.total))
        self._running = {t.number: (describe(t.params or t.system_attrs.get("fixed_params", {})),
                                    t.user_attrs.get("run_dir")) for t in trials if t.state == TrialState.RUNNING}
