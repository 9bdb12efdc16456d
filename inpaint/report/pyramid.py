"""Seed 002's Tables 3–5 (Pyramid Generator ablations) from the ``pyramid`` study, the seed's values beside ours.

One table, three groups (Table 3: levels, Table 4: fusion, Table 5: dilation), rows in the seed's order; the seed's
model ("ours") closes every group, as in the seed. Cells: SSIM↑ / PSNR↑ / L1↓ of the composite, mean ± std over
seeds, on the centre squares (the main test set, scheme ``all``: the seed's tables) and on free-form masks (the
test pass's kind set, ``deepfill`` row of scheme ``kind``; the seed publishes free-form numbers only for its
Table 1). The best value per column is marked within each group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from inpaint.report.paper.pyramid import (
    PYRAMID_METRICS,
    PYRAMID_NOT_CONVERGED,
    PYRAMID_PAPER,
    PYRAMID_ROWS,
    PYRAMID_TABLES,
)
from inpaint.report.qualitative import add_grid, pick_run_dirs
from inpaint.report.records import TrialRecord, group_by, seeds_of
from inpaint.report.study_report import StudyInput, StudyReport
from inpaint.report.table import Column, Row, Table, make_table, seed_cell
from inpaint.report.table2 import caption_text, missing_rows_note
from inpaint.report.writers import to_markdown, write_table

DIGITS = {"ssim": 3, "psnr": 2, "l1": 4}
LABELS = {"ssim": "SSIM↑", "psnr": "PSNR↑", "l1": "L1↓"}
#: mask set → (bucket scheme, bucket) of its rows in a trial's metrics
MASK_SETS: dict[str, tuple[str, str]] = {"square": ("all", "all"), "free-form": ("kind", "deepfill")}
COLUMNS: tuple[Column, ...] = tuple(
    Column(metric, mask_set, f"{LABELS[metric]} {mask_set}", higher, DIGITS[metric], latex_label=mask_set,
           span=LABELS[metric])
    for metric, higher in PYRAMID_METRICS.items() for mask_set in MASK_SETS
)


def _value(record: TrialRecord, column: Column) -> float | None:
    scheme, bucket = MASK_SETS[column.condition]
    return record.value(column.metric, bucket, scheme)


def build_pyramid_table(records: Sequence[TrialRecord], facts: Mapping[str, Any] | None = None,
                        variant_param: str = "variant") -> Table:
    """Aggregate the study's trials into Tables 3–5 (rows :data:`PYRAMID_ROWS`)."""
    by_variant = group_by(records, variant_param)
    rows = []
    for table, variant, label in PYRAMID_ROWS:
        runs = by_variant.get(variant, [])
        cells = {col.key: seed_cell((_value(r, col) for r in runs),
                                    (PYRAMID_PAPER[variant][col.metric] if col.condition == "square" else None,))
                 for col in COLUMNS}
        rows.append(Row(label, seeds_of(runs), cells, group=table))
    notes = missing_rows_note(rows, [label for _, _, label in PYRAMID_ROWS])
    unknown = sorted(set(by_variant) - {v for _, v, _ in PYRAMID_ROWS})
    if unknown:
        notes.append(f"trials of variants outside Tables 3–5 are not shown: {unknown}")
    if records and all(_value(r, COLUMNS[1]) is None for r in records):
        notes.append("free-form n/a: the trials scored no free-form kind set "
                     "(-o data.init_args.eval_kinds=[deepfill] scores it in the same test pass)")
    not_converged = ", ".join(label for _, v, label in PYRAMID_ROWS if v in PYRAMID_NOT_CONVERGED)
    notes.append(f"paper: square masks only (Tables 3–5); n/a for {not_converged}: the seed reports that it did not "
                 "converge")
    notes.append("paper: DIV2K val at 512² with centre squares, after about 5 days on a V100 — not a target for a "
                 "short CPU run, whose row order is noise")
    caption = caption_text("Seed 002 (Pyramid Generator) Tables 3–5: levels, fusion, dilation.", facts or {},
                           records, variant_param)
    return make_table("pyramid", caption, COLUMNS, rows, notes=notes, best_within="group", label_header="Variant",
                      label_key="variant", group_header="Table",
                      group_titles=dict(PYRAMID_TABLES), source_keys=("",))


def pyramid_report(study: StudyInput) -> StudyReport:
    """The ``pyramid`` study's report: ``pyramid.{md,csv,tex}`` and a qualitative grid (one row per variant)."""
    table = build_pyramid_table(study.records, facts=study.facts)
    report = StudyReport(study.name, "pyramid", write_table(table, study.out_dir), to_markdown(table),
                         list(table.notes), [table])
    add_grid(report, pick_run_dirs(study.records, "variant"), study.out_dir / "pyramid_grid.png")  # variant names
    return report
