"""Qualitative grid (like the paper's Fig. 15): one row per variant, one column per fixed evaluation image.

Images come from what :class:`inpaint.lit.evaluation.EvaluationWriter` saved in each run directory (PNG, uint8):
``composites/`` (one row per variant), ``masked/`` (the input, hole in mid-grey or white) and ``targets/`` (ground
truth). The same file names across runs are the same evaluation images, since the evaluation set and its masks are
fixed, so the grid reads top to bottom as input | outputs | GT: the masked-input row first and the ground-truth row
last, both taken from the first run that saved them (runs from before the writer saved them simply lack the rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw

from inpaint.data.image_io import read_rgb

if TYPE_CHECKING:
    from inpaint.report.study_report import StudyReport

DEFAULT_SUBDIRS = {"composite": "composites", "masked": "masked", "target": "targets"}


def _pngs(folder: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(folder.glob("*.png"))} if folder.is_dir() else {}


def _label(text: str, width: int, height: int) -> np.ndarray:
    canvas = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(canvas).multiline_text((4, 4), text, fill="black")
    return np.asarray(canvas)


def _tile(path: Path, size: int) -> np.ndarray:
    rgb = read_rgb(path)  # the suite's one reader (these are PNGs the suite wrote)
    return np.asarray(Image.fromarray(rgb).resize((size, size), Image.Resampling.NEAREST))


def qualitative_grid(
    run_dirs: Mapping[str, str | Path],
    out_path: str | Path,
    n_images: int = 4,
    tile: int = 96,
    subdirs: Mapping[str, str] = DEFAULT_SUBDIRS,
    label_width: int = 220,
) -> Path | None:
    """Write the grid PNG; returns its path, or None when no run saved composites.

    Args:
        run_dirs: row label (variant) → run directory of one trial (e.g. seed 0).
        n_images: columns: the first ``n_images`` file names that every row has.
        subdirs: where inside a run dir the composite / masked input / ground-truth PNGs are.
    """
    rows = {name: _pngs(Path(d) / subdirs["composite"]) for name, d in run_dirs.items()}
    rows = {name: files for name, files in rows.items() if files}
    if not rows:
        return None
    common = sorted(set.intersection(*(set(files) for files in rows.values())))[:n_images]
    if not common:
        return None
    extra_rows: list[tuple[str, dict[str, Path]]] = []
    for kind, title in (("masked", "input (masked)"), ("target", "ground truth")):
        for d in run_dirs.values():
            files = _pngs(Path(d) / subdirs[kind])
            if all(name in files for name in common):
                extra_rows.append((title, files))
                break
    ordered: list[tuple[str, dict[str, Path]]] = []
    if extra_rows and extra_rows[0][0].startswith("input"):
        ordered.append(extra_rows.pop(0))
    ordered += list(rows.items())  # names keep "->": the default bitmap font has no arrow glyph
    ordered += extra_rows
    lines = []
    for title, files in ordered:
        tiles = [_label(title, label_width, tile)] + [_tile(files[name], tile) for name in common]
        lines.append(np.concatenate(tiles, axis=1))
    grid = np.concatenate(lines, axis=0)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid).save(out_path)
    return out_path


def pick_run_dirs(records: Sequence, row_param: str, seed_param: str = "seed") -> dict[str, Path]:
    """One run dir per row value (the lowest seed that has one), in the order rows first appear."""
    chosen: dict[str, tuple[object, Path]] = {}
    for r in records:
        if r.run_dir is None or row_param not in r.params:
            continue
        key, seed = str(r.params[row_param]), r.params.get(seed_param, 0)
        if key not in chosen or seed < chosen[key][0]:  # type: ignore[operator]
            chosen[key] = (seed, Path(r.run_dir))
    return {k: v[1] for k, v in chosen.items()}


def add_grid(report: StudyReport, dirs: Mapping[str, Path], path: Path) -> None:
    """Write the grid of ``dirs`` (row label → run dir) into ``report``'s files, or note why there is none."""
    grid = qualitative_grid(dirs, path)
    if grid is None:
        report.notes.append("no qualitative grid: the trials' run dirs hold no saved test composites")
    else:
        report.paths.append(grid)
