"""The τ sensitivity study (Appendix G, Fig. 23): metric vs hole ratio per τ, as a PNG line plot and a table.

The paper shows only a plot (PSV, τ values and the best one in :mod:`inpaint.report.paper.tau`); there are no
numbers to compare with, so the table lists ours and marks the best τ per column.

A second table says where τ could act at all: per attention block, the share of masked keys and of partly invalid
windows in the test pass (:mod:`inpaint.analysis.token_masks`, stored by every trial as ``token_masks``). τ changes
a block's output only in partly invalid windows, so a block where that share is 0 cannot show τ's effect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from inpaint.analysis.token_masks import block_label
from inpaint.report.paper.tau import TAU_PAPER_BEST
from inpaint.report.records import TrialRecord, group_by, seeds_of
from inpaint.report.study_report import StudyInput, StudyReport
from inpaint.report.table import Column, Row, Table, make_table, seed_cell
from inpaint.report.writers import to_long_csv, to_markdown, write_table

HIGHER_IS_BETTER = {"psnr": True, "ssim": True, "fid": False, "l1": False, "lpips": False}
DIGITS = {"psnr": 2, "ssim": 3, "fid": 2, "l1": 4, "lpips": 3}
#: tau.md and tau.csv (long layout: one line per τ × metric × bucket); the plot is written beside them.
TAU_FILES = {"md": to_markdown, "csv": partial(to_long_csv, condition_header="bucket")}


def bucket_labels(records: Sequence[TrialRecord], scheme: str) -> list[str]:
    """The bucket labels of ``scheme`` in the order the metrics list them."""
    labels: list[str] = []
    for record in records:
        for row in record.metrics.get("buckets", []):
            if row.get("scheme") == scheme and row.get("bucket") not in labels:
                labels.append(row["bucket"])
    return labels


def tau_label(tau: float) -> str:
    """A τ as a row label: ``100.0`` → ``100``."""
    return f"{float(tau):g}"


def build_tau_table(
    records: Sequence[TrialRecord],
    scheme: str = "paper",
    metrics: Sequence[str] = ("psnr", "ssim", "fid"),
    facts: Mapping[str, Any] | None = None,
    tau_param: str = "tau",
) -> Table:
    """Aggregate the τ-study trials over seeds: one row per τ (ascending), one column per metric × hole-ratio
    bucket of ``scheme``; the best τ per column is marked. No paper column: Fig. 23 gives no numbers."""
    by_tau: dict[float, list[TrialRecord]] = {}
    for tau, runs in group_by(records, tau_param).items():  # 100 and 100.0 are one τ
        by_tau.setdefault(float(tau), []).extend(runs)
    buckets = bucket_labels(records, scheme)
    notes = [] if buckets else [f"no bucket of scheme {scheme!r} in the trials' metrics"]
    columns = [Column(m, b, f"{m.upper()} {b}", HIGHER_IS_BETTER.get(m, True), DIGITS.get(m, 3))
               for m in metrics for b in buckets]
    rows = [Row(tau_label(t), seeds_of(by_tau[t]),
                {col.key: seed_cell(r.value(col.metric, col.condition, scheme) for r in by_tau[t]) for col in columns})
            for t in sorted(by_tau)]
    facts = facts or {}
    seeds = sorted({len(v) for v in by_tau.values()})
    caption = (
        f"τ sensitivity (Fig. 23 / Appendix G). Data: {facts.get('data', 'n/a')}; resolution "
        f"{facts.get('resolution', 'n/a')}; training: {facts.get('steps', 'n/a')}; variant "
        f"{facts.get('variant', 'n/a')}. Mean ± std over {'/'.join(map(str, seeds)) or 0} seed(s). "
        f"The paper reports τ = {TAU_PAPER_BEST} best on PSV (plot only, no numbers). Bold: best τ per column."
    )
    return make_table("tau", caption, columns, rows, paper_sources=(), notes=notes, best_within="table",
                      label_header="τ", label_key="tau", show_seeds=False)


#: (count field, column label): the pooled fractions of the token-mask table.
TOKEN_FRACTIONS = (("invalid_tokens", "tokens", "masked keys %"),
                   ("partly_invalid_windows", "windows", "partly invalid windows %"),
                   ("all_invalid_windows", "windows", "all-invalid windows %"))


def build_token_mask_table(records: Sequence[TrialRecord]) -> Table:
    """One row per attention block: token grid, window and the masked-key / partly-invalid / all-invalid-window
    percentages, from the integer counts pooled over every trial that stored them (the test masks are fixed, so
    they agree across τ and seeds)."""
    pooled: dict[str, dict[str, Any]] = {}
    trials = 0
    for record in records:
        blocks = record.attrs.get("token_masks") or []
        trials += bool(blocks)
        for block in blocks:
            row = pooled.setdefault(block["block"], {**block, **{k: 0 for k in ("tokens", "invalid_tokens", "windows",
                                                                                 "partly_invalid_windows",
                                                                                 "all_invalid_windows")}})
            for key in ("tokens", "invalid_tokens", "windows", "partly_invalid_windows", "all_invalid_windows"):
                row[key] += int(block.get(key) or 0)
    columns = [Column("grid", "tokens", "token grid", None, 0), Column("window", "side", "window", None, 0),
               *(Column(part, "pct", label, None, 1) for part, _, label in TOKEN_FRACTIONS)]
    rows = []
    for name, block in pooled.items():
        values: dict[str, float | None] = {"grid": float(block["tokens_h"]), "window": float(block["window"])}
        for part, whole, _ in TOKEN_FRACTIONS:
            values[part] = 100.0 * block[part] / block[whole] if block["masked"] and block[whole] else None
        rows.append(Row(block_label(name), 1, {col.key: seed_cell([values[col.metric]]) for col in columns}))
    notes = [] if pooled else ["no trial stored token masks (a study run before the census existed, or a model "
                               "without masked attention)"]
    notes += [f"{row.label}: runs without a mask (the official unmasked last stage): n/a"
              for row, block in zip(rows, pooled.values()) if not block["masked"]]
    caption = (f"Where τ can act: per masked-attention block, the share of invalid key tokens and of windows that are "
               f"partly invalid (τ changes nothing in a window that is all valid or all invalid), test pass, pooled "
               f"over {trials} trial(s); token grid = side of the square token map, window = the block's window side.")
    return make_table("tau_tokens", caption, columns, rows, paper_sources=(), notes=notes, best_within="table",
                      label_header="block", label_key="block", show_seeds=False)


def tau_plot(table: Table, path: str | Path) -> Path:
    """One panel per metric: metric vs hole-ratio bucket, one line per τ with ±std error bars (like Fig. 23)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    metrics = list(dict.fromkeys(col.metric for col in table.columns)) or ["psnr"]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        columns = [col for col in table.columns if col.metric == metric]
        x = list(range(len(columns)))
        for row in table.rows:
            stats = [row.cells[col.key].ours for col in columns]
            ys = [float("nan") if s.mean is None else s.mean for s in stats]
            errs = [0.0 if s.std is None else s.std for s in stats]
            ax.errorbar(x, ys, yerr=errs, marker="o", capsize=3, label=f"τ = {row.label}")
        ax.set_xticks(x, [col.condition for col in columns])
        ax.set_xlabel("hole ratio")
        ax.set_ylabel(metric.upper() + (" ↑" if HIGHER_IS_BETTER.get(metric, True) else " ↓"))
        ax.grid(alpha=0.3)
    if table.rows:
        axes[0][0].legend(fontsize=8)
    fig.suptitle("τ sensitivity of the masked attention", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_tau_report(table: Table, out_dir: str | Path, stem: str = "tau",
                     tokens: Table | None = None) -> list[Path]:
    """``tau.md``, ``tau.csv`` and the plot ``tau.png``; with ``tokens`` also ``tau_tokens.md`` / ``.csv``."""
    paths = [*write_table(table, out_dir, TAU_FILES, stem), tau_plot(table, Path(out_dir) / f"{stem}.png")]
    if tokens is not None:
        paths += write_table(tokens, out_dir, {"md": to_markdown, "csv": to_long_csv}, f"{stem}_tokens")
    return paths


def tau_report(study: StudyInput) -> StudyReport:
    """The τ study's report: ``tau.md``, ``tau.csv``, ``tau.png`` (bucket scheme: the study's ``tau_scheme``) and
    the token-mask table ``tau_tokens.md`` / ``.csv``."""
    table = build_tau_table(study.records, scheme=study.attrs.get("tau_scheme", "paper"), facts=study.facts)
    tokens = build_token_mask_table(study.records)
    paths = write_tau_report(table, study.out_dir, tokens=tokens)
    return StudyReport(study.name, "tau", paths, to_markdown(table) + "\n\n" + to_markdown(tokens),
                       [*table.notes, *tokens.notes], [table, tokens])
