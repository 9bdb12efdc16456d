"""The writers of every report table (:class:`~inpaint.report.table.Table`): GitHub Markdown, CSV (wide: one line
per row; long: one line per row × column), booktabs LaTeX and a W&B table, plus writing ``<stem>.<suffix>`` files.

Ours are printed as ``mean ± std`` (std over seeds, ddof 1; only the mean for one seed; ``n/a`` for none) with the
column's digits — and the 95 % interval of the mean from three seeds on, for tables that ask for it — each paper
source beside it; the best cells of a column are bold (``**…**`` / ``\\textbf``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from inpaint.report.table import Cell, Column, Row, Table

NA = "n/a"


def latex_escape(text: str) -> str:
    """Escape the characters LaTeX treats specially in table text (``\\ % _ & #``)."""
    return (text.replace("\\", r"\textbackslash{}").replace("%", r"\%").replace("_", r"\_").replace("&", r"\&")
            .replace("#", r"\#"))


def latex_text(text: str) -> str:
    """Escaped header / label text with arrows and en dashes as LaTeX writes them."""
    return (latex_escape(text).replace("->", r"$\rightarrow$").replace("→", r"$\rightarrow$")
            .replace("↑", r"$\uparrow$").replace("↓", r"$\downarrow$").replace("–", "--"))


def markdown_row(values: Sequence[str]) -> str:
    """One GitHub-Markdown table line."""
    return "| " + " | ".join(values) + " |"


def markdown_rule(aligns: Sequence[str]) -> str:
    """The header separator; ``aligns`` holds ``"l"`` or ``"r"`` per column."""
    return "|" + "|".join("---:" if a == "r" else "---" for a in aligns) + "|"


def _number(value: float | None) -> str:
    return NA if value is None else repr(value)


def na_text(cell: Cell, escape: Callable[[str], str] = str) -> str:
    """``n/a``, with the cell's reason in brackets when it has one (``escape``: for LaTeX)."""
    return NA if not cell.reason else f"{NA} ({escape(cell.reason)})"


def format_cell(cell: Cell, col: Column, bold: str, interval: bool = False,
                escape: Callable[[str], str] = str) -> list[str]:
    """Ours, then one text per paper source; ``bold`` (a format string) wraps the best ones; ``interval``: ours with
    its 95 % interval (three or more seeds); an n/a of ours says its reason (:func:`na_text`)."""
    ours = cell.ours.format(col.digits, na=na_text(cell, escape), interval=interval)
    if cell.best_ours and cell.ours.mean is not None:
        ours = bold.format(ours)
    out = [ours]
    for value, best in zip(cell.paper, cell.best_paper):
        text = NA if value is None else f"{value:.{col.digits}f}"
        out.append(bold.format(text) if best and value is not None else text)
    return out


def _lead(table: Table) -> list[str]:
    """The headers of the columns before the values: [group], label, [seeds], text columns."""
    return ([table.group_header] if table.has_groups else []) + [table.label_header] + (
        ["Seeds"] if table.show_seeds else []) + [header for _, header in table.text_columns]


def _row_text(table: Table, row: Row) -> list[str]:
    """A row's texts in the order of ``table.text_columns`` (``n/a`` where it has none)."""
    return [row.text.get(key) or NA for key, _ in table.text_columns]


def to_markdown(table: Table) -> str:
    """Caption, one line per row (ours, then each paper source per column), the groups' titles and the notes."""
    lead = _lead(table)
    header = list(lead)
    for col in table.columns:
        header += [f"{col.label} ours", *table.paper_sources] if table.paper_sources else [col.label]
    lines = [markdown_row(header), markdown_rule(["l"] * len(lead) + ["r"] * (len(header) - len(lead)))]
    for row in table.rows:
        values = ([row.group] if table.has_groups else []) + [row.label.replace("->", "→")]
        values += [str(len(row.seeds))] if table.show_seeds else []
        values += _row_text(table, row)
        for col in table.columns:
            values += format_cell(row.cells[col.key], col, "**{}**", table.show_interval)
        lines.append(markdown_row(values))
    out = [f"**{table.caption}**", "", *lines, ""]
    if table.group_titles:
        out.append("Groups: " + "; ".join(f"{g}. {t}" for g, t in table.group_titles.items()) + ".")
    out += [f"Note: {note}" for note in table.notes]
    return "\n".join(out) + "\n"


def csv_rows(table: Table) -> tuple[list[str], list[list[Any]]]:
    """The wide layout: per column our mean, std and n, each paper value and our difference to it, the best flag."""
    header = ["group", table.label_key, "seeds", *(key for key, _ in table.text_columns)]
    suffixes = [f"_{key}" if key else "" for key in table.csv_source_keys]
    for col in table.columns:
        header += [f"{col.key}_mean", f"{col.key}_std", f"{col.key}_n"]
        header += [f"{col.key}_ci95_low", f"{col.key}_ci95_high"] if table.show_interval else []
        for suffix in suffixes:
            header += [f"{col.key}_paper{suffix}", f"{col.key}_diff{suffix}"]
        header.append(f"{col.key}_best")
    rows = []
    for row in table.rows:
        record: list[Any] = [row.group, row.label, " ".join(map(str, row.seeds)), *_row_text(table, row)]
        for col in table.columns:
            cell = row.cells[col.key]
            mean = cell.ours.mean
            record += [na_text(cell) if mean is None else _number(mean), _number(cell.ours.std), cell.ours.n]
            if table.show_interval:
                bounds = cell.ours.ci95
                record += [_number(bounds[0]), _number(bounds[1])] if bounds else [NA, NA]
            for value in cell.paper:
                record += [_number(value), _number(None if mean is None or value is None else mean - value)]
            record.append(int(cell.best_ours))
        rows.append(record)
    return header, rows


def long_csv_rows(table: Table, condition_header: str = "condition") -> tuple[list[str], list[list[Any]]]:
    """The long layout: one line per row × column (label, metric, condition, mean, std, n, paper…, best)."""
    header = [table.label_key, "metric", condition_header, "mean", "std", "n"]
    for key in table.csv_source_keys:
        header += [f"paper_{key}" if key else "paper", f"diff_{key}" if key else "diff"]
    header.append("best")
    rows = []
    for row in table.rows:
        for col in table.columns:
            cell = row.cells[col.key]
            mean = cell.ours.mean
            record: list[Any] = [row.label, col.metric, col.condition, na_text(cell) if mean is None else _number(mean),
                                 _number(cell.ours.std), cell.ours.n]
            for value in cell.paper:
                record += [_number(value), _number(None if mean is None or value is None else mean - value)]
            rows.append([*record, int(cell.best_ours)])
    return header, rows


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def to_csv(table: Table) -> str:
    """CSV in the wide layout (:func:`csv_rows`)."""
    return _csv_text(*csv_rows(table))


def to_long_csv(table: Table, condition_header: str = "condition") -> str:
    """CSV in the long layout (:func:`long_csv_rows`)."""
    return _csv_text(*long_csv_rows(table, condition_header))


def _spans(columns: Sequence[Column]) -> list[tuple[str, int]]:
    """Runs of consecutive columns sharing a ``span`` header: (header, number of columns)."""
    runs: list[tuple[str, int]] = []
    for col in columns:
        text = col.span or ""
        if runs and runs[-1][0] == text:
            runs[-1] = (text, runs[-1][1] + 1)
        else:
            runs.append((text, 1))
    return runs


def to_latex(table: Table) -> str:
    """booktabs, like the paper's tables: header lines (spans, column labels, ours / sources), one line per row;
    titled groups get a title line spanning the table, untitled ones a first column."""
    per_col = 1 + len(table.paper_sources)
    titled = bool(table.group_titles)
    lead = ([table.group_header] if table.has_groups and not titled else []) + [table.label_header] + (
        ["Seeds"] if table.show_seeds else []) + [header for _, header in table.text_columns]
    n_cols = len(lead) + per_col * len(table.columns)
    lines = [
        r"\begin{table*}[t]",
        r"\centering",
        r"\caption{" + latex_escape(table.caption) + "}",
        r"\label{tab:" + table.name + "-reproduction}",
        r"\resizebox{\textwidth}{!}{%",
        r"\begin{tabular}{" + "l" * len(lead) + "r" * (per_col * len(table.columns)) + "}",
        r"\toprule",
    ]
    blank = [""] * len(lead)
    if any(col.span for col in table.columns):
        spans = [r"\multicolumn{" + str(per_col * n) + "}{c}{" + latex_text(text) + "}" for text, n in
                 _spans(table.columns)]
        lines.append(" & ".join(blank + spans) + r" \\")
    labels = [r"\multicolumn{" + str(per_col) + "}{c}{" + latex_text(col.latex_label or col.label) + "}"
              for col in table.columns]
    lines.append(" & ".join(blank + labels) + r" \\")
    sub = [latex_text(h) for h in lead] + (["ours", *(latex_escape(s) for s in table.paper_sources)]
                                           * len(table.columns))
    lines += [" & ".join(sub) + r" \\", r"\midrule"]
    current = None
    for index, row in enumerate(table.rows):
        if titled and row.group != current:
            current = row.group
            if index:
                lines.append(r"\midrule")
            title = latex_escape(f"{row.group}. {table.group_titles.get(row.group, '')}")
            lines.append(r"\multicolumn{" + str(n_cols) + r"}{l}{\emph{" + title + r"}} \\")
        values = ([latex_escape(row.group)] if table.has_groups and not titled else []) + [latex_text(row.label)]
        values += [str(len(row.seeds))] if table.show_seeds else []
        values += [latex_text(text) for text in _row_text(table, row)]
        for col in table.columns:
            values += [v.replace("±", r"$\pm$")
                       for v in format_cell(row.cells[col.key], col, r"\textbf{{{}}}", table.show_interval,
                                            latex_escape)]
        lines.append(" & ".join(values) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}}"]
    lines += [r"\par\footnotesize " + latex_escape(note) for note in table.notes]
    lines.append(r"\end{table*}")
    return "\n".join(lines) + "\n"


def to_wandb(table: Table) -> Any:
    """A ``wandb.Table`` with the wide CSV's columns and values."""
    import wandb

    header, rows = csv_rows(table)
    return wandb.Table(columns=header, data=[[str(v) for v in row] for row in rows])


Writer = Callable[[Table], str]
#: The files every reproduced paper table gets: suffix → writer.
TABLE_FILES: Mapping[str, Writer] = {"md": to_markdown, "csv": to_csv, "tex": to_latex}


def write_files(out_dir: str | Path, stem: str, texts: Mapping[str, str]) -> list[Path]:
    """Write ``texts[suffix]`` to ``<out_dir>/<stem>.<suffix>`` (folders created); returns the paths in order."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix, text in texts.items():
        path = out_dir / f"{stem}.{suffix}"
        path.write_text(text)
        paths.append(path)
    return paths


def write_table(table: Table, out_dir: str | Path, writers: Mapping[str, Writer] = TABLE_FILES,
                stem: str | None = None) -> list[Path]:
    """``<stem>.<suffix>`` for each writer (default: ``.md``, ``.csv``, ``.tex``; stem: the table's name)."""
    return write_files(out_dir, stem or table.name, {suffix: write(table) for suffix, write in writers.items()})
