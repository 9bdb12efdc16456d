"""The one table model of every report: rows of methods (optionally in groups), columns of (metric, condition),
cells holding our mean ± std over seeds beside the paper's published value(s).

Every paper table the suite reproduces (Tables II, III, IV, VII, the τ study of Fig. 23) is a :class:`Table`
built with :func:`make_table`, which marks the best cells; :mod:`inpaint.report.writers` turns any table into
Markdown, CSV, LaTeX or a W&B table. A builder only decides rows, columns and values: the layout is the writers'.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from inpaint.report.aggregate import SeedStat, best_index


@dataclass(frozen=True)
class Column:
    """One column: ``metric`` measured under ``condition`` (a hole-ratio bucket, a mask kind, …).

    ``label`` is the Markdown header (e.g. ``PSNR↑ 10–20 %``); LaTeX uses ``latex_label`` when given (the
    label without the part that ``span`` already says), and ``span`` is a header shared by consecutive columns
    (e.g. the metric over its buckets, like the paper's Table IV). ``higher_is_better=None``: nothing is marked
    best (e.g. Params).
    """

    metric: str
    condition: str
    label: str
    higher_is_better: bool | None = True
    digits: int = 2
    latex_label: str | None = None
    span: str | None = None

    @property
    def key(self) -> str:
        """The column's name in CSV headers and :attr:`Row.cells`, e.g. ``psnr_10-30pct``."""
        return f"{self.metric}_{self.condition}".replace("%", "pct").replace(" ", "_")


@dataclass
class Cell:
    """Our statistic over seeds and one published value per paper source of the table (None: not published)."""

    ours: SeedStat
    paper: tuple[float | None, ...] = ()
    best_ours: bool = False
    best_paper: tuple[bool, ...] = ()
    reason: str | None = None  # why ours is n/a, printed in the cell (e.g. "needs multiple of 64")


@dataclass
class Row:
    label: str  # the method as the paper writes it (ASCII ``->``; writers render the arrow)
    seeds: list[Any]
    cells: dict[str, Cell]  # Column.key → cell
    group: str = ""
    text: dict[str, str] = field(default_factory=dict)  # Table.text_columns key → text (e.g. the loss a row trained)


@dataclass
class Table:
    """A table ready to write; build it with :func:`make_table` so the best cells are marked consistently.

    Layout fields (how the writers name things): ``label_header`` / ``label_key`` head the row labels in
    Markdown+LaTeX / CSV; ``group_header`` heads the group column; ``group_titles`` (group → title) turns groups
    into title rows in LaTeX and a ``Groups:`` line in Markdown, as the paper's Table IV does; ``show_seeds``
    adds the number of seeds per row; ``source_keys`` name the paper sources in CSV headers (``""``: just
    ``<column>_paper``); ``text_columns`` (key, header) are text per row (:attr:`Row.text`) after the label;
    ``show_interval`` prints the 95 % interval of the mean where a cell has three or more seeds.
    """

    name: str  # file stem and LaTeX label, e.g. "table2"
    caption: str
    columns: list[Column]
    rows: list[Row]
    paper_sources: tuple[str, ...] = ("paper",)
    notes: list[str] = field(default_factory=list)
    label_header: str = "Method"
    label_key: str = "method"
    group_header: str = "Rows"
    group_titles: dict[str, str] = field(default_factory=dict)
    show_seeds: bool = True
    source_keys: tuple[str, ...] | None = None
    text_columns: tuple[tuple[str, str], ...] = ()
    show_interval: bool = False

    @property
    def has_groups(self) -> bool:
        return any(row.group for row in self.rows)

    @property
    def csv_source_keys(self) -> tuple[str, ...]:
        if self.source_keys is not None:
            return self.source_keys
        return tuple(s.lower().replace(" ", "_") for s in self.paper_sources)

    def row(self, label: str, group: str | None = None) -> Row:
        """The (first) row called ``label``, in ``group`` when given."""
        for row in self.rows:
            if row.label == label and (group is None or row.group == group):
                return row
        raise KeyError(f"table {self.name!r} has no row {label!r}" + (f" in group {group!r}" if group else ""))

    def best_row(self, key: str, group: str | None = None) -> Row | None:
        """The row whose own value is marked best in column ``key`` (None when no value exists)."""
        return next((r for r in self.rows if (group is None or r.group == group) and r.cells[key].best_ours), None)


BestWithin = Literal["group", "table"]


def make_table(name: str, caption: str, columns: Sequence[Column], rows: Sequence[Row],
               paper_sources: tuple[str, ...] = ("paper",), notes: Sequence[str] | None = None,
               best_within: BestWithin = "group", **layout: Any) -> Table:
    """Assemble a table and mark, per column, the best of ours and the best published value per source.

    ``best_within="group"`` compares rows of one group only (e.g. one hole-ratio range of Table VII);
    ``"table"`` compares all rows (Table IV marks one best per column across its groups I–V). Missing cells are
    filled with n/a; ``layout`` sets the :class:`Table` layout fields.
    """
    rows, columns = list(rows), list(columns)
    for row in rows:
        for col in columns:
            cell = row.cells.setdefault(col.key, Cell(SeedStat.of([]), (None,) * len(paper_sources)))
            if len(cell.paper) != len(paper_sources):
                raise ValueError(f"row {row.label!r}, column {col.key}: {len(cell.paper)} paper values for "
                                 f"{len(paper_sources)} sources {paper_sources}")
            cell.best_ours = False
            cell.best_paper = (False,) * len(paper_sources)
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(row.group if best_within == "group" else "", []).append(row)
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
    return Table(name, caption, columns, rows, paper_sources, list(notes or []), **layout)


def seed_cell(values: Iterable[float | None], paper: Sequence[float | None] = ()) -> Cell:
    """A cell from our per-seed values (None: that seed has no value) and the published value(s)."""
    return Cell(SeedStat.of(values), tuple(paper))


def group_label(bucket: str) -> str:
    """A hole-ratio label as the tables print it: ``10-30%`` → ``10–30 %``."""
    return bucket.replace("-", "–").replace("%", " %")

