"""Mean ± standard deviation over seeds (with a 95 % interval of the mean from three seeds on), and how such a
statistic is printed."""

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

    @property
    def ci95(self) -> tuple[float, float] | None:
        """The 95 % confidence interval of the mean, Student's t with n − 1 degrees of freedom:
        mean ± t(0.975, n − 1) · std / √n; None below three seeds (two give an interval too wide to say anything)."""
        if self.mean is None or self.std is None or self.n < 3:
            return None
        from scipy.stats import t

        half = float(t.ppf(0.975, self.n - 1)) * self.std / math.sqrt(self.n)
        return self.mean - half, self.mean + half

    def format(self, digits: int, na: str = "n/a", interval: bool = False) -> str:
        """``31.47 ± 0.12`` (two or more seeds), ``31.47`` (one), ``n/a`` (none); with ``interval`` and three or more
        seeds the 95 % interval follows: ``31.47 ± 0.12 [31.17, 31.77]``."""
        if self.mean is None:
            return na
        text = f"{self.mean:.{digits}f}"
        if self.std is not None:
            text += f" ± {self.std:.{digits}f}"
        bounds = self.ci95 if interval else None
        if bounds is not None:
            text += f" [{bounds[0]:.{digits}f}, {bounds[1]:.{digits}f}]"
        return text


def best_index(means: list[float | None], higher_is_better: bool) -> int | None:
    """Index of the best mean (first one on ties), ignoring missing values; None when all are missing."""
    candidates = [(m, i) for i, m in enumerate(means) if m is not None]
    if not candidates:
        return None
    if higher_is_better:
        return max(candidates, key=lambda c: (c[0], -c[1]))[1]
    return min(candidates, key=lambda c: (c[0], c[1]))[1]
