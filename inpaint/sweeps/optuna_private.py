"""Optuna internals the sweeps rely on, each read in exactly one place.

Optuna has no public way to reach a study's storage, a study's or trial's database id, the RDB storage behind its
caching wrapper, or its trial table; the queue, the heartbeats and the orphan sweep need all five. Each accessor
below raises a ``RuntimeError`` naming the installed Optuna version when the attribute is gone, instead of an
``AttributeError`` deep inside a worker, and the first use warns once when the installed version lies outside the
range the sweeps were tested with (``TESTED_OPTUNA``; ``constraints.txt`` pins the version CI runs).
"""

from __future__ import annotations

from typing import Any

import optuna

from inpaint.tested_versions import TestedRange

#: Optuna versions the sweep tests passed with: [low, high): 4.9.0, 5.0.0 (the pin) and 5.1.0 were run; 4.0.0 fails
#: (no ``optuna.storages.RetryHeartbeatStaleTrialCallback`` yet).
TESTED_OPTUNA = TestedRange(optuna, "4.9", "5.2")


def _attribute(obj: Any, name: str, what: str) -> Any:
    return TESTED_OPTUNA.attribute(obj, name, type(obj).__name__, what)


def study_storage(study: optuna.Study) -> Any:
    """The storage a study reads and writes (``Study._storage``; may be Optuna's caching wrapper)."""
    return _attribute(study, "_storage", "the study's storage")


def study_id(study: optuna.Study) -> int:
    """The study's id in its storage (``Study._study_id``), the key of every storage query."""
    return _attribute(study, "_study_id", "the study's storage id")


def trial_id(trial: optuna.Trial | optuna.trial.FrozenTrial) -> int:
    """A trial's id in its storage (``_trial_id`` of a live or frozen trial; ``number`` is per study only)."""
    return _attribute(trial, "_trial_id", "the trial's storage id")


def uncached_storage(storage: Any) -> Any:
    """The storage behind Optuna's ``_CachedStorage`` wrapper (``_backend``); any other storage as given."""
    if type(storage).__name__ != "_CachedStorage":
        return storage
    return _attribute(storage, "_backend", "the wrapped storage")


def trial_model() -> Any:
    """Optuna's SQLAlchemy model of the trials table (``optuna.storages._rdb.models.TrialModel``)."""
    TESTED_OPTUNA.warn_if_untested()
    try:
        from optuna.storages._rdb.models import TrialModel
    except ImportError:
        raise TESTED_OPTUNA.missing("optuna.storages._rdb.models.TrialModel", "the RDB trials table") from None
    return TrialModel


__all__ = ["TESTED_OPTUNA", "study_storage", "study_id", "trial_id", "uncached_storage", "trial_model"]
