"""Make ``--trainer.limit_val_batches=1`` parse as the int 1 (one batch), whatever the import order.

Lightning's Trainer takes an int (a count of batches) or a float (a fraction) for these arguments:
``limit_val_batches=1`` is one batch, ``1.0`` all of them. jsonargparse tries the members of a Union in order
and keeps the first that accepts the value, so under ``Union[float, int]`` the text "1" becomes 1.0. Lightning
writes ``Optional[Union[int, float]]``, but ``typing`` caches unions by *equality* and
``Union[int, float] == Union[float, int]``: when a module imported before Lightning built
``Optional[Union[float, int]]`` first (importing ``rich.console`` first does, as the sweep command did), the
Trainer's annotation comes out float-first. Rewriting it as the uncached ``int | float | None`` restores the
documented order; only the annotation changes, never Lightning's behaviour.
"""

from __future__ import annotations

import typing

#: Trainer arguments where an int counts batches and a float is a fraction.
COUNT_OR_FRACTION_KEYS: tuple[str, ...] = (
    "limit_train_batches", "limit_val_batches", "limit_test_batches", "limit_predict_batches", "overfit_batches",
)


def prefer_int_for_count_or_fraction(trainer_class: type) -> None:
    """Rewrite the count-or-fraction annotations of ``trainer_class.__init__`` as ``int | float | None``."""
    annotations = getattr(trainer_class.__init__, "__annotations__", {})
    for key in COUNT_OR_FRACTION_KEYS:
        hint = annotations.get(key)
        if hint is not None and set(typing.get_args(hint)) == {int, float, type(None)}:
            annotations[key] = int | float | None
