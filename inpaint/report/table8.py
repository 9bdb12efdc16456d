"""Table VIII (structure priors): PSNR↑ / SSIM↑ / FID↓ of TSGL trained with each structure input, at the 20–30 % and
40–50 % hole ratios, the paper's ADE20K values beside ours (:mod:`inpaint.report.paper.table8`).

Ours come from the ``paper`` bucket scheme of each trial's test metrics (composite image), averaged over seeds. A
prior whose cells could not start (the segmentation row without segmentation maps) shows n/a with the reason, in
the cell and in full in the notes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from inpaint.report.paper.table8 import TABLE8, TABLE8_LABELS, TABLE8_METRICS, TABLE8_OURS, TABLE8_RANGES, TABLE8_ROWS
from inpaint.report.qualitative import add_grid, pick_run_dirs
from inpaint.report.records import TrialRecord, group_by, na_note, seeds_of
from inpaint.report.study_report import StudyInput, StudyReport
from inpaint.report.table import Column, Row, Table, group_label, make_table, seed_cell
from inpaint.report.table2 import DIGITS, METRIC_LABEL, caption_text
from inpaint.report.writers import to_markdown, write_table

SCHEME = "paper"  # the 10–20 … 40–50 % buckets; Table VIII prints two of them
COLUMNS: tuple[Column, ...] = tuple(
    Column(m, r, f"{METRIC_LABEL[m]} {group_label(r)}", higher, DIGITS[m], latex_label=group_label(r),
           span=METRIC_LABEL[m])
    for m, higher in TABLE8_METRICS.items() for r in TABLE8_RANGES
)
#: the longest "why" a cell prints; a longer reason is only in the notes
CELL_REASON_CHARS = 60


def cell_reason(reason: str) -> str:
    """What a cell prints of a could-not-start reason: its head before the first ``": "`` without the option it
    names (``structure_prior='segmentation' needs segmentation maps: …`` → ``needs segmentation maps``) when that
    is short, else "could not start"."""
    head = re.sub(r"^\w+='[^']*'\s+", "", reason.split(": ", 1)[0].strip())
    return head if 0 < len(head) <= CELL_REASON_CHARS else "could not start"


def build_table8(records: Sequence[TrialRecord], facts: Mapping[str, Any] | None = None,
                 unavailable: Sequence[tuple[Mapping[str, Any], str]] = (), prior_param: str = "prior") -> Table:
    """Aggregate the study's trials into Table VIII (rows :data:`TABLE8_ROWS` in the paper's order)."""
    by_prior = group_by(records, prior_param)
    reasons: dict[str, str] = {}
    for params, reason in unavailable:
        prior = str(params.get(prior_param))
        if prior in TABLE8 and prior not in by_prior:
            reasons.setdefault(prior, reason)
    rows = []
    for prior in TABLE8_ROWS:
        runs = by_prior.get(prior, [])
        cells = {col.key: seed_cell((r.value(col.metric, col.condition, SCHEME) for r in runs),
                                    (TABLE8[prior][col.condition][col.metric],))
                 for col in COLUMNS}
        if not runs and prior in reasons:
            for cell in cells.values():
                cell.reason = cell_reason(reasons[prior])
        label = TABLE8_LABELS[prior] + (" (ours)" if prior == TABLE8_OURS else "")
        rows.append(Row(label, seeds_of(runs), cells))
    notes = [f"n/a ({TABLE8_LABELS[prior]}): {reason}" for prior, reason in reasons.items()]
    not_run = [TABLE8_LABELS[p] for p in TABLE8_ROWS if p not in by_prior and p not in reasons]
    if not_run:
        notes.append(f"n/a: not run (no completed trial): {', '.join(not_run)}")
    unknown = sorted(set(by_prior) - set(TABLE8))
    if unknown:
        notes.append(f"trials of priors outside Table VIII are not shown: {unknown}")
    if any(row.cells[col.key].ours.missing for row in rows for col in COLUMNS if col.metric == "fid"):
        notes.append(na_note(records, "fid"))
    n = sorted({f"{r}: {record.bucket_n(r, SCHEME)}" for record in records for r in TABLE8_RANGES
                if record.bucket_n(r, SCHEME) is not None})
    notes.append(f"test images per trial and hole ratio: {', '.join(n) or 'n/a'}. Paper: ADE20K at 256², the "
                 "network trained to convergence; structure priors as the suite computes them (docs/data.md).")
    caption = caption_text("Table VIII reproduction (structure priors of TSGL's structure branch).", facts or {},
                           records, prior_param)
    return make_table("table8", caption, COLUMNS, rows, notes=notes, best_within="table",
                      label_header="Structure prior", label_key="prior", source_keys=("",))


def table8_report(study: StudyInput) -> StudyReport:
    """The ``table8`` study's report: ``table8.{md,csv,tex}`` and a qualitative grid (one row per prior run)."""
    table = build_table8(study.records, facts=study.facts, unavailable=study.unavailable)
    report = StudyReport(study.name, "table8", write_table(table, study.out_dir), to_markdown(table),
                         list(table.notes), [table])
    dirs = pick_run_dirs(study.records, "prior")
    add_grid(report, {TABLE8_LABELS[p]: dirs[p] for p in TABLE8_ROWS if p in dirs}, study.out_dir / "table8_grid.png")
    return report
