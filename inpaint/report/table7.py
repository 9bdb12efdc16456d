"""Table VII (cross-layer balance ablation): PSNR↑ / SSIM↑ / FID↓ on the global structure image and on the local
residual structure image of the output vs the ground truth, for Ours(Basic), Ours(PENNet), Ours(HiFill) and Ours
(paper Table VII; operators in :mod:`inpaint.report.structure_images`, metrics in
:mod:`inpaint.report.structure_metrics`, computed from each trial's saved test PNGs).

The paper gives two unlabelled rows per method; the suite reads them as the 10–30 % and 30–50 % hole-ratio ranges
(:data:`~inpaint.report.paper.table7.TABLE7_RANGES`) and says so in the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from inpaint.report.paper.labels import GENERATOR_LABELS
from inpaint.report.paper.table7 import TABLE7, TABLE7_KINDS, TABLE7_METRICS, TABLE7_RANGES, TABLE7_ROWS
from inpaint.report.records import TrialRecord, group_by, seeds_of
from inpaint.report.structure_metrics import StructureScores, cached_structure_metrics
from inpaint.report.table import Column, Row, Table, group_label, make_table, seed_cell
from inpaint.report.table2 import DIGITS, METRIC_LABEL, caption_text, missing_rows_note

KIND_LABEL = {"global": "global structure", "local": "local residual structure"}
Scores = dict[str, dict[str, StructureScores]]  # range → kind → scores


def trial_structure_metrics(records: Sequence[TrialRecord], notes: list[str]) -> dict[int, Scores]:
    """Structure-image metrics per trial number (trials whose run dir lacks the PNGs are skipped with a note);
    cached per run dir (``structure_metrics.json``): the Inception features are the expensive part."""
    from inpaint.metrics.inception import FIDBackend, resolve_fid_backend

    backend: FIDBackend | None = None
    out: dict[int, Scores] = {}
    for record in records:
        if record.run_dir is None:
            notes.append(f"trial {record.number}: no run_dir stored; its structure metrics are n/a")
            continue
        try:
            if backend is None:
                backend = resolve_fid_backend()
            out[record.number] = cached_structure_metrics(record.run_dir, TABLE7_RANGES, backend.extractor,
                                                          backend.name, backend.unavailable_reason)
        except FileNotFoundError as err:
            notes.append(f"trial {record.number}: {err}")
    return out


def build_table7(records: Sequence[TrialRecord], facts: Mapping[str, Any] | None = None,
                 generator_param: str = "generator", scores: Mapping[int, Scores] | None = None) -> Table:
    """Table VII from the trials of :data:`TABLE7_ROWS`; ``scores`` (trial number → metrics) skips reading PNGs."""
    by_generator = group_by(records, generator_param)
    used = [r for name in TABLE7_ROWS for r in by_generator.get(name, [])]
    notes: list[str] = []
    scores = dict(scores) if scores is not None else trial_structure_metrics(used, notes)
    columns = [Column(m, k, f"{METRIC_LABEL[m]} {KIND_LABEL[k]}", higher, DIGITS[m])
               for k in TABLE7_KINDS for m, higher in TABLE7_METRICS.items()]
    rows = []
    for position, ratio in enumerate(TABLE7_RANGES, start=1):
        for name in TABLE7_ROWS:
            runs = by_generator.get(name, [])

            def value(run: TrialRecord, col: Column, ratio: str = ratio) -> float | None:
                group = scores.get(run.number, {}).get(ratio, {}).get(col.condition)
                return None if group is None else getattr(group, col.metric)

            paper = TABLE7[name][ratio]
            cells = {col.key: seed_cell((value(r, col) for r in runs), [paper[(col.condition, col.metric)]])
                     for col in columns}
            group = f"{group_label(ratio)} (paper row {position})"
            rows.append(Row(GENERATOR_LABELS[name], seeds_of(runs), cells, group=group))
    notes += missing_rows_note(rows[: len(TABLE7_ROWS)], [GENERATOR_LABELS[n] for n in TABLE7_ROWS])
    found = {s.notes[0] for per in scores.values() for kinds in per.values() for s in kinds.values() if s.notes}
    notes += sorted(found)
    identical = sum(s.identical for per in scores.values() for label, kinds in per.items() if label != "all"
                    for s in kinds.values())
    if identical:
        notes.append(f"{identical} image pair(s) had identical structure images (infinite PSNR) and are left out of "
                     "the PSNR means")
    n_per_range = {ratio: sorted({per[ratio]["global"].n for per in scores.values() if ratio in per})
                   for ratio in TABLE7_RANGES}
    notes.append(
        "paper rows are unlabelled in Table VII; read here as hole-ratio ranges "
        + ", ".join(f"{r} (N = {'/'.join(map(str, n)) or 'n/a'} images per trial)" for r, n in n_per_range.items())
        + ". Metrics on the saved composites vs targets (uint8 PNG): global = Canny edges ×255, local = "
        "x − up(down(x)) (2× average-pool down, bilinear up) mapped linearly from [-2, 2] to 0…255; "
        "see docs/hosts.md."
    )
    caption = caption_text("Table VII reproduction (cross-layer balance; metrics on structure images).", facts or {},
                           used, generator_param)
    return make_table("table7", caption, columns, rows, paper_sources=("paper",), notes=notes)
