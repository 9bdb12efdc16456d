"""Table III (Places2 at 512²): FID↓ / LPIPS↓ on LaMa's narrow / medium / wide masks, Params and MACs, for HiFill,
LaMa and Ours(LaMa), the paper's values beside ours (paper Table III).

* FID / LPIPS come from the ``lama`` bucket scheme of each trial's test metrics (images grouped by mask kind
  ``thin`` / ``medium`` / ``thick`` = the paper's narrow / medium / wide), scored on the data module's LaMa kind set
  (``data.init_args.lama_eval_kinds``) in the same test pass.
* Params and MACs are counted for the trial's generator class at **paper widths** and 512² on the ``meta`` device
  (:func:`inpaint.models.complexity.count_generator`), without the auxiliary edge decoder, as the paper counts G. The
  paper's "FLOPs" sit beside our MACs; they mix conventions (a note says which row uses which). FFTs (LaMa's
  spectral transform) are not counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from inpaint.report.paper.complexity import PAPER_COMPLEXITY, PAPER_FLOPS_CONVENTION
from inpaint.report.paper.labels import GENERATOR_LABELS
from inpaint.report.paper.table3 import (
    TABLE3,
    TABLE3_KIND_LABELS,
    TABLE3_KINDS,
    TABLE3_METRICS,
    TABLE3_RESOLUTION,
    TABLE3_ROWS,
)
from inpaint.report.records import TrialRecord, config_value, group_by, na_reasons, seeds_of
from inpaint.report.table import Column, Row, Table, make_table, seed_cell
from inpaint.report.table2 import DIGITS, METRIC_LABEL, caption_text, missing_rows_note


def paper_width_complexity(record: TrialRecord, resolution: int = TABLE3_RESOLUTION) -> tuple[int, int] | None:
    """(params, MACs) of the record's generator at paper widths and ``resolution``², or None without a config."""
    from inpaint.models.complexity import count_generator, inference_complexity

    class_path = config_value(record.config, "model.generator.class_path")
    if not class_path:
        return None
    init_args = dict(config_value(record.config, "model.generator.init_args") or {})
    init_args["size"] = "paper"
    return inference_complexity(count_generator(class_path, init_args, resolution, resolution))


def build_table3(records: Sequence[TrialRecord], facts: Mapping[str, Any] | None = None,
                 generator_param: str = "generator", scheme: str = "lama") -> Table:
    """Aggregate the swap-study trials into Table III (rows :data:`TABLE3_ROWS`)."""
    by_generator = group_by(records, generator_param)
    res = TABLE3_RESOLUTION
    columns = [Column("params", "paper widths", "Params (M)", None, 2),
               Column("macs", f"{res}px", f"MACs @{res}² (G)", None, 1)]
    columns += [Column(m, k, f"{METRIC_LABEL[m]} {TABLE3_KIND_LABELS[k]}", higher, DIGITS[m])
                for k in TABLE3_KINDS for m, higher in TABLE3_METRICS.items()]
    rows = []
    conventions = []  # "<row>: <what the paper's FLOPs figure counts>"
    for name in TABLE3_ROWS:
        runs = by_generator.get(name, [])
        counts = paper_width_complexity(runs[0]) if runs else None
        classes = {str(config_value(r.config, "model.generator.class_path") or "").rpartition(".")[2] for r in runs}
        figure = next((PAPER_COMPLEXITY[c] for c in classes if c in PAPER_COMPLEXITY), None)
        conventions += [f"{GENERATOR_LABELS[name]}: {PAPER_FLOPS_CONVENTION[c]}" for c in sorted(classes)
                        if c in PAPER_FLOPS_CONVENTION]
        cells = {
            columns[0].key: seed_cell([counts[0] / 1e6] if counts else [], [figure[0] / 1e6 if figure else None]),
            columns[1].key: seed_cell([counts[1] / 1e9] if counts else [], [figure[1] / 1e9 if figure else None]),
        }
        for col in columns[2:]:
            cells[col.key] = seed_cell((r.value(col.metric, col.condition, scheme) for r in runs),
                                       [TABLE3[name][(col.metric, col.condition)]])
        rows.append(Row(GENERATOR_LABELS[name], seeds_of(runs), cells))
    notes = missing_rows_note(rows, [GENERATOR_LABELS[n] for n in TABLE3_ROWS])
    used = [r for name in TABLE3_ROWS for r in by_generator.get(name, [])]
    kinds_seen = {k for r in used for k in TABLE3_KINDS if (r.bucket_n(k, scheme) or 0) > 0}
    if used and len(kinds_seen) < len(TABLE3_KINDS):
        masks = sorted({str(config_value(r.config, "data.init_args.eval_masks")) for r in used})
        # runs from before lama_eval_kinds existed (or with fewer kinds) have no rows for some kinds
        notes.append(
            f"FID/LPIPS n/a for mask kinds {[k for k in TABLE3_KINDS if k not in kinds_seen]}: this study evaluated on "
            f"eval_masks={'/'.join(masks)} without those LaMa kinds; set "
            "-o data.init_args.lama_eval_kinds=[thin,medium,thick] to score them in the same test pass "
            "(with -o data.init_args.resolution=512 for the paper's setting)")
    for metric in ("lpips", "fid"):
        reasons = na_reasons(used, metric)
        if reasons and any(c.ours.missing for row in rows for key, c in row.cells.items() if key.startswith(metric)):
            notes.append("; ".join(reasons))
    notes.append("Params/MACs: our count of the same generator class at paper widths, 512², batch 1, without the "
                 "auxiliary edge decoder; FFTs (LaMa's spectral transform) are not counted. The paper's 'FLOPs' mix "
                 f"conventions: {'; '.join(conventions) or 'n/a'} (docs/hosts.md, Size and cost).")
    caption = caption_text("Table III reproduction (512² hosts: HiFill, LaMa, Ours(LaMa)).", facts or {}, used,
                           generator_param)
    return make_table("table3", caption, columns, rows, paper_sources=("paper",), notes=notes)
