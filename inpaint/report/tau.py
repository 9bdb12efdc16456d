"""The τ sensitivity study (Appendix G, Fig. 23): metric vs hole ratio per τ, as a PNG line plot and a table.

The paper shows only a plot (PSV, τ ∈ {0, 50, 100, 150, 200}, τ = 100 best); there are no numbers to compare
with, so the table lists ours and marks the best τ per column.
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
from inpaint.report.paper_values import TAU_PAPER_BEST
from inpaint.report.records import TrialRecord

HIGHER_IS_BETTER = {"psnr": True, "ssim": True, "fid": False, "l1": False, "lpips": False}
DIGITS = {"psnr": 2, "ssim": 3, "fid": 2, "l1": 4, "lpips": 3}


@dataclass
class TauTable:
    taus: list[float]
    buckets: list[str]
    metrics: list[str]
    stats: dict[tuple[float, str, str], SeedStat]  # (tau, metric, bucket) → stat
    caption: str
    notes: list[str] = field(default_factory=list)

    def best_tau(self, metric: str, bucket: str) -> float | None:
        means = [self.stats[(t, metric, bucket)].mean for t in self.taus]
        index = best_index(means, HIGHER_IS_BETTER.get(metric, True))
        return None if index is None else self.taus[index]


def bucket_labels(records: Sequence[TrialRecord], scheme: str) -> list[str]:
    """The bucket labels of ``scheme`` in the order the metrics list them."""
    labels: list[str] = []
    for record in records:
        for row in record.metrics.get("buckets", []):
            if row.get("scheme") == scheme and row.get("bucket") not in labels:
                labels.append(row["bucket"])
    return labels


def build_tau_table(
    records: Sequence[TrialRecord],
    scheme: str = "paper",
    metrics: Sequence[str] = ("psnr", "ssim", "fid"),
    facts: Mapping[str, Any] | None = None,
    tau_param: str = "tau",
) -> TauTable:
    """Aggregate the τ-study trials over seeds, per τ × metric × hole-ratio bucket of ``scheme``."""
    by_tau: dict[float, list[TrialRecord]] = defaultdict(list)
    for record in records:
        if tau_param not in record.params:
            raise ValueError(f"trial {record.number} has no parameter {tau_param!r}: {record.params}")
        by_tau[float(record.params[tau_param])].append(record)
    taus = sorted(by_tau)
    buckets = bucket_labels(records, scheme)
    notes = [] if buckets else [f"no bucket of scheme {scheme!r} in the trials' metrics"]
    stats = {
        (t, m, b): SeedStat.of(r.value(m, b, scheme) for r in by_tau[t]) for t in taus for m in metrics for b in buckets
    }
    facts = facts or {}
    seeds = sorted({len(v) for v in by_tau.values()})
    caption = (
        f"τ sensitivity (Fig. 23 / Appendix G). Data: {facts.get('data', 'n/a')}; resolution "
        f"{facts.get('resolution', 'n/a')}; training: {facts.get('steps', 'n/a')}; variant "
        f"{facts.get('variant', 'n/a')}. Mean ± std over {'/'.join(map(str, seeds)) or 0} seed(s). "
        f"The paper reports τ = {TAU_PAPER_BEST} best on PSV (plot only, no numbers). Bold: best τ per column."
    )
    return TauTable(taus, buckets, list(metrics), stats, caption, notes)


def _tau_label(tau: float) -> str:
    return f"{tau:g}"


def tau_markdown(table: TauTable) -> str:
    cols = [(m, b) for m in table.metrics for b in table.buckets]
    header = ["τ"] + [f"{m.upper()} {b}" for m, b in cols]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * len(cols)) + "|"]
    for tau in table.taus:
        cells = [_tau_label(tau)]
        for m, b in cols:
            text = table.stats[(tau, m, b)].format(DIGITS.get(m, 3))
            cells.append(f"**{text}**" if table.best_tau(m, b) == tau else text)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join([f"**{table.caption}**", "", *lines, *[f"\nNote: {n}" for n in table.notes]]) + "\n"


def tau_csv(table: TauTable) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["tau", "metric", "bucket", "mean", "std", "n", "best"])
    for tau in table.taus:
        for m in table.metrics:
            for b in table.buckets:
                s = table.stats[(tau, m, b)]
                writer.writerow([_tau_label(tau), m, b, "n/a" if s.mean is None else repr(s.mean),
                                 "n/a" if s.std is None else repr(s.std), s.n, int(table.best_tau(m, b) == tau)])
    return buffer.getvalue()


def tau_plot(table: TauTable, path: str | Path) -> Path:
    """One panel per metric: metric vs hole-ratio bucket, one line per τ with ±std error bars (like Fig. 23)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, len(table.metrics), figsize=(4.2 * len(table.metrics), 3.4), squeeze=False)
    x = list(range(len(table.buckets)))
    for ax, metric in zip(axes[0], table.metrics):
        for tau in table.taus:
            stats = [table.stats[(tau, metric, b)] for b in table.buckets]
            ys = [float("nan") if s.mean is None else s.mean for s in stats]
            errs = [0.0 if s.std is None else s.std for s in stats]
            ax.errorbar(x, ys, yerr=errs, marker="o", capsize=3, label=f"τ = {_tau_label(tau)}")
        ax.set_xticks(x, table.buckets)
        ax.set_xlabel("hole ratio")
        ax.set_ylabel(metric.upper() + (" ↑" if HIGHER_IS_BETTER.get(metric, True) else " ↓"))
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle("τ sensitivity of the masked attention", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_tau_report(table: TauTable, out_dir: str | Path, stem: str = "tau") -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    md, cs = out_dir / f"{stem}.md", out_dir / f"{stem}.csv"
    md.write_text(tau_markdown(table))
    cs.write_text(tau_csv(table))
    return [md, cs, tau_plot(table, out_dir / f"{stem}.png")]
