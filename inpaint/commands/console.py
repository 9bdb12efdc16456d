"""What the suite's own commands print besides their results: warnings as one line each, named by the command."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def one_line_warnings(prog: str) -> Iterator[None]:
    """Print every warning raised inside as ``<prog>: warning: <message>`` on stderr, when it is raised (one line,
    no source line); the usual once-per-location filtering applies."""

    def show(message: Any, category: type[Warning], filename: str, lineno: int, file: Any = None,
             line: str | None = None) -> None:  # fmt: skip
        print(f"{prog}: warning: {' '.join(str(message).split())}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield
