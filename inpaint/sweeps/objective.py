"""What one trial computes: the interface between the sweep engine and a training run."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import optuna


@dataclass
class TrialContext:
    """Everything an objective needs to run one trial."""

    trial: optuna.Trial
    params: dict[str, Any]  # the grid cell (ablation/tau) or the sampled hyper-parameters (search)
    run_dir: Path  # a fresh directory for this attempt (trial number in the name)


@dataclass
class TrialOutcome:
    """The result of one trial: the objective value and what the reports need later.

    ``metrics`` is stored on the trial as user attribute ``metrics`` (JSON), so reports never read run dirs.
    """

    value: float
    metrics: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. checkpoint path, composites folder

    def __post_init__(self) -> None:
        if not isinstance(self.value, (int, float)) or math.isnan(float(self.value)):
            raise ValueError(f"trial objective value must be a finite number, got {self.value!r}")


class Objective(Protocol):
    """A callable running one trial; raise to fail it, or :class:`optuna.TrialPruned` to prune it."""

    def __call__(self, ctx: TrialContext) -> TrialOutcome: ...
