"""SIGTERM (a cluster's time limit, ``kill``, a stopped sweep) ends a fit with a resumable checkpoint and exit 143.

Lightning turns SIGTERM into :class:`~lightning.pytorch.utilities.exceptions.SIGTERMException` at the next step
boundary (or validation batch), on every rank. That exception is a ``SystemExit`` without a code, so a stopped run
would exit 0 having written nothing since its last periodic checkpoint. This callback writes ``last.ckpt`` into the
run's checkpoint folder when that happens during fit (the usual atomic, checksummed write), and says in one line
where it is and how to continue; :func:`inpaint.lit.cli.run_cli` then exits with ``128 + SIGTERM``.
"""

from __future__ import annotations

import os
import signal
import sys

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities.exceptions import SIGTERMException

#: the exit status of a run stopped by SIGTERM (the shell's convention for a signal's number)
SIGTERM_EXIT = 128 + int(signal.SIGTERM)


class CheckpointOnSigterm(Callback):
    """On SIGTERM during fit: save ``<dirpath>/last.ckpt`` (then the run exits :data:`SIGTERM_EXIT`)."""

    def __init__(self, dirpath: str) -> None:
        self.dirpath = dirpath
        self.saved: str | None = None

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        if not isinstance(exception, SIGTERMException):
            return
        step = trainer.global_step
        if trainer.state.fn == TrainerFn.FITTING:
            self.saved = os.path.join(self.dirpath, "last.ckpt")
            trainer.save_checkpoint(self.saved)  # collective under DDP: every rank gets the exception
        if trainer.is_global_zero:
            where = (f"resumable checkpoint {self.saved} (continue: the same command with --ckpt_path last)"
                     if self.saved else "nothing to save outside fit")
            print(f"inpaint: stopped by SIGTERM at step {step}; {where}", file=sys.stderr, flush=True)
