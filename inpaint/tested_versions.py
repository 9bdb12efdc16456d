"""The one rule for reading a library's private attributes: name the version when one is gone, warn when untested.

``inpaint/sweeps/optuna_private.py``, ``inpaint/lit/lightning_private.py`` and ``inpaint/nn/torch_private.py`` each
hold a :class:`TestedRange` for their library; see docs/conventions.md ("Library internals").
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from packaging.version import Version


@dataclass
class TestedRange:
    """Versions ``[low, high)`` of ``library`` that the suite's use of its internals was tested with."""

    __test__ = False  # not a pytest class, despite the name

    library: ModuleType
    low: str
    high: str
    _warned: bool = field(default=False, repr=False)

    @property
    def version(self) -> str:
        return str(self.library.__version__)

    def contains(self, version: str) -> bool:
        return Version(self.low) <= Version(version.split("+")[0]) < Version(self.high)

    def warn_if_untested(self) -> None:
        """Warn once per process when the installed version lies outside the range."""
        if not self._warned and not self.contains(self.version):
            self._warned = True
            warnings.warn(f"{self.library.__name__} {self.version} is outside the range inpaint was tested with "
                          f"(>= {self.low}, < {self.high}); its use of {self.library.__name__} internals may break",
                          RuntimeWarning, stacklevel=3)

    def reset(self) -> None:
        """Forget that the warning was given (for tests)."""
        self._warned = False

    def missing(self, where: str, what: str) -> RuntimeError:
        """The error for an internal that the installed version does not have."""
        return RuntimeError(f"{where} ({what}) does not exist in {self.library.__name__} {self.version}; inpaint "
                            f"needs {self.library.__name__} >= {self.low}, < {self.high} "
                            "(constraints.txt pins the tested version)")

    def attribute(self, owner: Any, name: str, where: str, what: str) -> Any:
        """``getattr(owner, name)``, after the version warning, with :meth:`missing` instead of AttributeError."""
        self.warn_if_untested()
        try:
            return getattr(owner, name)
        except AttributeError:
            raise self.missing(f"{where}.{name}", what) from None
