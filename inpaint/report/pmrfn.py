"""Seed 003's Table 2 (PMRFN ablation) from the ``pmrfn`` study, the seed's values beside ours.

One row per ablation in the seed's order; each cell is the metric averaged over the six NVIDIA hole-ratio groups
(0–10 … 50–60 %, scheme ``nvidia``) — every group weighted alike, recomputed from the trial's own buckets (the seed's
printed averages are not all means of its groups) — then mean ± std over seeds: relative ℓ1 (%)↓, SSIM↑, PSNR↑,
FID↓ (each group's FID over that group's N images). A trial missing a group has no average (n/a), never a partial
one. The best value per column is marked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from inpaint.data.buckets import NVIDIA_BUCKETS, bucket_label
from inpaint.report.paper.pmrfn import PMRFN_METRICS, PMRFN_PAPER, PMRFN_ROWS
from inpaint.report.qualitative import add_grid, pick_run_dirs
from inpaint.report.records import TrialRecord, bucket_mean, group_by, na_note, seeds_of
from inpaint.report.study_report import StudyInput, StudyReport
from inpaint.report.table import Column, Row, Table, make_table, seed_cell
from inpaint.report.table2 import caption_text, missing_rows_note
from inpaint.report.writers import to_markdown, write_table

SCHEME = "nvidia"
GROUPS: tuple[str, ...] = tuple(bucket_label(b) for b in NVIDIA_BUCKETS)
DIGITS = {"rel_l1_pct": 2, "ssim": 3, "psnr": 3, "fid": 2}
LABELS = {"rel_l1_pct": "ℓ1 %↓", "ssim": "SSIM↑", "psnr": "PSNR↑", "fid": "FID↓"}
COLUMNS: tuple[Column, ...] = tuple(
    Column(metric, "ave", f"{LABELS[metric]} ave", higher, DIGITS[metric], latex_label=LABELS[metric])
    for metric, higher in PMRFN_METRICS.items()
)


def build_pmrfn_table(records: Sequence[TrialRecord], facts: Mapping[str, Any] | None = None,
                      variant_param: str = "variant") -> Table:
    """Aggregate the study's trials into seed 003's Table 2 (rows :data:`PMRFN_ROWS`)."""
    by_variant = group_by(records, variant_param)
    rows = []
    for variant, label in PMRFN_ROWS:
        runs = by_variant.get(variant, [])
        cells = {col.key: seed_cell((bucket_mean(r, col.metric, SCHEME, GROUPS) for r in runs),
                                    (PMRFN_PAPER[variant][col.metric],))
                 for col in COLUMNS}
        rows.append(Row(label, seeds_of(runs), cells))
    notes = missing_rows_note(rows, [label for _, label in PMRFN_ROWS])
    unknown = sorted(set(by_variant) - {v for v, _ in PMRFN_ROWS})
    if unknown:
        notes.append(f"trials of variants outside Table 2 are not shown: {unknown}")
    partial = sorted({r.number for r in records if bucket_mean(r, "psnr", SCHEME, GROUPS) is None})
    if partial:
        notes.append(f"n/a: trials {partial} lack some of the six groups {', '.join(GROUPS)} "
                     "(score with data.init_args.eval_buckets = the NVIDIA groups and run.evaluation.schemes [nvidia])")
    if records and any(r.value("fid", "all") is None for r in records):
        notes.append(na_note(records, "fid"))
    sizes = sorted({n for r in records for g in GROUPS if (n := r.bucket_n(g, SCHEME)) is not None})
    if sizes:
        notes.append(f"averages: the plain mean over the six groups {', '.join(GROUPS)}, recomputed; N per group: "
                     f"{'/'.join(map(str, sizes))} images (FID of a group over its N only: compare equal N)")
    notes.append("paper: Places2 at 256², 10,000 test images with the NVIDIA masks; not a target for a short CPU run, "
                 "whose row order is noise")
    caption = caption_text("Seed 003 (PMRFN) Table 2: ablations, averaged over the six hole-ratio groups.",
                           facts or {}, records, variant_param)
    return make_table("pmrfn", caption, COLUMNS, rows, notes=notes, best_within="table", label_header="Setting",
                      label_key="variant", source_keys=("",))


def pmrfn_report(study: StudyInput) -> StudyReport:
    """The ``pmrfn`` study's report: ``pmrfn.{md,csv,tex}`` and a qualitative grid (one row per variant)."""
    table = build_pmrfn_table(study.records, facts=study.facts)
    report = StudyReport(study.name, "pmrfn", write_table(table, study.out_dir), to_markdown(table),
                         list(table.notes), [table])
    add_grid(report, pick_run_dirs(study.records, "variant"), study.out_dir / "pmrfn_grid.png")
    return report
