"""Seed 002's Tables 3–5 (Pyramid Generator ablations) from the ``pyramid`` study, the seed's values beside ours.

One table, three groups (Table 3: levels, Table 4: fusion, Table 5: dilation), rows in the seed's order; the seed's
model ("ours") closes every group, as in the seed. Cells: SSIM↑ / PSNR↑ / L1↓ of the composite over the whole test set
(scheme ``all``), mean ± std over seeds. The best value per column is marked within each group.
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

COLUMNS: tuple[Column, ...] = (
    Column("ssim", "all", "SSIM↑", True, 3),
    Column("psnr", "all", "PSNR↑", True, 2),
    Column("l1", "all", "L1↓", False, 4),
)
assert tuple(c.metric for c in COLUMNS) == tuple(PYRAMID_METRICS)


def build_pyramid_table(records: Sequence[TrialRecord], facts: Mapping[str, Any] | None = None,
                        variant_param: str = "variant", scheme: str = "all") -> Table:
    """Aggregate the study's trials into Tables 3–5 (rows :data:`PYRAMID_ROWS`)."""
    by_variant = group_by(records, variant_param)
    rows = []
    for table, variant, label in PYRAMID_ROWS:
        runs = by_variant.get(variant, [])
        cells = {col.key: seed_cell((r.value(col.metric, col.condition, scheme) for r in runs),
                                    (PYRAMID_PAPER[variant][col.metric],))
                 for col in COLUMNS}
        rows.append(Row(label, seeds_of(runs), cells, group=table))
    notes = missing_rows_note(rows, [label for _, _, label in PYRAMID_ROWS])
    unknown = sorted(set(by_variant) - {v for _, v, _ in PYRAMID_ROWS})
    if unknown:
        notes.append(f"trials of variants outside Tables 3–5 are not shown: {unknown}")
    notes.append("paper n/a for " + ", ".join(label for _, v, label in PYRAMID_ROWS if v in PYRAMID_NOT_CONVERGED)
                 + ": the seed reports that it did not converge")
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
