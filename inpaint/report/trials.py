"""The report of any study without a paper table (searches): one line per completed trial, best first by the
study's objective value, with its parameters and the all-images composite metrics."""

from __future__ import annotations

import csv
import io
from typing import Any

import optuna

from inpaint.report.records import TrialRecord
from inpaint.report.study_report import StudyInput, StudyReport
from inpaint.report.writers import markdown_row, markdown_rule, write_files

METRICS = ("psnr", "ssim", "l1", "fid", "lpips")


def trial_row(record: TrialRecord, scheme: str = "all", bucket: str = "all") -> dict[str, Any]:
    """Trial number, parameters (floats to 4 significant digits), metrics in ``bucket`` and the wall time."""
    params = {k: float(f"{v:.4g}") if isinstance(v, float) else v for k, v in record.params.items()}
    row: dict[str, Any] = {"trial": record.number, **params}
    for metric in METRICS:
        value = record.value(metric, bucket, scheme)
        row[metric] = "n/a" if value is None else round(value, 4)
    row["wall_s"] = record.attrs.get("wall_s", "n/a")
    return row


def trials_report(study: StudyInput) -> StudyReport:
    """``trials.csv`` and ``trials.md``."""
    reverse = study.study.direction == optuna.study.StudyDirection.MAXIMIZE
    values = {t.number: t.value for t in study.study.get_trials(deepcopy=False) if t.value is not None}
    ordered = sorted(study.records, key=lambda r: values.get(r.number, float("nan")), reverse=reverse)
    rows = [{**trial_row(r), "value": round(values[r.number], 4) if r.number in values else "n/a"} for r in ordered]
    columns = list(dict.fromkeys(k for row in rows for k in row)) or ["trial"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(rows)
    lines = [f"**{study.name}: completed trials, best first (all hole ratios, composite).**", "",
             markdown_row(columns), markdown_rule(["l"] * len(columns))]
    lines += [markdown_row([str(row.get(c, "")) for c in columns]) for row in rows]
    md = "\n".join(lines) + "\n"
    paths = write_files(study.out_dir, "trials", {"csv": buffer.getvalue(), "md": md})
    return StudyReport(study.name, "table", paths, md)
