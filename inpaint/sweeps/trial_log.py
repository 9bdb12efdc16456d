"""A trial's own output and progress, kept in its run folder so that the sweep's console stays one live view.

* :func:`trial_output` sends everything the trial prints — Lightning's banners and tips, warnings, metric tables,
  the run summary, native libraries' messages — to ``<run dir>/trial.log`` (``sys.stdout`` / ``sys.stderr`` and
  file descriptors 1 and 2, so output of C code and child processes is caught too);
* :class:`StepFile` writes ``<run dir>/progress.txt`` (``step max_steps``) after every training step, which the
  live view shows for each running cell (:func:`read_step`);
* :func:`terminal_stream` is the console the live view writes to, opened before any redirection.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from lightning.pytorch import Callback, LightningModule, Trainer

LOG_NAME = "trial.log"
PROGRESS_NAME = "progress.txt"


def terminal_stream() -> IO[str]:
    """A text stream on a duplicate of this process's stderr: it keeps reaching the terminal while a trial's output
    is redirected."""
    sys.stderr.flush()
    return os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1, encoding="utf-8", errors="replace")


@contextmanager
def trial_output(path: Path, enabled: bool = True) -> Iterator[None]:
    """Redirect stdout and stderr (file descriptors 1 and 2) to ``path`` (appended) while the block runs."""
    if not enabled:
        yield
        return
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(path, "a", encoding="utf-8", buffering=1) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:  # Python's own streams too, in case they were replaced by objects that do not write to fd 1 / 2
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                yield
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


class StepFile(Callback):
    """Write ``step max_steps`` to ``path`` after every training step (a few bytes, replaced atomically)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def on_train_batch_end(self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        if not trainer.is_global_zero:
            return
        partial = self.path.with_name(f".{self.path.name}.partial")
        partial.write_text(f"{trainer.global_step} {trainer.max_steps}\n")
        os.replace(partial, self.path)


def read_step(run_dir: str | Path | None) -> str:
    """``step 12/40`` from a running trial's progress file ("" before its first step or without one)."""
    if not run_dir:
        return ""
    try:
        step, total = (Path(run_dir) / PROGRESS_NAME).read_text().split()
    except (OSError, ValueError):
        return ""
    return f"step {step}/{total}" if int(total) > 0 else f"step {step}"
