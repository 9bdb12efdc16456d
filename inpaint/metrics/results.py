"""The evaluation result as data: bucket × metric tables, written to / read from metrics.json and metrics.csv.

Every file carries the protocol beside the numbers (image the metrics ran on, SSIM window, FID backend with N,
LPIPS net, bucket edges' closed side) because a number without them cannot be compared with anything. Missing
values are ``None`` in Python / ``null`` in JSON / ``n/a`` in CSV, and ``protocol["notes"]`` says why.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

METRICS: tuple[str, ...] = ("psnr", "ssim", "l1", "mse", "rel_l1_pct", "lpips", "fid")
VARIANTS: tuple[str, ...] = ("composite", "raw")
NA = "n/a"
_PROTOCOL_COLUMNS = ("ssim_window", "fid_backend", "lpips_net", "closed")


@dataclass
class BucketResult:
    """One row: a bucket of one scheme, its image count N and metric values per variant (composite / raw)."""

    scheme: str
    bucket: str
    n: int
    values: dict[str, dict[str, float | None]] = field(default_factory=dict)

    def get(self, metric: str, variant: str = "composite") -> float | None:
        return self.values.get(variant, {}).get(metric)


@dataclass
class MetricsReport:
    """All buckets plus the protocol they were computed under."""

    buckets: list[BucketResult]
    protocol: dict[str, Any]

    def bucket(self, scheme: str, bucket: str) -> BucketResult:
        for row in self.buckets:
            if row.scheme == scheme and row.bucket == bucket:
                return row
        raise KeyError(f"no bucket {scheme}/{bucket}; have {[f'{r.scheme}/{r.bucket}' for r in self.buckets]}")

    @property
    def overall(self) -> BucketResult:
        return self.bucket("all", "all")

    def variants(self) -> list[str]:
        return [v for v in VARIANTS if any(v in row.values for row in self.buckets)]

    def to_dict(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "buckets": [asdict(row) for row in self.buckets]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MetricsReport:
        try:
            rows = [BucketResult(r["scheme"], r["bucket"], int(r["n"]), r.get("values", {})) for r in data["buckets"]]
            return cls(rows, dict(data["protocol"]))
        except (KeyError, TypeError) as err:
            raise ValueError(f"not a metrics report (missing {err}); expected keys 'protocol' and 'buckets'") from err

    def flat(self) -> dict[str, float | None]:
        """``{"composite/all/psnr": …, "raw/paper/10-20%/ssim": …}`` — for loggers and Optuna user attrs."""
        out: dict[str, float | None] = {}
        for row in self.buckets:
            where = "all" if row.scheme == "all" else f"{row.scheme}/{row.bucket}"
            out[f"n/{where}"] = float(row.n)
            for variant, metrics in row.values.items():
                for metric, value in metrics.items():
                    out[f"{variant}/{where}/{metric}"] = value
        return out


def with_scheme_rows(report: MetricsReport, other: MetricsReport, scheme: str) -> MetricsReport:
    """``report`` with its ``scheme`` rows replaced by ``other``'s (appended; ``other``'s "all" row and other schemes
    are dropped). For results scored on a separate image set, e.g. LaMa's kind rows: the overall row stays
    ``report``'s own. The protocol gains ``scheme`` in its bucket list and ``other``'s notes (without repeats)."""
    rows = [row for row in report.buckets if row.scheme != scheme]
    rows += [row for row in other.buckets if row.scheme == scheme]
    protocol = dict(report.protocol)
    buckets = list(protocol.get("buckets", []))
    protocol["buckets"] = buckets + ([scheme] if scheme not in buckets else [])
    notes = list(protocol.get("notes", []))
    protocol["notes"] = notes + [n for n in other.protocol.get("notes", []) if n not in notes]
    return MetricsReport(rows, protocol)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def write_json(report: MetricsReport, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_json_safe(report.to_dict()), indent=2) + "\n")
    return path


def read_json(path: str | Path) -> MetricsReport:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"metrics file {path} does not exist")
    data = json.loads(path.read_text())
    for row in data.get("buckets", []):
        for metrics in row.get("values", {}).values():
            for key, value in metrics.items():
                if isinstance(value, str):
                    metrics[key] = float(value)  # "inf" / "-inf"
    return MetricsReport.from_dict(data)


def csv_columns(report: MetricsReport) -> list[str]:
    """scheme, bucket, n, composite metrics, ``raw_`` metrics, then the protocol columns."""
    columns = ["scheme", "bucket", "n"]
    for variant in report.variants():
        prefix = "" if variant == "composite" else f"{variant}_"
        columns += [f"{prefix}{metric}" for metric in METRICS]
    return columns + list(_PROTOCOL_COLUMNS)


def write_csv(report: MetricsReport, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = csv_columns(report)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in report.buckets:
            record: dict[str, Any] = {"scheme": row.scheme, "bucket": row.bucket, "n": row.n}
            for variant in report.variants():
                prefix = "" if variant == "composite" else f"{variant}_"
                for metric in METRICS:
                    value = row.get(metric, variant)
                    record[f"{prefix}{metric}"] = NA if value is None else repr(float(value))
            for key in _PROTOCOL_COLUMNS:
                record[key] = report.protocol.get(key, NA)
            writer.writerow(record)
    return path


def read_csv(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a metrics.csv with numbers parsed (``n/a`` → None)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"metrics file {path} does not exist")
    rows = []
    with path.open(newline="") as handle:
        for record in csv.DictReader(handle):
            parsed: dict[str, Any] = {}
            for key, text in record.items():
                if key in ("scheme", "bucket", *_PROTOCOL_COLUMNS):
                    parsed[key] = text
                elif key == "n":
                    parsed[key] = int(text)
                else:
                    parsed[key] = None if text == NA else float(text)
            rows.append(parsed)
    return rows


_FORMATS = {
    "psnr": "{:.2f}", "ssim": "{:.4f}", "l1": "{:.4f}", "mse": "{:.5f}", "rel_l1_pct": "{:.2f}", "lpips": "{:.4f}",
    "fid": "{:.2f}",
}  # fmt: skip


def render_table(report: MetricsReport, variant: str = "composite"):
    """A rich Table of one variant's numbers; metrics that are n/a in every row are left out (the notes say why)."""
    from rich.table import Table

    p = report.protocol
    metrics = [m for m in METRICS if any(row.get(m, variant) is not None for row in report.buckets)]
    table = Table(
        title=(
            f"{variant} (uint8) | SSIM {p.get('ssim_window')} | FID {p.get('fid_backend')} "
            f"| LPIPS {p.get('lpips_net')}"
        ),
        caption=f"buckets {p.get('closed', 'right')}-closed; FID over the row's N images",
    )
    table.add_column("bucket", no_wrap=True)
    table.add_column("N", justify="right")
    for metric in metrics:
        table.add_column(metric, justify="right")
    for row in report.buckets:
        cells = ["all" if row.scheme == "all" else f"{row.scheme} {row.bucket}", str(row.n)]
        for metric in metrics:
            value = row.get(metric, variant)
            cells.append(NA if value is None else _FORMATS[metric].format(value))
        table.add_row(*cells)
    return table


def print_report(report: MetricsReport, console=None) -> None:
    from rich.console import Console

    console = console or Console()
    for variant in report.variants():
        console.print(render_table(report, variant))
    for note in report.protocol.get("notes", []):
        console.print(f"[yellow]{note}[/yellow]")
