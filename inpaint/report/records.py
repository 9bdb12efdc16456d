"""Reading a finished (or partly finished) study back: one record per completed trial.

Everything comes from the study storage (trial params + user attributes); run directories are only needed
for images (qualitative grids), never for numbers.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.trial import TrialState


@dataclass
class TrialRecord:
    """One completed trial of a sweep."""

    number: int
    params: dict[str, Any]
    metrics: dict[str, Any]  # a metrics report as stored by the trial ({"protocol": …, "buckets": […]})
    run_dir: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)

    def value(self, metric: str, bucket: str, scheme: str | None = None, image: str = "composite") -> float | None:
        """The metric in a bucket (e.g. ``("psnr", "10-30%")``), or None when missing / not finite."""
        for row in self.metrics.get("buckets", []):
            if row.get("bucket") != bucket or (scheme is not None and row.get("scheme") != scheme):
                continue
            value = row.get("values", {}).get(image, {}).get(metric)
            if value is None:
                return None
            value = float(value)
            return value if math.isfinite(value) else None
        return None

    def bucket_n(self, bucket: str, scheme: str | None = None) -> int | None:
        for row in self.metrics.get("buckets", []):
            if row.get("bucket") == bucket and (scheme is None or row.get("scheme") == scheme):
                return int(row.get("n", 0))
        return None

    @property
    def protocol(self) -> dict[str, Any]:
        return dict(self.metrics.get("protocol", {}))


def load_study(storage_url: str, study_name: str) -> optuna.Study:
    """Open an existing study read-only in spirit (no heartbeats, no new trials)."""
    from inpaint.sweeps.storage import normalise_url

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return optuna.load_study(study_name=study_name, storage=normalise_url(storage_url))
        except KeyError as err:
            names = [s.study_name for s in optuna.get_all_study_summaries(normalise_url(storage_url))]
            raise KeyError(f"no study {study_name!r} in {storage_url}; studies there: {names}") from err


def completed_records(study: optuna.Study) -> list[TrialRecord]:
    """Records of the COMPLETE trials, in trial order (failed / running / waiting ones are skipped)."""
    records = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        attrs = dict(t.user_attrs)
        records.append(
            TrialRecord(
                number=t.number,
                params=dict(t.params),
                metrics=attrs.pop("metrics", {}) or {},
                run_dir=attrs.pop("run_dir", None),
                config=attrs.pop("config", {}) or {},
                attrs=attrs,
            )
        )
    return records
