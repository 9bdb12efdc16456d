"""Seed 004's Table 1 (MSFEF loss and module ablation) from the ``msfef`` study, the seed's values beside ours.

One group per hole-ratio bucket of the seed ([0.01, 0.1) … [0.4, 0.5), left-closed: scheme ``msfef``), one row per
variant in the seed's order; cells L2↓ (MSE on [0, 1]) / SSIM↑ / PSNR↑ / LPIPS↓ of the composite, mean ± std over
seeds. The best value per column is marked within each bucket. Rows whose runs need a weight file this machine lacks
(the VGG-16 of the perceptual and style losses) are n/a, and a note names the file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from inpaint.data.buckets import MSFEF_BUCKETS
from inpaint.report.paper.msfef import MSFEF_BUCKET_LABELS, MSFEF_METRICS, MSFEF_PAPER, MSFEF_ROWS
from inpaint.report.qualitative import add_grid, pick_run_dirs
from inpaint.report.records import TrialRecord, group_by, na_note, seeds_of
from inpaint.report.study_report import StudyInput, StudyReport
from inpaint.report.table import Column, Row, Table, make_table, seed_cell
from inpaint.report.table2 import caption_text
from inpaint.report.writers import to_markdown, write_table

SCHEME = "msfef"
#: bucket label → the interval as the seed writes it (left-closed)
GROUP_TITLES = {label: f"[{low:g}, {high:g})" for label, (low, high) in zip(MSFEF_BUCKET_LABELS, MSFEF_BUCKETS)}
DIGITS = {"mse": 4, "ssim": 4, "psnr": 2, "lpips": 4}
LABELS = {"mse": "L2↓", "ssim": "SSIM↑", "psnr": "PSNR↑", "lpips": "LPIPS↓"}
COLUMNS: tuple[Column, ...] = tuple(
    Column(metric, SCHEME, LABELS[metric], higher, DIGITS[metric]) for metric, higher in MSFEF_METRICS.items()
)


def build_msfef_table(records: Sequence[TrialRecord], facts: Mapping[str, Any] | None = None,
                      unavailable: Sequence[tuple[Mapping[str, Any], str]] = (),
                      variant_param: str = "variant") -> Table:
    """Aggregate the study's trials into seed 004's Table 1 (rows :data:`MSFEF_ROWS` within each bucket)."""
    by_variant = group_by(records, variant_param)
    rows = []
    for bucket in MSFEF_BUCKET_LABELS:
        for variant, label in MSFEF_ROWS:
            runs = by_variant.get(variant, [])
            paper = MSFEF_PAPER.get(variant, {}).get(bucket, {})
            cells = {col.key: seed_cell((r.value(col.metric, bucket, SCHEME) for r in runs), (paper.get(col.metric),))
                     for col in COLUMNS}
            rows.append(Row(label, seeds_of(runs), cells, group=bucket))
    notes = []
    labels = dict(MSFEF_ROWS)
    reasons: dict[str, list[str]] = {}
    for params, reason in unavailable:
        variant = str(params.get(variant_param))
        if variant in labels and variant not in by_variant and labels[variant] not in reasons.get(reason, []):
            reasons.setdefault(reason, []).append(labels[variant])
    for reason, names in reasons.items():
        notes.append(f"n/a ({', '.join(names)}): {reason}")
    shown = {name for names in reasons.values() for name in names}
    not_run = [label for variant, label in MSFEF_ROWS if variant not in by_variant and label not in shown]
    if not_run:
        notes.append(f"n/a: not run (no completed trial): {', '.join(not_run)}")
    unknown = sorted(set(by_variant) - set(labels))
    if unknown:
        notes.append(f"trials of variants outside Table 1 are not shown: {unknown}")
    if records and any(r.value("lpips", "all") is None for r in records):
        notes.append(na_note(records, "lpips"))
    notes.append("paper: Helen faces at 256² (2,000 training images, 120 epochs, batch 32); its PSNR column repeats "
                 "values across rows (No style / No perceptual, no style share four of five) — likely copy-paste "
                 "errors, kept as printed")
    caption = caption_text("Seed 004 (MSFEF) Table 1: losses and the multi-scale block, per hole ratio [low, high).",
                           facts or {}, records, variant_param)
    return make_table("msfef", caption, COLUMNS, rows, notes=notes, best_within="group", label_header="Variant",
                      label_key="variant", group_header="Hole ratio",
                      group_titles=GROUP_TITLES, source_keys=("",))


def msfef_report(study: StudyInput) -> StudyReport:
    """The ``msfef`` study's report: ``msfef.{md,csv,tex}`` and a qualitative grid (one row per variant run)."""
    table = build_msfef_table(study.records, facts=study.facts, unavailable=study.unavailable)
    report = StudyReport(study.name, "msfef", write_table(table, study.out_dir), to_markdown(table),
                         list(table.notes), [table])
    add_grid(report, pick_run_dirs(study.records, "variant"), study.out_dir / "msfef_grid.png")
    return report
