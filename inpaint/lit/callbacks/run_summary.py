"""End-of-fit summary: where the run's files are, how fast it trained, and how to upload an offline W&B run (also
for a fit stopped by SIGTERM, with ``stopped_by`` set).

Printed with rich on rank 0 and written to ``<run dir>/summary.json`` (which the sweeps and speed reports read).
"""

from __future__ import annotations

import glob
import json
import os
import time
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities.exceptions import SIGTERMException

from inpaint.lit.callbacks.stop_on_signal import CheckpointOnSigterm
from inpaint.lit.machine import peak_rss_mib


class RunSummary(Callback):
    """Time the training steps (validation excluded, first step excluded as warm-up) and summarise the run."""

    def __init__(self) -> None:
        self._step_started: float | None = None
        self.step_seconds: list[float] = []
        self.summary: dict[str, Any] = {}

    def on_train_batch_start(self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int) -> None:
        self._step_started = time.perf_counter()

    def on_train_batch_end(self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        if self._step_started is not None:
            self.step_seconds.append(time.perf_counter() - self._step_started)

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.is_global_zero:
            self._write(trainer)

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        """A fit stopped by SIGTERM is summarised too, with the checkpoint it left (:class:`CheckpointOnSigterm`)."""
        if not (isinstance(exception, SIGTERMException) and trainer.state.fn == TrainerFn.FITTING
                and trainer.is_global_zero):
            return
        saved = next((c.saved for c in trainer.callbacks if isinstance(c, CheckpointOnSigterm) and c.saved), None)
        self._write(trainer, stopped_by="SIGTERM", last_checkpoint=saved)

    def _write(self, trainer: Trainer, **changes: Any) -> None:
        run_dir = trainer.default_root_dir
        timed = self.step_seconds[1:] or self.step_seconds
        ckpt = trainer.checkpoint_callback
        wandb_runs = sorted(glob.glob(os.path.join(run_dir, "wandb", "offline-run-*")))
        self.summary = {
            "run_dir": run_dir,
            "config": os.path.join(run_dir, "config.yaml"),
            "checkpoints": getattr(ckpt, "dirpath", None),
            "last_checkpoint": getattr(ckpt, "last_model_path", None) or None,
            "images": os.path.join(run_dir, "images"),
            "loggers": [type(logger).__name__ for logger in trainer.loggers],
            "wandb_offline_runs": wandb_runs,
            "global_step": trainer.global_step,
            "train_steps_run": len(self.step_seconds),
            "train_steps_timed": len(timed),
            "train_steps_per_s": (len(timed) / sum(timed)) if timed else None,
            "peak_rss_mib": peak_rss_mib(),
            "precision": str(trainer.precision),  # what ran: bf16-mixed falls back to 32-true without native bf16
            "stopped_by": None,
            **changes,
        }
        with open(os.path.join(run_dir, "summary.json"), "w") as handle:
            json.dump(self.summary, handle, indent=1)
        _print_summary(self.summary)


def _print_summary(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="run summary", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key in ("run_dir", "config", "checkpoints", "last_checkpoint", "images", "global_step"):
        table.add_row(key, str(summary[key]))
    if summary.get("stopped_by"):
        table.add_row("stopped by", f"{summary['stopped_by']} (resume with --ckpt_path last)")
    if summary["train_steps_per_s"]:
        table.add_row(
            "speed", f"{summary['train_steps_per_s']:.2f} steps/s, peak RSS {summary['peak_rss_mib']:.0f} MiB"
        )
    table.add_row("loggers", ", ".join(summary["loggers"]) or "none")
    if summary["wandb_offline_runs"]:
        table.add_row("upload W&B", f"wandb sync {summary['wandb_offline_runs'][-1]}")
    Console(stderr=True).print(table)
