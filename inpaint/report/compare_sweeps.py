"""The ``compare`` study's two test-time sweep tables (seed 002, Figs. 6 and 7): PSNR and L1 of the composite per
centre-square hole ratio, and per test resolution with each model's native inference, one row per system.

Everything comes from the trials' stored sweeps (user attributes ``hole_size_sweep`` / ``resolution_sweep``, written by
:class:`~inpaint.lit.callbacks.HoleSizeSweep` / :class:`~inpaint.lit.callbacks.ResolutionSweep`). Cells are mean ±
std over seeds; a cell without a number says why: the size the model cannot run at ("needs multiple of 64", or the
error it raised), a sweep that did not run, or a trial that stored none (run before the sweeps existed).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inpaint.report.aggregate import SeedStat
from inpaint.report.records import TrialRecord, group_by, seeds_of
from inpaint.report.table import Cell, Column, Row, Table, make_table, seed_cell

#: (metric stored per sweep row, label, higher is better, digits)
METRICS: tuple[tuple[str, str, bool, int], ...] = (("psnr", "PSNR↑", True, 2), ("l1", "L1↓", False, 4))
NO_SWEEP = "no sweep stored"


@dataclass(frozen=True)
class SweepKind:
    """One sweep: where a trial stores it, the table's name, and how a stored row names its setting."""

    attr: str  # trial user attribute
    name: str  # table name and file stem
    title: str  # caption's first words
    setting: str  # e.g. "hole ratio": the column span says "PSNR↑ per hole ratio"
    axis_label: str  # x axis of the plot

    def condition(self, row: Mapping[str, Any]) -> tuple[float, str]:
        """(x value, column condition) of a stored row: ``(0.15, "15%")`` or ``(64, "64x64")``."""
        if "ratio" in row:
            return float(row["ratio"]), f"{round(100 * float(row['ratio']))}%"
        height, width = (int(v) for v in row["size"])
        return float(height * width) ** 0.5, f"{height}x{width}"


HOLE_SIZE = SweepKind("hole_size_sweep", "compare_hole_size", "Hole-size sweep", "hole ratio",
                      "centre-square hole (% of the image)")
RESOLUTION = SweepKind("resolution_sweep", "compare_resolution", "Resolution sweep", "test resolution",
                       "test resolution (px)")


@dataclass
class SweepTable:
    """A sweep's table and, in column order, the x value of each setting (for the plot)."""

    kind: SweepKind
    table: Table
    conditions: list[str]
    xs: list[float]

    def stat(self, row: Row, metric: str, condition: str) -> SeedStat:
        """A row's statistic of ``metric`` at one setting."""
        return row.cells[Column(metric, condition, "").key].ours


def _stored(record: TrialRecord, kind: SweepKind) -> dict[str, Any]:
    return record.attrs.get(kind.attr) or {}


def _settings(records: Sequence[TrialRecord], kind: SweepKind) -> list[tuple[float, str]]:
    found = {kind.condition(row) for r in records for row in _stored(r, kind).get("rows", [])}
    return sorted(found)


def _value_or_reason(record: TrialRecord, kind: SweepKind, condition: str, metric: str) -> tuple[float | None, str]:
    sweep = _stored(record, kind)
    if not sweep:
        return None, NO_SWEEP
    if sweep.get("note"):
        return None, str(sweep["note"])
    for row in sweep.get("rows", []):
        if kind.condition(row)[1] == condition:
            value = row.get(metric)
            return (None, str(row.get("reason") or "no value")) if value is None else (float(value), "")
    return None, "not in this trial's sweep"


def _cell(runs: Sequence[TrialRecord], kind: SweepKind, condition: str, metric: str) -> Cell:
    pairs = [_value_or_reason(r, kind, condition, metric) for r in runs]
    cell = seed_cell(value for value, _ in pairs)
    if cell.ours.mean is None:
        cell.reason = "; ".join(sorted({reason for _, reason in pairs if reason})) or None
    return cell


def _notes(records: Sequence[TrialRecord], kind: SweepKind) -> list[str]:
    sweeps = [_stored(r, kind) for r in records if _stored(r, kind)]
    notes = []
    images = sorted({int(s["images"]) for s in sweeps if s.get("images")})
    masks = sorted({str(s["mask"]) for s in sweeps if s.get("mask")})
    if images:
        notes.append(f"N: the first {'/'.join(map(str, images))} fixed test crops per setting (the same for every "
                     f"row); mask: {' / '.join(masks)}")
    drawn = sorted({(kind.condition(row)[1], row["hole_ratio"]) for s in sweeps for row in s.get("rows", [])
                    if row.get("hole_ratio") is not None})
    if drawn and kind is HOLE_SIZE:
        notes.append("holes drawn (the whole-pixel square closest to each ratio): " +
                     ", ".join(f"{c} → {100 * h:.2f} %" for c, h in drawn))
    walls = [float(s["wall_s"]) for s in sweeps if s.get("wall_s") is not None]
    if walls:
        spread = f"{min(walls):.1f}" if min(walls) == max(walls) else f"{min(walls):.1f}–{max(walls):.1f}"
        notes.append(f"cost: {spread} s per trial (wall time on the sweep's shared machine)")
    missing = sorted(r.number for r in records if not _stored(r, kind))
    if missing:
        notes.append(f"n/a for trials {missing}: {NO_SWEEP} (run before the sweeps were recorded, or without them)")
    return notes


def build_sweep_table(kind: SweepKind, records: Sequence[TrialRecord], order: Sequence[str] = (),
                      label: Any = str, param: str = "system",
                      key: Callable[[TrialRecord], Hashable] | None = None) -> SweepTable:
    """Rows: one per system of ``records`` (or per ``key(record)``, e.g. the compare study's (system, recipe)), in the
    order of ``order`` (row labels, from ``label(system)``; the others follow); columns: PSNR at each setting, then L1
    at each setting."""
    settings = _settings(records, kind)
    columns = [Column(metric, condition, f"{name} {condition.replace('x', '×')}", higher, digits,
                      latex_label=condition.replace("x", "×"), span=f"{name} per {kind.setting}")
               for metric, name, higher, digits in METRICS for _, condition in settings]
    if key is None:
        by_system: Mapping[Any, list[TrialRecord]] = group_by(records, param)
    else:
        by_system = {}
        for record in records:
            by_system.setdefault(key(record), []).append(record)
    rank = {name: index for index, name in enumerate(order)}
    systems = sorted(by_system, key=lambda s: (rank.get(label(s), len(rank)), list(by_system).index(s)))
    rows = [Row(label(system), seeds_of(by_system[system]),
                {col.key: _cell(by_system[system], kind, col.condition, col.metric) for col in columns})
            for system in systems]
    what = ("against the centre-square hole ratio (seed 002 Fig. 6)" if kind is HOLE_SIZE else
            "against the test resolution, each model's native inference without resizing (seed 002 Fig. 7); "
            "n/a cells say why the model could not run at that size")
    seeds = sorted({len(row.seeds) for row in rows}) or [0]
    caption = (f"{kind.title}: PSNR and L1 of the composite {what}. Cells: mean ± std over "
               f"{'/'.join(map(str, seeds))} seed(s); bold: best per column.")
    table = make_table(kind.name, caption, columns, rows, paper_sources=(), notes=_notes(records, kind),
                       best_within="table", label_header="System", label_key="system")
    return SweepTable(kind, table, [c for _, c in settings], [x for x, _ in settings])
