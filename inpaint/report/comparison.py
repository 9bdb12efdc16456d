"""A results table with the paper's numbers beside ours: the shape shared by Tables II, III and VII.

Rows are methods (optionally grouped), columns are (metric, condition) pairs. Each cell holds our mean ± std over
seeds (:class:`~inpaint.report.aggregate.SeedStat`) and one published value per *paper source* (e.g. the CelebA
and the Places2 block of Table II). The best of ours and the best published value per column are marked, computed
from the numbers. Writers: GitHub Markdown, CSV (means, stds, n, paper values, differences) and booktabs LaTeX.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inpaint.report.aggregate import SeedStat, best_index
from inpaint.report.writers import latex_escape, markdown_row, markdown_rule, write_files

NA = "n/a"


@dataclass(frozen=True)
class Column:
    """One column: ``metric`` measured under ``condition`` (a hole-ratio bucket, a mask kind, …)."""

    metric: str
    condition: str
    label: str  # Markdown header, e.g. "PSNR↑ 10–20 %"
    higher_is_better: bool | None = True  # None: nothing is marked best (e.g. Params)
    digits: int = 2

    @property
    def key(self) -> str:
        return f"{self.metric}_{self.condition}".replace("%", "pct").replace(" ", "_")


@dataclass
class Cell:
    ours: SeedStat
    paper: tuple[float | None, ...]  # one value per paper source of the table
    best_ours: bool = False
    best_paper: tuple[bool, ...] = ()


@dataclass
class Row:
    label: str
    seeds: list[Any]
    cells: dict[str, Cell]  # Column.key → cell
    group: str = ""


@dataclass
class ComparisonTable:
    """A table ready to write; build it with :func:`make_table` so best cells are marked consistently."""

    name: str  # file stem and LaTeX label, e.g. "table2"
    caption: str
    columns: list[Column]
    rows: list[Row]
    paper_sources: tuple[str, ...] = ("paper",)
    notes: list[str] = field(default_factory=list)


def make_table(name: str, caption: str, columns: list[Column], rows: list[Row],
               paper_sources: tuple[str, ...] = ("paper",), notes: list[str] | None = None) -> ComparisonTable:
    """Assemble a table and mark, per column and row group, the best of ours and the best published value per source."""
    for row in rows:
        for col in columns:
            cell = row.cells.setdefault(col.key, Cell(SeedStat.of([]), (None,) * len(paper_sources)))
            if len(cell.paper) != len(paper_sources):
                raise ValueError(f"row {row.label!r}, column {col.key}: {len(cell.paper)} paper values for "
                                 f"{len(paper_sources)} sources {paper_sources}")
            cell.best_paper = (False,) * len(paper_sources)
    groups: dict[str, list[Row]] = {}
    for row in rows:  # best is decided within a group of rows (e.g. one hole-ratio range of Table VII)
        groups.setdefault(row.group, []).append(row)
    for members in groups.values():
        for col in columns:
            if col.higher_is_better is None:
                continue
            best = best_index([row.cells[col.key].ours.mean for row in members], col.higher_is_better)
            if best is not None:
                members[best].cells[col.key].best_ours = True
            for s in range(len(paper_sources)):
                best_p = best_index([row.cells[col.key].paper[s] for row in members], col.higher_is_better)
                if best_p is not None:
                    cell = members[best_p].cells[col.key]
                    cell.best_paper = tuple(flag or i == s for i, flag in enumerate(cell.best_paper))
    return ComparisonTable(name, caption, columns, rows, paper_sources, list(notes or []))


def _format(cell: Cell, col: Column, bold: str) -> list[str]:
    ours = cell.ours.format(col.digits, na=NA)
    if cell.best_ours and cell.ours.mean is not None:
        ours = bold.format(ours)
    out = [ours]
    for value, best in zip(cell.paper, cell.best_paper):
        text = NA if value is None else f"{value:.{col.digits}f}"
        out.append(bold.format(text) if best and value is not None else text)
    return out


def _has_groups(table: ComparisonTable) -> bool:
    return any(row.group for row in table.rows)


def to_markdown(table: ComparisonTable) -> str:
    """One line per row; per column our value, then one column per paper source."""
    lead = (["Rows"] if _has_groups(table) else []) + ["Method", "Seeds"]
    header = list(lead)
    for col in table.columns:
        header += [f"{col.label} ours", *(f"{s}" for s in table.paper_sources)]
    lines = [markdown_row(header), markdown_rule(["l"] * len(lead) + ["r"] * (len(header) - len(lead)))]
    for row in table.rows:
        values = ([row.group] if _has_groups(table) else []) + [row.label, str(len(row.seeds))]
        for col in table.columns:
            values += _format(row.cells[col.key], col, "**{}**")
        lines.append(markdown_row(values))
    out = [f"**{table.caption}**", "", *lines, ""]
    out += [f"Note: {note}" for note in table.notes]
    return "\n".join(out) + "\n"


def to_csv(table: ComparisonTable) -> str:
    """Per column: our mean, std and n, each paper value and our difference to it, and the best flag."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = ["group", "method", "seeds"]
    sources = [s.lower().replace(" ", "_") for s in table.paper_sources]
    for col in table.columns:
        header += [f"{col.key}_mean", f"{col.key}_std", f"{col.key}_n"]
        for s in sources:
            header += [f"{col.key}_paper_{s}", f"{col.key}_diff_{s}"]
        header.append(f"{col.key}_best")
    writer.writerow(header)
    for row in table.rows:
        record: list[Any] = [row.group, row.label, " ".join(map(str, row.seeds))]
        for col in table.columns:
            cell = row.cells[col.key]
            mean, std = cell.ours.mean, cell.ours.std
            record += [NA if mean is None else repr(mean), NA if std is None else repr(std), cell.ours.n]
            for value in cell.paper:
                diff = None if mean is None or value is None else mean - value
                record += [NA if value is None else repr(value), NA if diff is None else repr(diff)]
            record.append(int(cell.best_ours))
        writer.writerow(record)
    return buffer.getvalue()


def to_latex(table: ComparisonTable) -> str:
    """booktabs: a header line of column labels spanning ours + paper sources, then one line per row."""
    per_col = 1 + len(table.paper_sources)
    lead = 3 if _has_groups(table) else 2
    lines = [
        r"\begin{table*}[t]",
        r"\centering",
        r"\caption{" + latex_escape(table.caption) + "}",
        r"\label{tab:" + table.name + "-reproduction}",
        r"\resizebox{\textwidth}{!}{%",
        r"\begin{tabular}{" + "l" * lead + "r" * (per_col * len(table.columns)) + "}",
        r"\toprule",
    ]
    head = [""] * lead
    for col in table.columns:
        label = latex_escape(col.label).replace("↑", r"$\uparrow$").replace("↓", r"$\downarrow$").replace("–", "--")
        head.append(r"\multicolumn{" + str(per_col) + "}{c}{" + label + "}")
    lines.append(" & ".join(head) + r" \\")
    sub = (["Rows"] if lead == 3 else []) + ["Method", "Seeds"]
    sub += ["ours", *(latex_escape(s) for s in table.paper_sources)] * len(table.columns)
    lines += [" & ".join(sub) + r" \\", r"\midrule"]
    for row in table.rows:
        values = ([latex_escape(row.group)] if lead == 3 else []) + [latex_escape(row.label), str(len(row.seeds))]
        for col in table.columns:
            values += [v.replace("±", r"$\pm$") for v in _format(row.cells[col.key], col, r"\textbf{{{}}}")]
        lines.append(" & ".join(values) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}}"]
    lines += [r"\par\footnotesize " + latex_escape(note) for note in table.notes]
    lines.append(r"\end{table*}")
    return "\n".join(lines) + "\n"


def write_table(table: ComparisonTable, out_dir: str | Path) -> list[Path]:
    """``<name>.md``, ``<name>.csv`` and ``<name>.tex`` in ``out_dir``."""
    return write_files(out_dir, table.name, {"md": to_markdown(table), "csv": to_csv(table), "tex": to_latex(table)})
