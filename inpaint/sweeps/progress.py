"""Rich progress display for sweeps: trials done / total, the running cell, elapsed time and ETA."""

from __future__ import annotations

from typing import Any

import optuna
from optuna.trial import TrialState
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


def describe(cell: dict[str, Any]) -> str:
    """``variant Global->Local · seed 1``; floats with 3 significant digits (search parameters)."""
    return " · ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in cell.items())


class SweepProgress:
    """A progress bar fed by worker events (in-process worker) or by polling the study (worker processes)."""

    def __init__(self, title: str, total: int, console: Console | None = None, enabled: bool = True) -> None:
        self.console = console or Console(stderr=True)
        self.total = total
        self.enabled = enabled
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[current]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            disable=not enabled,
        )
        self.task = self.progress.add_task(title, total=total, current="", start=True)
        self._done = 0
        self._reported: set[int] | None = None  # finished trials already printed (poll mode)

    def __enter__(self) -> SweepProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def set_done(self, done: int) -> None:
        if done != self._done:
            self.progress.update(self.task, completed=done)
            self._done = done

    def on_event(self, kind: str, data: dict[str, Any]) -> None:
        """Event sink for :func:`inpaint.sweeps.worker.run_grid_worker`."""
        if kind == "sync":
            self.set_done(data["state"].complete)
        elif kind == "start":
            trial_no = min(self._done + 1, self.total)
            self.progress.update(self.task, current=f"trial {trial_no}/{self.total}: {describe(data['cell'])}")
        elif kind == "done":
            state: TrialState = data["state"]
            attrs = data.get("attrs", {})
            if state == TrialState.COMPLETE:
                if data.get("count", True):
                    self.set_done(self._done + 1)
                msg = f"[green]✓[/green] {describe(data['cell'])} ({attrs.get('wall_s', 0):.0f} s)"
            else:
                msg = f"[red]✗ {state.name}[/red] {describe(data['cell'])}: {attrs.get('error', '')[:200]}"
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
            self.on_event("done", {"cell": t.params or t.system_attrs.get("fixed_params", {}), "state": t.state,
                                   "attrs": t.user_attrs, "count": False})
            self._reported.add(number)
        done = sum(t.state == TrialState.COMPLETE for t in trials)
        running = [t for t in trials if t.state == TrialState.RUNNING]
        self.set_done(min(done, self.total))
        current = "; ".join(describe(t.params or t.system_attrs.get("fixed_params", {})) for t in running)
        self.progress.update(self.task, current=f"running: {current}" if current else "")
