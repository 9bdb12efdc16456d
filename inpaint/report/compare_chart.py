"""The ``compare`` leaderboard as a bar chart: PSNR and L1 (whole test set) per system, in the table's row order,
±std error bars where a row has several seeds, Telea's value as a dashed reference line, n/a rows labelled, external
rows (another system's results) in orange, rows trained with a system's own recipe ("PEN-Net (own recipe)") in light
blue, an infinite PSNR (results identical to the ground truth) labelled inf."""

from __future__ import annotations

import math
from pathlib import Path

from inpaint.report.compare_sweep_chart import RECIPE_SUFFIX
from inpaint.report.table import Table

#: (column key, axis label) of the two panels
PANELS: tuple[tuple[str, str], ...] = (("psnr_all", "PSNR ↑ (dB)"), ("l1_all", "L1 ↓"))
REFERENCE_LABEL = "Telea (OpenCV)"
EXTERNAL_SUFFIX = " (external)"  # rows scored from another system's folder (compare_external), drawn in orange


def compare_chart(table: Table, path: str | Path) -> Path:
    """Write the chart to ``path`` (PNG) and return it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    labels = [row.label for row in table.rows]
    height = max(2.5, 0.32 * len(labels) + 1.2)
    fig, axes = plt.subplots(1, len(PANELS), figsize=(5.0 * len(PANELS), height), sharey=True, squeeze=False)
    y = list(range(len(labels)))
    for ax, (key, axis_label) in zip(axes[0], PANELS):
        stats = [row.cells[key].ours for row in table.rows]
        # an infinite mean (a result identical to the ground truth: PSNR inf) gets no bar, only a label
        means = [0.0 if s.mean is None or not math.isfinite(s.mean) else s.mean for s in stats]
        errors = [0.0 if s.std is None else s.std for s in stats]
        colours = ["tab:gray" if label == REFERENCE_LABEL else "tab:orange" if label.endswith(EXTERNAL_SUFFIX)
                   else "lightskyblue" if RECIPE_SUFFIX.search(label) else "tab:blue" for label in labels]
        ax.barh(y, means, xerr=errors if any(errors) else None, color=colours, capsize=3)
        reference = next((s.mean for s, label in zip(stats, labels) if label == REFERENCE_LABEL), None)
        if reference is not None:
            ax.axvline(reference, color="tab:gray", linestyle="--", linewidth=1)
        present = [s.mean for s in stats if s.mean is not None and math.isfinite(s.mean)]
        if key.startswith("psnr") and present:  # start near the smallest value so the differences show
            ax.set_xlim(max(0.0, min(present) - 2.0), max(present) + 1.0)
        for index, stat in enumerate(stats):
            if stat.mean is None or not math.isfinite(stat.mean):
                ax.text(ax.get_xlim()[0], index, " n/a" if stat.mean is None else f" {stat.mean}", va="center",
                        fontsize=8)
        ax.set_xlabel(axis_label)
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(y, labels, fontsize=8)
    axes[0][0].invert_yaxis()  # best first, as in the table
    seeds = sorted({len(row.seeds) for row in table.rows if row.seeds})
    fig.suptitle(f"compare: whole test set, mean{' ± std' if any(n > 1 for n in seeds) else ''} over "
                 f"{'/'.join(map(str, seeds)) or '0'} seed(s); dashed: Telea"
                 f"{'; light blue: own recipe' if any(RECIPE_SUFFIX.search(label) for label in labels) else ''}"
                 f"{'; orange: external' if any(label.endswith(EXTERNAL_SUFFIX) for label in labels) else ''}",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
