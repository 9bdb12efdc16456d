"""Table II (encoder swap at 256²): PSNR↑ / SSIM↑ / FID↓ per hole-ratio bucket, the paper's CelebA and Places2
values beside ours, for PENNet, HiFill, Ours(PENNet), Ours(HiFill) and Ours (paper Table II).

Ours come from the ``paper`` bucket scheme of each trial's test metrics (buckets 10–20 / 20–30 / 30–40 / 40–50 %,
composite image), averaged over seeds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from inpaint.report.paper.labels import GENERATOR_LABELS
from inpaint.report.paper.table2 import TABLE2, TABLE2_BUCKETS, TABLE2_DATASETS, TABLE2_METRICS, TABLE2_ROWS
from inpaint.report.records import TrialRecord, group_by, na_note, seeds_of
from inpaint.report.table import Column, Row, Table, group_label, make_table, seed_cell

METRIC_LABEL = {"psnr": "PSNR↑", "ssim": "SSIM↑", "fid": "FID↓", "lpips": "LPIPS↓"}
DIGITS = {"psnr": 2, "ssim": 3, "fid": 2, "lpips": 3}


def missing_rows_note(rows: Sequence[Row], wanted: Sequence[str]) -> list[str]:
    """A note naming the rows without any completed trial."""
    missing = [label for label, row in zip(wanted, rows) if not row.seeds]
    return [f"n/a: not run (no completed trial): {', '.join(missing)}"] if missing else []


def caption_text(title: str, facts: Mapping[str, Any], records: Sequence[TrialRecord], param: str) -> str:
    """The caption of the swap-study tables: the run's facts, FID backend(s) and seeds per row."""
    seeds = sorted({len(v) for v in group_by(records, param).values()}) if records else []
    backends = sorted({str(r.protocol.get("fid_backend", "n/a")) for r in records}) or ["n/a"]
    return (
        f"{title} Data: {facts.get('data', 'n/a')}; resolution {facts.get('resolution', 'n/a')}; "
        f"widths: {facts.get('widths', 'n/a')}; training: {facts.get('steps', 'n/a')}; "
        f"FID: {' / '.join(backends)}. Ours: mean ± std over {'/'.join(map(str, seeds)) or '0'} seed(s)."
    )


def build_table2(records: Sequence[TrialRecord], facts: Mapping[str, Any] | None = None,
                 generator_param: str = "generator", scheme: str = "paper") -> Table:
    """Aggregate the swap-study trials into Table II (rows :data:`TABLE2_ROWS`, paper CelebA and Places2 beside)."""
    by_generator = group_by(records, generator_param)
    columns = [Column(m, b, f"{METRIC_LABEL[m]} {group_label(b)}", higher, DIGITS[m])
               for m, higher in TABLE2_METRICS.items() for b in TABLE2_BUCKETS]
    rows = []
    for name in TABLE2_ROWS:
        runs = by_generator.get(name, [])
        cells = {
            col.key: seed_cell((r.value(col.metric, col.condition, scheme) for r in runs),
                               [TABLE2[d][name][(col.metric, col.condition)] for d in TABLE2_DATASETS])
            for col in columns
        }
        rows.append(Row(GENERATOR_LABELS[name], seeds_of(runs), cells))
    notes = missing_rows_note(rows, [GENERATOR_LABELS[n] for n in TABLE2_ROWS])
    if any(c.ours.missing for row in rows for key, c in row.cells.items() if key.startswith("fid")):
        notes.append(na_note(records, "fid"))
    notes.append("paper values: CelebA and Places2 blocks of Table II (256×256, NVIDIA irregular masks); the paper "
                 "trains each network to convergence, this study for the step budget above.")
    caption = caption_text("Table II reproduction (encoder swap: hosts vs Ours(host)).", facts or {}, records,
                           generator_param)
    return make_table("table2", caption, columns, rows, paper_sources=TABLE2_DATASETS, notes=notes)
