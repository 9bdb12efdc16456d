"""Creating (or re-opening) the Optuna study behind a sweep."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import optuna

from inpaint.sweeps.queue import GridValue


class DeclaredGrid(optuna.samplers.GridSampler):
    """A grid sampler that only declares the grid: the queue (:mod:`inpaint.sweeps.queue`) decides which cells
    remain. Optuna's own end-of-grid check after each trial reads a ``grid_id`` that only trials it sampled carry,
    so on a one-cell grid of enqueued trials it raised ``KeyError``; it also stops ``study.optimize`` loops, which
    the sweeps do not use."""

    def after_trial(self, study: optuna.Study, trial: Any, state: Any, values: Any) -> None:
        return None


def open_grid_study(
    storage: optuna.storages.BaseStorage,
    name: str,
    axes: Mapping[str, Sequence[GridValue]],
    direction: str = "maximize",
    attrs: Mapping[str, Any] | None = None,
) -> optuna.Study:
    """Create the study or load it when it exists (re-running a command resumes it).

    A :class:`~optuna.samplers.GridSampler` over ``axes`` is attached; trials are enqueued with fixed parameters
    (see :mod:`inpaint.sweeps.queue`), so the sampler documents the grid rather than choosing cells.
    ``attrs`` are stored as study user attributes (sweep definition, profile, caption facts for reports).
    """
    sampler = DeclaredGrid({k: list(v) for k, v in axes.items()}, seed=0)
    study = optuna.create_study(
        storage=storage, study_name=name, direction=direction, sampler=sampler, load_if_exists=True
    )
    if study.direction.name.lower() != direction.lower():
        raise ValueError(
            f"study {name!r} exists with direction {study.direction.name.lower()}, but the sweep asks for "
            f"{direction}; use another --study-name or delete the study"
        )
    for key, value in (attrs or {}).items():
        study.set_user_attr(key, value)
    return study


def open_search_study(
    storage: optuna.storages.BaseStorage,
    name: str,
    direction: str,
    seed: int | None,
    n_startup_trials: int,
    n_warmup_steps: int,
    attrs: Mapping[str, Any] | None = None,
) -> optuna.Study:
    """A TPE study with median pruning (hyper-parameter search on the user's own data)."""
    study = optuna.create_study(
        storage=storage,
        study_name=name,
        direction=direction,
        sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup_trials),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=n_startup_trials, n_warmup_steps=n_warmup_steps),
        load_if_exists=True,
    )
    for key, value in (attrs or {}).items():
        study.set_user_attr(key, value)
    return study
