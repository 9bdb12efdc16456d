"""Lightning internals the training module relies on, each reached in exactly one place.

Two things have no public API: whether LightningCLI is instantiating the module right now (it then hands
``save_hyperparameters`` the config through a context variable), and the hooks a ``LightningOptimizer`` calls
around ``step()`` (the manual loop uses them to count ``global_step``). Each accessor raises a ``RuntimeError``
naming the installed Lightning version when the internal is gone, and the first use warns once when the version
lies outside the range the suite was tested with (``TESTED_LIGHTNING``; ``constraints.txt`` pins the one CI runs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lightning

from inpaint.tested_versions import TestedRange

#: Lightning versions the training tests passed with: [low, high). 2.4.0 and 2.6.6 (the pin) were run.
TESTED_LIGHTNING = TestedRange(lightning, "2.4", "2.7")


def hyperparameters_being_saved() -> dict[str, Any] | None:
    """The config LightningCLI is instantiating a module with, or None outside such an instantiation.

    Reads ``lightning.pytorch.core.mixins.hparams_mixin._given_hyperparameters``, the context variable through
    which the CLI passes its config to ``save_hyperparameters``.
    """
    TESTED_LIGHTNING.warn_if_untested()
    try:
        from lightning.pytorch.core.mixins.hparams_mixin import _given_hyperparameters
    except ImportError:
        raise TESTED_LIGHTNING.missing("lightning.pytorch.core.mixins.hparams_mixin._given_hyperparameters",
                       "the config LightningCLI saves as hyper-parameters") from None
    return _given_hyperparameters.get()


def set_optimizer_step_hooks(optimizer: Any, before: Callable[[], None], after: Callable[[], None]) -> None:
    """Make a ``LightningOptimizer`` call ``before()`` / ``after()`` around its next ``step()`` calls.

    Replaces ``_on_before_step`` / ``_on_after_step``, which the manual-optimisation loop sets on every batch (its
    versions count the step); call this again after the loop has set them.
    """
    TESTED_LIGHTNING.warn_if_untested()
    for name in ("_on_before_step", "_on_after_step"):
        if not hasattr(optimizer, name):
            raise TESTED_LIGHTNING.missing(
                f"{type(optimizer).__name__}.{name}", "the step hooks of a LightningOptimizer"
            )
    optimizer._on_before_step = before
    optimizer._on_after_step = after


__all__ = ["TESTED_LIGHTNING", "hyperparameters_being_saved", "set_optimizer_step_hooks"]
