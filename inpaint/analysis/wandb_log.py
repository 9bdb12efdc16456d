"""The figure set of one analysis in a Weights & Biases run: every PNG as an image, every number as a table row.

Offline unless ``mode`` says otherwise (no account, no network); ``wandb sync <run folder>`` uploads it later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from inpaint.analysis.figures import ModelAnalysis

#: one row per model and encoder level; a step k→k+1 quantity is on the row of level k+1 (None on level 1)
LEVEL_COLUMNS = ("model", "level", "size", "mean_entropy", "kl_from_previous", "complementarity_global",
                 "complementarity_local")


def _into_level(steps: list[float], index: int) -> float | None:
    """The value of the step that ends at level ``index`` (0-based); None for the first level or an empty curve."""
    return steps[index - 1] if 0 < index <= len(steps) else None


def level_rows(analyses: Sequence[ModelAnalysis]) -> list[list[Any]]:
    """Every number of ``analyses`` as rows of :data:`LEVEL_COLUMNS`."""
    rows = []
    for a in analyses:
        for i, size in enumerate(a.sizes):
            rows.append([a.label, i + 1, size, a.mean_entropy[i], _into_level(a.kl, i),
                         _into_level(a.complementarity["global"], i), _into_level(a.complementarity["local"], i)])
    return rows


def log_analysis(analyses: Sequence[ModelAnalysis], paths: Sequence[Path], root: str | Path,
                 config: Mapping[str, Any] | None = None, project: str = "inpaint", mode: str = "offline") -> Path:
    """Log the figures (``paths``' PNGs) and numbers of ``analyses`` to a new W&B run under ``root``; returns the run's
    folder. ``config`` (e.g. which checkpoints and images) is stored as the run's config."""
    import wandb

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    run = wandb.init(project=project, name="analysis", job_type="analysis", mode=mode, dir=str(root),
                     config=dict(config or {}))  # fmt: skip
    try:
        run.log({"levels": wandb.Table(columns=list(LEVEL_COLUMNS), data=level_rows(analyses))})
        for path in paths:
            if Path(path).suffix == ".png":
                run.log({Path(path).stem: wandb.Image(str(path))})
        return Path(run.dir).parent
    finally:
        run.finish()


__all__ = ["LEVEL_COLUMNS", "level_rows", "log_analysis"]
