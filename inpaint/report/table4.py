"""Table IV (architecture ablation) from a sweep's records, the paper's values (:mod:`inpaint.report.paper.table4`)
beside ours.

Rows follow the paper's order and groups I–V. Each cell shows our mean ± std over seeds next to the published
number. The best of ours per column is marked (bold) across the whole table, and so is the best published value
per column, computed from the numbers (the paper's own boldface is not always on the best cell).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from inpaint.report.paper.table4 import TABLE4, TABLE4_BUCKETS, TABLE4_GROUP_TITLES, TABLE4_METRICS, TABLE4_ROWS
from inpaint.report.qualitative import add_grid, pick_run_dirs
from inpaint.report.records import TrialRecord, group_by, na_note, seeds_of
from inpaint.report.study_report import StudyInput, StudyReport
from inpaint.report.table import Column, Row, Table, group_label, make_table, seed_cell
from inpaint.report.writers import to_markdown, write_table

DIGITS = {"psnr": 2, "ssim": 3, "fid": 2}
METRIC_LABEL = {"psnr": "PSNR↑", "ssim": "SSIM↑", "fid": "FID↓"}

#: The paper's column order: each metric over its two hole-ratio buckets.
COLUMNS: tuple[Column, ...] = tuple(
    Column(m, b, f"{METRIC_LABEL[m]} {group_label(b)}", higher, DIGITS[m], latex_label=b.replace("-", "–"),
           span=METRIC_LABEL[m])
    for m, higher in TABLE4_METRICS.items() for b in TABLE4_BUCKETS
)


def _protocol_summary(records: Sequence[TrialRecord], scheme: str | None) -> dict[str, str]:
    """N per bucket, FID backend and SSIM window, as found in the trials' metrics (flagging disagreement)."""

    def one(values: set[str]) -> str:
        values.discard("")
        return " / ".join(sorted(values)) if values else "n/a"

    n_by_bucket = {b: {str(r.bucket_n(b, scheme)) for r in records if r.bucket_n(b, scheme) is not None}
                   for b in TABLE4_BUCKETS}
    return {
        "n": ", ".join(f"{b}: {one(v)}" for b, v in n_by_bucket.items()),
        "fid_backend": one({str(r.protocol.get("fid_backend", "")) for r in records}),
        "ssim_window": one({str(r.protocol.get("ssim_window_description", r.protocol.get("ssim_window", "")))
                            for r in records}),
    }


def caption_text(facts: Mapping[str, Any], protocol: Mapping[str, str], n_seeds: set[int]) -> str:
    seeds = "/".join(str(n) for n in sorted(n_seeds)) or "0"
    model = f"model: {facts['model']}; " if facts.get("model") else ""  # a profile's change to the paper's model
    return (
        "Table IV reproduction (architecture variants of TSGL). "
        f"Data: {facts.get('data', 'n/a')}; resolution {facts.get('resolution', 'n/a')}; {model}"
        f"training: {facts.get('steps', 'n/a')}; eval images N per bucket: {protocol['n']}; "
        f"FID: {protocol['fid_backend']}; SSIM window: {protocol['ssim_window']}. "
        f"Ours: mean ± std over {seeds} seed(s); paper: TSGL Table IV (arXiv version; dataset not stated there). "
        "Bold: best per column among ours and among the paper's values."
    )


def build_table4(
    records: Sequence[TrialRecord],
    facts: Mapping[str, Any] | None = None,
    scheme: str | None = "table4",
    variant_param: str = "variant",
) -> Table:
    """Aggregate trial records into Table IV.

    Args:
        records: completed trials; ``params[variant_param]`` names the variant, metrics hold ``scheme`` buckets
            labelled ``10-30%`` / ``30-50%``.
        facts: caption facts about the run (``data``, ``resolution``, ``steps``).
        scheme: the bucket scheme name in the metrics (None: match buckets by label only).
    """
    by_variant = group_by(records, variant_param)
    notes = []
    unknown = sorted(set(by_variant) - {v for _, v in TABLE4_ROWS})
    if unknown:
        notes.append(f"trials of variants outside Table IV are not shown: {unknown}")
    rows = []
    for group, variant in TABLE4_ROWS:
        runs = by_variant.get(variant, [])
        cells = {col.key: seed_cell((r.value(col.metric, col.condition, scheme) for r in runs),
                                    (TABLE4[variant][(col.metric, col.condition)],))
                 for col in COLUMNS}
        rows.append(Row(variant, seeds_of(runs), cells, group=group))
    missing = [row.label for row in rows if not row.seeds]
    if missing:
        notes.append(f"not run yet (n/a): {', '.join(missing)}")
    if any(row.cells[col.key].ours.missing for row in rows for col in COLUMNS if col.metric == "fid"):
        notes.append(na_note(records, "fid"))
    seeds = {len(row.seeds) for row in rows if row.seeds}
    caption = caption_text(facts or {}, _protocol_summary(records, scheme), seeds)
    return make_table("table4", caption, COLUMNS, rows, notes=notes, best_within="table", label_header="Variant",
                      label_key="variant", group_header="Group", group_titles=dict(TABLE4_GROUP_TITLES),
                      source_keys=("",))


def table4_report(study: StudyInput) -> StudyReport:
    """The ablation study's report: ``table4.{md,csv,tex}`` and a qualitative grid in the paper's row order."""
    table = build_table4(study.records, facts=study.facts)
    report = StudyReport(study.name, "table4", write_table(table, study.out_dir), to_markdown(table), list(table.notes),
                         [table])
    dirs = pick_run_dirs(study.records, "variant")
    add_grid(report, {v: dirs[v] for _, v in TABLE4_ROWS if v in dirs}, study.out_dir / "table4_grid.png")
    return report
