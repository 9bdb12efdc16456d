"""Mean ± standard deviation over seeds, and how such a statistic is printed."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class SeedStat:
    """Mean and sample standard deviation (ddof = 1) of the seeds that produced a value.

    ``n`` counts seeds with a value, ``missing`` those without (e.g. FID unavailable); ``std`` is None for n < 2.
    """

    mean: float | None
    std: float | None
    n: int
    missing: int = 0

    @classmethod
    def of(cls, values: Iterable[float | None]) -> SeedStat:
        values = list(values)
        present = [float(v) for v in values if v is not None and math.isfinite(float(v))]
        missing = len(values) - len(present)
        if not present:
            return cls(None, None, 0, missing)
        mean = math.fsum(present) / len(present)
        std = None
        if len(present) >= 2:
            std = math.sqrt(math.fsum((v - mean) ** 2 for v in present) / (len(present) - 1))
        return cls(mean, std, len(present), missing)

    def format(self, digits: int, na: str = "n/a") -> str:
        """``31.47 ± 0.12`` (two or more seeds), ``31.47`` (one), ``n/a`` (none)."""
        if self.mean is None:
            return na
        text = f"{self.mean:.{digits}f}"
        if self.std is not None:
            text += f" ± {self.std:.{digits}f}"
        return text


def best_index(means: list[float | None], higher_is_better: bool) -> int | None:
    """Index of the best mean (first one on ties), ignoring missing values; None when all are missing."""
    candidates = [(m, i) for i, m in enumerate(means) if m is not None]
    if not candidates:
        return None
    if higher_is_better:
        return max(candidates, key=lambda c: (c[0], -c[1]))[1]
    return min(candidates, key=lambda c: (c[0], c[1]))[1]
