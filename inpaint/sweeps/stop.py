"""Stopping a sweep on request: SIGTERM (or Ctrl-C) ends it at a safe point with exit ``128 + signal``.

During a trial, Lightning already turns SIGTERM into :class:`SIGTERMException` at the next step boundary (the
trial's ``last.ckpt`` is written, :class:`~inpaint.lit.callbacks.CheckpointOnSigterm`); the trial is recorded as
failed with that reason, so the next run of the same command re-queues its cell. Between trials the worker loop asks
:meth:`StopRequest.check`. A first Ctrl-C is handled the same way (it is passed on as SIGTERM to a running trainer);
a second one interrupts at once.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

from lightning.pytorch.utilities.exceptions import SIGTERMException


class StopRequest:
    """Remembers the first SIGTERM / SIGINT this process receives (handlers installed by :meth:`install`)."""

    def __init__(self) -> None:
        self.signum: int | None = None

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signum or signal.SIGTERM)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum or signal.SIGTERM).name

    def install(self) -> StopRequest:
        """Handle SIGTERM and SIGINT in this process (main thread only; elsewhere a no-op)."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._handle)
            signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:
            if signum == signal.SIGINT:  # a second Ctrl-C: stop now
                raise KeyboardInterrupt
            return
        self.signum = signum
        if signum == signal.SIGINT:  # a running trainer's SIGTERM handler (Lightning's, which calls this one too)
            current = signal.getsignal(signal.SIGTERM)
            if callable(current) and current != self._handle:
                current(signal.SIGTERM, frame)

    def check(self) -> None:
        """Raise :class:`SIGTERMException` once a stop was requested (call it between trials)."""
        if self.signum is not None:
            raise SIGTERMException
