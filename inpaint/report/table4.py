"""Table IV (architecture ablation) from a sweep's records: Markdown, CSV and LaTeX, paper values beside ours.

Rows follow the paper's order and groups I–V. Each cell shows our mean ± std over seeds next to the published
number (001). The best of ours per column is marked (bold), and so is the best published value per column,
computed from the numbers (the paper's own boldface is not always on the best cell).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inpaint.report.aggregate import SeedStat, best_index
from inpaint.report.paper_values import TABLE4, TABLE4_BUCKETS, TABLE4_GROUP_TITLES, TABLE4_METRICS, TABLE4_ROWS
from inpaint.report.records import TrialRecord
from inpaint.report.writers import latex_escape, write_files

Column = tuple[str, str]  # (metric, bucket)
COLUMNS: tuple[Column, ...] = tuple((m, b) for m in TABLE4_METRICS for b in TABLE4_BUCKETS)
DIGITS = {"psnr": 2, "ssim": 3, "fid": 2}
METRIC_LABEL = {"psnr": "PSNR↑", "ssim": "SSIM↑", "fid": "FID↓"}
METRIC_LATEX = {"psnr": r"PSNR$\uparrow$", "ssim": r"SSIM$\uparrow$", "fid": r"FID$\downarrow$"}


@dataclass
class Table4Cell:
    ours: SeedStat
    paper: float | None
    best_ours: bool = False
    best_paper: bool = False


@dataclass
class Table4Row:
    group: str
    variant: str
    seeds: list[Any]
    cells: dict[Column, Table4Cell]


@dataclass
class Table4:
    rows: list[Table4Row]
    caption: str
    notes: list[str] = field(default_factory=list)


def _protocol_summary(records: Sequence[TrialRecord], scheme: str | None) -> dict[str, str]:
    """N per bucket, FID backend and SSIM window, as found in the trials' metrics (flagging disagreement)."""

    def one(values: set[str]) -> str:
        values.discard("")
        return " / ".join(sorted(values)) if values else "n/a"

    n_by_bucket = {b: {str(r.bucket_n(b, scheme)) for r in records if r.bucket_n(b, scheme) is not None} for b in TABLE4_BUCKETS}
    return {
        "n": ", ".join(f"{b}: {one(v)}" for b, v in n_by_bucket.items()),
        "fid_backend": one({str(r.protocol.get("fid_backend", "")) for r in records}),
        "ssim_window": one({str(r.protocol.get("ssim_window_description", r.protocol.get("ssim_window", ""))) for r in records}),
    }


def caption_text(facts: Mapping[str, Any], protocol: Mapping[str, str], n_seeds: set[int]) -> str:
    seeds = "/".join(str(n) for n in sorted(n_seeds)) or "0"
    return (
        "Table IV reproduction (architecture variants of TSGL). "
        f"Data: {facts.get('data', 'n/a')}; resolution {facts.get('resolution', 'n/a')}; "
        f"training: {facts.get('steps', 'n/a')}; eval images N per bucket: {protocol['n']}; "
        f"FID: {protocol['fid_backend']}; SSIM window: {protocol['ssim_window']}. "
        f"Ours: mean ± std over {seeds} seed(s); paper: TSGL Table IV (001; dataset not stated there). "
        "Bold: best per column among ours and among the paper's values."
    )


def build_table4(
    records: Sequence[TrialRecord],
    facts: Mapping[str, Any] | None = None,
    scheme: str | None = "table4",
    variant_param: str = "variant",
) -> Table4:
    """Aggregate trial records into Table IV.

    Args:
        records: completed trials; ``params[variant_param]`` names the variant, metrics hold ``scheme`` buckets
            labelled ``10-30%`` / ``30-50%``.
        facts: caption facts about the run (``data``, ``resolution``, ``steps``).
        scheme: the bucket scheme name in the metrics (None: match buckets by label only).
    """
    by_variant: dict[str, list[TrialRecord]] = defaultdict(list)
    for record in records:
        if variant_param not in record.params:
            raise ValueError(f"trial {record.number} has no parameter {variant_param!r}: {record.params}")
        by_variant[str(record.params[variant_param])].append(record)
    known = {v for _, v in TABLE4_ROWS}
    notes = []
    unknown = sorted(set(by_variant) - known)
    if unknown:
        notes.append(f"trials of variants outside Table IV are not shown: {unknown}")
    rows = []
    for group, variant in TABLE4_ROWS:
        runs = by_variant.get(variant, [])
        cells = {
            col: Table4Cell(ours=SeedStat.of(r.value(col[0], col[1], scheme) for r in runs), paper=TABLE4[variant][col])
            for col in COLUMNS
        }
        rows.append(Table4Row(group, variant, sorted(r.params.get("seed", r.number) for r in runs), cells))
    for col in COLUMNS:
        higher = TABLE4_METRICS[col[0]]
        best = best_index([row.cells[col].ours.mean for row in rows], higher)
        if best is not None:
            rows[best].cells[col].best_ours = True
        best_paper = best_index([row.cells[col].paper for row in rows], higher)
        if best_paper is not None:
            rows[best_paper].cells[col].best_paper = True
    missing = [row.variant for row in rows if not row.seeds]
    if missing:
        notes.append(f"not run yet (n/a): {', '.join(missing)}")
    fid_missing = sum(row.cells[("fid", b)].ours.missing for row in rows for b in TABLE4_BUCKETS)
    if fid_missing:
        reasons = sorted({note for r in records for note in r.protocol.get("notes", []) if "fid" in note.lower()})
        notes.append("FID n/a in some trials" + (f": {'; '.join(reasons)}" if reasons else ""))
    protocol = _protocol_summary(records, scheme)
    caption = caption_text(facts or {}, protocol, {len(row.seeds) for row in rows if row.seeds})
    return Table4(rows, caption, notes)


def _fmt(cell: Table4Cell, metric: str, bold: str) -> tuple[str, str]:
    digits = DIGITS[metric]
    ours = cell.ours.format(digits)
    paper = "n/a" if cell.paper is None else f"{cell.paper:.{digits}f}"
    if cell.best_ours and cell.ours.mean is not None:
        ours = bold.format(ours)
    if cell.best_paper:
        paper = bold.format(paper)
    return ours, paper


def to_markdown(table: Table4) -> str:
    """GitHub Markdown: one row per variant, ours and paper in adjacent columns."""
    header = ["Group", "Variant", "Seeds"]
    for metric, bucket in COLUMNS:
        label = f"{METRIC_LABEL[metric]} {bucket.replace('-', '–').replace('%', ' %')}"
        header += [f"{label} ours", "paper"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * 3 + ["---:"] * (2 * len(COLUMNS))) + "|"]
    for row in table.rows:
        values = [row.group, row.variant.replace("->", "→"), str(len(row.seeds))]
        for col in COLUMNS:
            values += list(_fmt(row.cells[col], col[0], "**{}**"))
        lines.append("| " + " | ".join(values) + " |")
    groups = "; ".join(f"{g}. {t}" for g, t in TABLE4_GROUP_TITLES.items())
    out = [f"**{table.caption}**", "", *lines, "", f"Groups: {groups}."]
    out += [f"Note: {note}" for note in table.notes]
    return "\n".join(out) + "\n"


def to_csv(table: Table4) -> str:
    """One row per variant; per column: our mean, std, number of seeds, the paper's value, the difference."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = ["group", "variant", "seeds"]
    for metric, bucket in COLUMNS:
        key = f"{metric}_{bucket.replace('%', 'pct')}"
        header += [f"{key}_mean", f"{key}_std", f"{key}_n", f"{key}_paper", f"{key}_diff", f"{key}_best"]
    writer.writerow(header)
    for row in table.rows:
        record: list[Any] = [row.group, row.variant, " ".join(map(str, row.seeds))]
        for col in COLUMNS:
            cell = row.cells[col]
            mean, std = cell.ours.mean, cell.ours.std
            diff = None if mean is None or cell.paper is None else mean - cell.paper
            record += [
                "n/a" if mean is None else repr(mean),
                "n/a" if std is None else repr(std),
                cell.ours.n,
                "n/a" if cell.paper is None else repr(cell.paper),
                "n/a" if diff is None else repr(diff),
                int(cell.best_ours),
            ]
        writer.writerow(record)
    return buffer.getvalue()


def to_latex(table: Table4) -> str:
    """A booktabs table like the paper's, with a paper column after each of ours; group headers span the row."""
    n_cols = 2 + 2 * len(COLUMNS)
    lines = [
        r"\begin{table*}[t]",
        r"\centering",
        r"\caption{" + latex_escape(table.caption) + "}",
        r"\label{tab:table4-reproduction}",
        r"\resizebox{\textwidth}{!}{%",
        r"\begin{tabular}{ll" + "rr" * len(COLUMNS) + "}",
        r"\toprule",
    ]
    metric_head = ["", ""]
    for metric in TABLE4_METRICS:
        metric_head.append(r"\multicolumn{" + str(2 * len(TABLE4_BUCKETS)) + "}{c}{" + METRIC_LATEX[metric] + "}")
    lines.append(" & ".join(metric_head) + r" \\")
    bucket_head = ["Variant", "Seeds"]
    for _metric, bucket in COLUMNS:
        bucket_head.append(r"\multicolumn{2}{c}{" + latex_escape(bucket.replace("-", "--")) + "}")
    lines.append(" & ".join(bucket_head) + r" \\")
    lines.append(" & ".join(["", ""] + ["ours", "paper"] * len(COLUMNS)) + r" \\")
    lines.append(r"\midrule")
    current = None
    for row in table.rows:
        if row.group != current:
            current = row.group
            if row is not table.rows[0]:
                lines.append(r"\midrule")
            title = latex_escape(f"{row.group}. {TABLE4_GROUP_TITLES[row.group]}")
            lines.append(r"\multicolumn{" + str(n_cols) + r"}{l}{\emph{" + title + r"}} \\")
        name = latex_escape(row.variant).replace("->", r"$\rightarrow$")
        values = [name, str(len(row.seeds))]
        for col in COLUMNS:
            ours, paper = _fmt(row.cells[col], col[0], r"\textbf{{{}}}")
            values += [ours.replace("±", r"$\pm$"), paper]
        lines.append(" & ".join(values) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}}"]
    for note in table.notes:
        lines.append(r"\par\footnotesize " + latex_escape(note))
    lines.append(r"\end{table*}")
    return "\n".join(lines) + "\n"


def write_table4(table: Table4, out_dir: str | Path, stem: str = "table4") -> list[Path]:
    """Write ``<stem>.md``, ``<stem>.csv`` and ``<stem>.tex`` into ``out_dir``."""
    return write_files(out_dir, stem, {"md": to_markdown(table), "csv": to_csv(table), "tex": to_latex(table)})
