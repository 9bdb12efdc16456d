"""Reading a finished (or partly finished) study back: one record per completed trial.

Everything comes from the study storage (trial params + user attributes); run directories are only needed
for images (qualitative grids), never for numbers.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence
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


def group_by(records: Sequence[TrialRecord], param: str) -> dict[str, list[TrialRecord]]:
    """Records per value of ``param`` (a study's row axis), in trial order; a record without it is an error."""
    out: dict[str, list[TrialRecord]] = defaultdict(list)
    for record in records:
        if param not in record.params:
            raise ValueError(f"trial {record.number} has no parameter {param!r}: {record.params}")
        out[str(record.params[param])].append(record)
    return out


def seeds_of(runs: Sequence[TrialRecord]) -> list[Any]:
    """The seeds of some trials, sorted (the trial number stands in for a missing seed)."""
    return sorted(r.params.get("seed", r.number) for r in runs)


def bucket_mean(record: TrialRecord, metric: str, scheme: str, buckets: Sequence[str]) -> float | None:
    """The plain mean of a metric over the given buckets of one scheme — each bucket's value weighted alike, as a
    paper's "Ave" row over its hole-ratio groups (seed 003) — or None when any bucket has no value."""
    values = [record.value(metric, bucket, scheme) for bucket in buckets]
    if not values or any(v is None for v in values):
        return None
    return float(sum(values) / len(values))  # type: ignore[arg-type]


def na_reasons(records: Sequence[TrialRecord], metric: str) -> list[str]:
    """The evaluation's own notes explaining why ``metric`` is missing (e.g. no Inception / LPIPS weights)."""
    return sorted({note for r in records for note in r.protocol.get("notes", []) if metric in note.lower()})


def config_value(config: Mapping[str, Any], dotted: str) -> Any:
    """``config["a"]["b"]`` for ``"a.b"`` in a trial's resolved config; None when a part is missing."""
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def na_note(records: Sequence[TrialRecord], metric: str) -> str:
    """``FID n/a in some trials: <the evaluation's reasons>`` for a metric some trials lack."""
    reasons = na_reasons(records, metric)
    return f"{metric.upper()} n/a in some trials" + (f": {'; '.join(reasons)}" if reasons else "")
