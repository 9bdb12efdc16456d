"""A ``compare`` sweep table as line plots, as seed 002 draws Figs. 6 and 7: PSNR and L1 against the setting (hole
ratio, or test resolution on a log axis), one line per row; the classical rows dashed; a system's row with another
recipe ("PEN-Net (own recipe)") dotted in the colour of the system's shipped row; a setting a row has no number for is
left out of its line (the table says why)."""

from __future__ import annotations

import math
import re
from pathlib import Path

from inpaint.report.compare_sweeps import RESOLUTION, SweepTable

#: rows drawn dashed: the references that need no training
CLASSICAL_LABELS: frozenset[str] = frozenset({"Telea (OpenCV)", "Navier-Stokes (OpenCV)"})
PANELS: tuple[tuple[str, str], ...] = (("psnr", "PSNR ↑ (dB)"), ("l1", "L1 ↓"))
#: the label suffix of a row trained with a recipe other than the shipped one (inpaint.report.compare.row_label)
RECIPE_SUFFIX = re.compile(r" \([^()]+ recipe\)$")


def system_of(label: str) -> str:
    """The system a row label names, without its recipe: ``"PEN-Net (own recipe)"`` → ``"PEN-Net"``."""
    return RECIPE_SUFFIX.sub("", label)


def sweep_chart(sweep: SweepTable, path: str | Path) -> Path:
    """Write the two-panel line plot of ``sweep`` to ``path`` (PNG) and return it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, len(PANELS), figsize=(11.0, 4.2), squeeze=False)
    xs = [x if sweep.kind is RESOLUTION else 100 * x for x in sweep.xs]
    pairs = plt.get_cmap("tab20").colors  # dark / light pairs: the darks first, so neighbouring rows differ in hue
    colours = [*pairs[0::2], *pairs[1::2]]
    systems = list(dict.fromkeys(system_of(row.label) for row in sweep.table.rows))  # one colour per system
    for ax, (metric, axis_label) in zip(axes[0], PANELS):
        for row in sweep.table.rows:
            stats = [sweep.stat(row, metric, c) for c in sweep.conditions]
            if all(stat.mean is None for stat in stats):
                continue
            # NaN leaves a gap: a size the model could not run at is not bridged by a line
            means = [math.nan if stat.mean is None else stat.mean for stat in stats]
            errors = [stat.std or 0.0 for stat in stats]
            style = "--" if row.label in CLASSICAL_LABELS else ":" if RECIPE_SUFFIX.search(row.label) else "-"
            colour = colours[systems.index(system_of(row.label)) % len(colours)]
            ax.errorbar(xs, means, yerr=errors, linestyle=style, marker="o", markersize=3, capsize=2, color=colour,
                        label=row.label)
        if sweep.kind is RESOLUTION:
            ax.set_xscale("log", base=2)
        ax.set_xticks(xs, [c.replace("x", "×") if sweep.kind is RESOLUTION else f"{x:g}"
                           for x, c in zip(xs, sweep.conditions)])
        ax.set_xlabel(sweep.kind.axis_label)
        ax.set_ylabel(axis_label)
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="center left", bbox_to_anchor=(0.82, 0.5), fontsize=7)
    recipes = "; dotted: own recipe" if any(RECIPE_SUFFIX.search(row.label) for row in sweep.table.rows) else ""
    fig.suptitle(f"compare, {sweep.kind.title.lower()}: mean over seeds (dashed: OpenCV{recipes}; a gap: n/a, see the "
                 "table)", fontsize=9)
    fig.tight_layout(rect=(0.0, 0.0, 0.82 if handles else 1.0, 1.0))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
