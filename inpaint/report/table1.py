"""Table I (direction of reconstruction) from a sweep's records, the paper's values
(:mod:`inpaint.report.paper.table1`) beside ours.

The paper names Table I's four models only by what they reconstruct. The suite's reading (docs/model.md, "Table I:
the direction of reconstruction") maps each row to a variant of :data:`inpaint.models.variants.VARIANTS`:

* (a) w. structure — ``Global->Global``: the texture map, globally normalised, modulated by the structure map (Eq. 6
  with Eq. 7's statistics, the form Sec. III-B states before it splits global from local);
* (a) w/o — ``Baseline``: the texture encoder alone;
* (b) w. texture — ``Global->Global+Texture->Structure``: the structure map is first reconstructed from the texture
  map (normalised over its whole map, modulated by F_k^T), then guides the texture as in (a) w.;
* (b) w/o — ``Global->Global`` again: the structure map as its encoder made it. Under this reading it is the same
  model as (a) w., trained once; the table shows those trials in both rows and says so.

Columns: FID↓ per hole-ratio bucket, as the paper's (every other metric stays in the trials' stored metrics). The best
value is marked within each half (a) / (b).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from inpaint.report.paper.table1 import TABLE1, TABLE1_BUCKETS, TABLE1_GROUP_TITLES, TABLE1_METRICS, TABLE1_ROWS
from inpaint.report.qualitative import add_grid, pick_run_dirs
from inpaint.report.records import TrialRecord, group_by, na_note, seeds_of
from inpaint.report.study_report import StudyInput, StudyReport
from inpaint.report.table import Column, Row, Table, group_label, make_table, seed_cell
from inpaint.report.writers import to_markdown, write_table

#: Table I row key → the variant trained for it (the suite's reading; module doc).
TABLE1_VARIANTS: Final[dict[str, str]] = {
    "a_with": "Global->Global",
    "a_without": "Baseline",
    "b_with": "Global->Global+Texture->Structure",
    "b_without": "Global->Global",
}
#: the bucket scheme the evaluation stores Table I's buckets under (10–20 … 40–50 %)
SCHEME: Final[str] = "paper"

#: The paper's columns: FID per hole-ratio bucket.
COLUMNS: tuple[Column, ...] = tuple(
    Column(m, b, f"FID↓ {group_label(b)}", higher, 2, latex_label=group_label(b), span="FID↓")
    for m, higher in TABLE1_METRICS.items() for b in TABLE1_BUCKETS
)


def trained_variants() -> list[str]:
    """The variants Table I needs, each once, in row order (what ``sweeps/table1.yaml`` lists)."""
    return list(dict.fromkeys(TABLE1_VARIANTS[key] for _, key, _ in TABLE1_ROWS))


def images_per_bucket(records: Sequence[TrialRecord], scheme: str | None = SCHEME) -> str:
    """``10-20%: 8, 20-30%: 8, …``: the evaluation images per bucket as the trials stored them (disagreement shown)."""
    def one(bucket: str) -> str:
        values = sorted({str(n) for r in records if (n := r.bucket_n(bucket, scheme)) is not None})
        return " / ".join(values) or "n/a"

    return ", ".join(f"{b}: {one(b)}" for b in TABLE1_BUCKETS)


def caption_text(facts: Mapping[str, Any], n_seeds: set[int], fid_backend: str, n_images: str = "n/a") -> str:
    seeds = "/".join(str(n) for n in sorted(n_seeds)) or "0"
    model = f"model: {facts['model']}; " if facts.get("model") else ""
    reading = ", ".join(f"({g}) {label.split()[0]} = {TABLE1_VARIANTS[key]}" for g, key, label in TABLE1_ROWS)
    return (
        "Table I reproduction (direction of reconstruction: (a) texture via structure, (b) structure via texture). "
        f"Data: {facts.get('data', 'n/a')}; resolution {facts.get('resolution', 'n/a')}; {model}"
        f"training: {facts.get('steps', 'n/a')}; eval images N per bucket: {n_images}; FID: {fid_backend}. "
        f"Ours: mean ± std over {seeds} seed(s); paper: TSGL Table I (arXiv version; dataset not stated there). "
        f"Rows are read as variants: {reading} (docs/model.md). Bold: best per column within (a) and within (b)."
    )


def build_table1(
    records: Sequence[TrialRecord],
    facts: Mapping[str, Any] | None = None,
    scheme: str | None = SCHEME,
    variant_param: str = "variant",
) -> Table:
    """Aggregate trial records into Table I.

    Args:
        records: completed trials; ``params[variant_param]`` names the variant, metrics hold ``scheme`` buckets
            labelled ``10-20%`` … ``40-50%``.
        facts: caption facts about the run (``data``, ``resolution``, ``steps``, ``model``).
        scheme: the bucket scheme name in the metrics (None: match buckets by label only).
    """
    by_variant = group_by(records, variant_param)
    notes = []
    unknown = sorted(set(by_variant) - set(TABLE1_VARIANTS.values()))
    if unknown:
        notes.append(f"trials of variants outside Table I are not shown: {unknown}")
    rows = []
    for group, key, label in TABLE1_ROWS:
        runs = by_variant.get(TABLE1_VARIANTS[key], [])
        cells = {col.key: seed_cell((r.value(col.metric, col.condition, scheme) for r in runs),
                                    (TABLE1[key].get((col.metric, col.condition)),))
                 for col in COLUMNS}
        rows.append(Row(label, seeds_of(runs), cells, group=group, text={"variant": TABLE1_VARIANTS[key]}))
    shared = [v for v in dict.fromkeys(TABLE1_VARIANTS.values()) if list(TABLE1_VARIANTS.values()).count(v) > 1]
    for variant in shared:
        labels = [f"({g}) {label}" for g, key, label in TABLE1_ROWS if TABLE1_VARIANTS[key] == variant]
        notes.append(f"{' and '.join(labels)} are one model ({variant}) under this reading: the same trials")
    missing = [f"({row.group}) {row.label}" for row in rows if not row.seeds]
    if missing:
        notes.append(f"not run yet (n/a): {', '.join(missing)}")
    if any(row.cells[col.key].ours.missing for row in rows for col in COLUMNS if col.metric == "fid"):
        notes.append(na_note(records, "fid"))
    seeds = {len(row.seeds) for row in rows if row.seeds}
    backends = {str(r.protocol.get("fid_backend", "")) for r in records} - {""}
    caption = caption_text(facts or {}, seeds, " / ".join(sorted(backends)) or "n/a",
                           images_per_bucket(records, scheme))
    return make_table("table1", caption, COLUMNS, rows, notes=notes, best_within="group", label_header="Model",
                      label_key="model", group_header="Table I", group_titles=dict(TABLE1_GROUP_TITLES),
                      source_keys=("",), text_columns=(("variant", "Variant"),))


def table1_report(study: StudyInput) -> StudyReport:
    """The table1 study's report: ``table1.{md,csv,tex}`` and a qualitative grid of the three trained variants."""
    table = build_table1(study.records, facts=study.facts)
    report = StudyReport(study.name, "table1", write_table(table, study.out_dir), to_markdown(table), list(table.notes),
                         [table])
    dirs = pick_run_dirs(study.records, "variant")
    add_grid(report, {v: dirs[v] for v in trained_variants() if v in dirs}, study.out_dir / "table1_grid.png")
    return report
