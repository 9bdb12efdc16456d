"""The ``compare`` study's leaderboard (issue 16): every system of the suite under one protocol, one row each.

Rows are the (system, recipe) pairs of the study's grid (its ``system`` and ``recipe`` axes: a system trained with its
shipped config is labelled by the system's name, one trained with its own published recipe "PEN-Net (own recipe)"; a
trial stored before the recipe axis existed has no ``recipe`` parameter and counts as ``shipped``), best first by the
study's objective (PSNR of the composite over the whole test set, mean over seeds); rows without a completed trial
follow with n/a and the reason (waiting, running, failed with its error, or a missing weight file). Columns: PSNR /
SSIM / L1 / relative ℓ1 / FID / LPIPS on the whole test set, PSNR per hole-ratio bucket of the TSGL paper's scheme
(10–20 … 40–50 %), and the cost every trial stored (:class:`~inpaint.lit.callbacks.TrialCost`): parameters and MACs of
the inference network at the test resolution, inference ms per image at batch 1, training seconds per step; then the
loss each row trained. Cells are mean ± std over seeds, with the 95 % interval of the mean from three seeds on; the
best quality value per column is marked. A note says which rows beat Telea on PSNR, computed from the table. The two
test-time sweep tables (hole size, resolution: :mod:`inpaint.report.compare_sweeps`) follow it. Everything comes from
the study storage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import optuna
from optuna.trial import TrialState

from inpaint.data.buckets import PAPER_BUCKETS, bucket_label
from inpaint.errors import UserInputError
from inpaint.report.aggregate import SeedStat
from inpaint.report.compare_chart import compare_chart
from inpaint.report.compare_external import ExternalResult, score_externals
from inpaint.report.compare_sweep_chart import sweep_chart
from inpaint.report.compare_sweeps import HOLE_SIZE, RESOLUTION, build_sweep_table
from inpaint.report.paper.labels import GENERATOR_LABELS
from inpaint.report.records import TrialRecord, na_note, seeds_of
from inpaint.report.study_report import StudyInput, StudyReport
from inpaint.report.table import Cell, Column, Row, Table, group_label, make_table, seed_cell
from inpaint.report.writers import to_csv, to_latex, to_markdown, write_files, write_table

SYSTEM_PARAM = "system"
RECIPE_PARAM = "recipe"  # the second axis: "shipped" (the model config as shipped) or "own" (the system's recipe)
SHIPPED = "shipped"  # the recipe of a trial without the parameter (stored before the recipe axis existed)
#: a leaderboard row: (system, recipe)
RowKey = tuple[str, str]
REFERENCE = "telea"  # the row every trained system should beat
#: system (experiments/model/<system>.yaml) → row label; a system not listed keeps its file name
#: (the hosts and the swaps keep the paper's labels, from inpaint/report/paper/labels.py; TSGL is named, not "Ours")
SYSTEM_LABELS: dict[str, str] = {
    "tsgl": "TSGL", "tsgl-official-exact": "TSGL (official exact)",
    **{name: GENERATOR_LABELS[name]
       for name in ("pennet", "hifill", "lama", "ours_pennet", "ours_hifill", "ours_lama")},
    "deepfillv2": "DeepFillv2", "pyramid": "Pyramid Generator", "pmrfn": "PMRFN", "pconv_unet": "PConv U-Net",
    "msfef_unet": "MSFEF U-Net", "telea": "Telea (OpenCV)", "ns": "Navier-Stokes (OpenCV)",
}
BUCKET_SCHEME = "paper"
BUCKETS: tuple[str, ...] = tuple(bucket_label(b) for b in PAPER_BUCKETS)
#: (metric, label, higher is better, digits) on the whole test set
QUALITY: tuple[tuple[str, str, bool, int], ...] = (
    ("psnr", "PSNR↑", True, 2), ("ssim", "SSIM↑", True, 3), ("l1", "L1↓", False, 4),
    ("rel_l1_pct", "ℓ1 %↓", False, 2), ("fid", "FID↓", False, 2), ("lpips", "LPIPS↓", False, 3),
)
#: (cost key stored by the trial, column label, scale, digits): no best marked (timings are of a shared machine)
COST: tuple[tuple[str, str, float, int], ...] = (
    ("params", "Params (M)", 1e-6, 3), ("macs", "MACs (G)", 1e-9, 3),
    ("inference_ms_per_image", "Inference ms/img", 1.0, 2), ("train_s_per_step", "Train s/step", 1.0, 3),
)
COLUMNS: tuple[Column, ...] = (
    *(Column(metric, "all", label, higher, digits) for metric, label, higher, digits in QUALITY),
    *(Column("psnr", bucket, f"PSNR↑ {group_label(bucket)}", True, 2, latex_label=group_label(bucket),
             span="PSNR↑ per hole ratio") for bucket in BUCKETS),
    *(Column(key, "cost", label, None, digits) for key, label, _, digits in COST),
)
OBJECTIVE_KEY = COLUMNS[0].key  # psnr_all
CONFIG_PROPERTIES = ("params", "macs")  # the same for every seed of a system


def system_label(system: str) -> str:
    return SYSTEM_LABELS.get(system, system)


def row_key(params: Mapping[str, Any], param: str = SYSTEM_PARAM) -> RowKey:
    """The row of a trial with ``params``: its system and recipe (``shipped`` when the trial has no recipe)."""
    return str(params[param]), str(params.get(RECIPE_PARAM, SHIPPED))


def row_label(key: RowKey | str) -> str:
    """``"PEN-Net"`` for the shipped recipe (a bare system name too), ``"PEN-Net (own recipe)"`` for another."""
    system, recipe = (key, SHIPPED) if isinstance(key, str) else key
    return system_label(system) if recipe == SHIPPED else f"{system_label(system)} ({recipe} recipe)"


def group_rows(records: Sequence[TrialRecord], param: str = SYSTEM_PARAM) -> dict[RowKey, list[TrialRecord]]:
    """Records per leaderboard row, in trial order; a record without the system parameter is an error.

    One record per seed of a row: a study stored before the recipe axis existed and run again since holds the
    shipped cell twice (the old trial has no recipe parameter, so the queue ran the cell again); the latest counts."""
    latest: dict[tuple[RowKey, Any], TrialRecord] = {}
    for record in sorted(records, key=lambda r: r.number):
        if param not in record.params:
            raise ValueError(f"trial {record.number} has no parameter {param!r}: {record.params}")
        latest[row_key(record.params, param), record.params.get("seed", ("trial", record.number))] = record
    out: dict[RowKey, list[TrialRecord]] = {}
    for (key, _), record in sorted(latest.items(), key=lambda item: item[1].number):
        out.setdefault(key, []).append(record)
    return out


def _cost(record: TrialRecord, key: str, scale: float) -> float | None:
    value = (record.attrs.get("cost") or {}).get(key)
    return None if value is None else float(value) * scale


def _cells(runs: Sequence[TrialRecord]) -> dict[str, Cell]:
    cells = {}
    for col in COLUMNS:
        if col.condition == "cost":
            scale = next(s for key, _, s, _ in COST if key == col.metric)
            values: list[float | None] = [_cost(r, col.metric, scale) for r in runs]
            if col.metric in CONFIG_PROPERTIES and len(set(values)) == 1:
                values = values[:1]  # one number, not "± 0" over seeds that cannot differ
        elif col.condition == "all":
            values = [r.value(col.metric, "all", "all") for r in runs]
        else:
            values = [r.value(col.metric, col.condition, BUCKET_SCHEME) for r in runs]
        cells[col.key] = seed_cell(values)
    return cells


def _loss(runs: Sequence[TrialRecord]) -> str:
    losses = sorted({str(r.attrs["loss"]) for r in runs if r.attrs.get("loss")})
    return " / ".join(losses) if losses else "n/a (not stored by the trial)"


def telea_note(rows: Sequence[Row]) -> str:
    """Which rows beat the Telea row on PSNR over the whole test set (means over seeds), computed from the table."""
    reference = next((row for row in rows if row.label == system_label(REFERENCE)), None)
    telea = reference.cells[OBJECTIVE_KEY].ours.mean if reference is not None else None
    if telea is None:
        return "vs Telea: no Telea result in this study, nothing to compare with"
    beat, lost, missing = [], [], []
    for row in rows:
        if row is reference:
            continue
        mean = row.cells[OBJECTIVE_KEY].ours.mean
        (missing if mean is None else beat if mean > telea else lost).append(
            row.label if mean is None else f"{row.label} ({mean - telea:+.2f} dB)")
    parts = [f"vs Telea (PSNR {telea:.2f} dB over the whole test set, means over seeds): "
             f"beat it: {', '.join(beat) or 'none'}; do not: {', '.join(lost) or 'none'}"]
    if missing:
        parts.append(f"no result: {', '.join(missing)}")
    return "; ".join(parts)


def pending_reasons(study: optuna.Study, param: str = SYSTEM_PARAM) -> dict[RowKey, str]:
    """Why each row (system, recipe) of the study's grid has no completed trial, from its latest trial: failed (with
    the error's last line), a missing weight file, running, or waiting."""
    from inpaint.sweeps.queue import ERROR_ATTR, UNAVAILABLE_ATTR

    latest: dict[RowKey, optuna.trial.FrozenTrial] = {}
    complete: set[RowKey] = set()
    for trial in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        params = trial.system_attrs.get("fixed_params") or trial.params
        if param not in params:
            continue
        system = row_key(params, param)
        latest[system] = trial
        if trial.state == TrialState.COMPLETE:
            complete.add(system)
    reasons = {}
    for system, trial in latest.items():
        if system in complete:
            continue
        if UNAVAILABLE_ATTR in trial.user_attrs:
            reasons[system] = f"could not start: {trial.user_attrs[UNAVAILABLE_ATTR]}"
        elif trial.state == TrialState.FAIL:
            error = str(trial.user_attrs.get(ERROR_ATTR, "no error stored")).strip().splitlines()
            reasons[system] = f"failed: {error[-1] if error else 'no error stored'}"
        else:
            reasons[system] = f"not finished ({trial.state.name.lower()})"
    return reasons


def _cost_note(records: Sequence[TrialRecord]) -> str | None:
    costs = [r.attrs["cost"] for r in records if r.attrs.get("cost")]
    if not costs:
        return None
    devices = sorted({f"{c.get('device', 'n/a')}, {c.get('threads', '?')} thread(s)" for c in costs})
    resolutions = sorted({"×".join(map(str, c["resolution"])) for c in costs if c.get("resolution")})
    loads = [float(c["load_average_1min"]) for c in costs if c.get("load_average_1min") is not None]
    load = f"; 1-min load average {min(loads):.1f}–{max(loads):.1f} while timing" if loads else ""
    return (f"cost: Params / MACs of the inference network (without TSGL's edge decoder D_S; 1 MAC = 2 FLOP) at "
            f"{' / '.join(resolutions) or 'n/a'}, batch 1; inference: median of the trial's batch-1 forwards after "
            f"warm-up, on {' / '.join(devices)}{load} (the sweep's trials share the machine: compare within the "
            "table); train s/step: fit wall time / steps (steps, data loading and validation), n/a with nothing to "
            "train")


def _best_first(row: Row) -> tuple[bool, float]:
    mean = row.cells[OBJECTIVE_KEY].ours.mean
    return mean is None, -(mean or 0.0)


def _caption(facts: Mapping[str, Any], records: Sequence[TrialRecord], param: str) -> str:
    seeds = sorted({len(v) for v in group_rows(records, param).values()}) if records else []
    backends = sorted({str(r.protocol.get("fid_backend", "n/a")) for r in records}) or ["n/a"]
    return (f"Leaderboard: every system under one protocol, best first by PSNR. Data: {facts.get('data', 'n/a')}; "
            f"resolution {facts.get('resolution', 'n/a')}; widths: {facts.get('widths', 'n/a')}; training: "
            f"{facts.get('steps', 'n/a')} for every trained row; masks: {facts.get('masks', 'n/a')}; FID: "
            f"{' / '.join(backends)}. Cells: mean ± std over {'/'.join(map(str, seeds)) or '0'} seed(s), "
            "[95 % interval of the mean, Student's t] from 3 seeds on; bold: best per quality column.")


def _external_cells(result: ExternalResult) -> dict[str, Cell]:
    """An external folder's cells: its metrics as scored (a perfect image's PSNR stays inf); cost "n/a (external)"."""
    cells = {}
    for col in COLUMNS:
        value = None
        if col.condition == "all":
            value = result.report.bucket("all", "all").get(col.metric)
        elif col.condition != "cost":
            rows = [r for r in result.report.buckets if r.scheme == BUCKET_SCHEME and r.bucket == col.condition]
            value = rows[0].get(col.metric) if rows else None
        if col.condition == "cost":
            cells[col.key] = Cell(SeedStat(None, None, 0, 1), (), reason="external")
        elif value is not None and not math.isnan(float(value)):
            cells[col.key] = Cell(SeedStat(float(value), None, 1), ())
        else:
            cells[col.key] = Cell(SeedStat(None, None, 0, 1), ())
    return cells


def external_note(results: Sequence[ExternalResult]) -> str:
    """Where the external rows come from and why their cost is n/a."""
    folders = "; ".join(f"{r.label}: {r.folder}" for r in results)
    return (f"external rows ({folders}): results made outside the suite for this study's fixed test set (manifest "
            f"fingerprint {results[0].fingerprint[:12]}…, every file checked), scored by the suite's metric code on "
            "the composite (known pixels from the ground truth) like every row; Params, MACs, inference ms and "
            "train s/step n/a: external (not run by the suite); no seeds, no loss, not in the test-time sweeps")


def build_compare_table(records: Sequence[TrialRecord], facts: Mapping[str, Any] | None = None,
                        pending: Mapping[RowKey | str, str] | None = None, param: str = SYSTEM_PARAM,
                        external: Sequence[ExternalResult] = ()) -> Table:
    """The leaderboard from the study's completed trials, one row per (system, recipe); ``pending``: row (or a bare
    system: its shipped row) → why it has no completed trial; ``external``: scored folders of other systems
    (:mod:`inpaint.report.compare_external`), one row each."""
    by_row = group_rows(records, param)
    records = [record for runs in by_row.values() for record in runs]  # one per row and seed (group_rows)
    pending = {((key, SHIPPED) if isinstance(key, str) else key): reason for key, reason in (pending or {}).items()}
    rows = [Row(row_label(key), seeds_of(runs), _cells(runs), text={"loss": _loss(runs)})
            for key, runs in by_row.items()]
    taken = {row.label for row in rows} | {row_label(key) for key in pending}
    for result in external:
        if result.label in taken:
            raise UserInputError(f"--external {result.name}: the row label {result.label!r} is taken; choose "
                                 "another NAME")
        taken.add(result.label)
        rows.append(Row(result.label, [], _external_cells(result), text={"loss": "n/a (external)"}))
    rows.sort(key=_best_first)
    notes = []
    for key, reason in pending.items():
        if key not in by_row:
            rows.append(Row(row_label(key), [], _cells([]), text={"loss": "n/a"}))
            notes.append(f"n/a ({row_label(key)}): {reason}")
    notes.append(telea_note(rows))
    if external:
        notes.append(external_note(external))
    for metric in ("fid", "lpips"):
        if records and any(r.value(metric, "all", "all") is None for r in records):
            notes.append(na_note(records, metric))
    without_cost = sorted(r.number for r in records if not r.attrs.get("cost"))
    if without_cost:
        notes.append(f"cost n/a for trials {without_cost}: they stored no cost (run before the cost was recorded)")
    cost_note = _cost_note(records)
    if cost_note:
        notes.append(cost_note)
    sizes = sorted({n for r in records if (n := r.bucket_n("all", "all")) is not None})
    per_bucket = sorted({n for r in records for b in BUCKETS if (n := r.bucket_n(b, BUCKET_SCHEME)) is not None})
    if sizes:
        notes.append(f"N: {'/'.join(map(str, sizes))} test images (the same fixed masks for every row), "
                     f"{'/'.join(map(str, per_bucket)) or 'n/a'} per hole-ratio bucket; FID over so few images is "
                     "biased upwards: compare rows, not papers")
    recipes = "" if all(recipe == SHIPPED for _, recipe in [*by_row, *pending]) else (
        "; a row '… (own recipe)' is the same system trained with its published recipe (experiments/model/recipes/: "
        "its own losses, discriminator and optimiser) instead")
    notes.append("rows: each system's shipped model config and loss (the Loss column), the same data, training "
                 f"masks, steps and batch{recipes}; Telea / NS (OpenCV) have nothing to train and are only scored")
    caption = _caption(facts or {}, records, param)
    return make_table("compare", caption, COLUMNS, rows, paper_sources=(), notes=notes, best_within="table",
                      label_header="System", label_key="system", text_columns=(("loss", "Loss"),),
                      show_interval=True)


def compare_report(study: StudyInput) -> StudyReport:
    """``compare.{md,csv,tex}`` and the bar chart ``compare.png`` (PSNR and L1 per system), then the two test-time
    sweeps: ``compare_hole_size.{csv,tex,png}`` and ``compare_resolution.{csv,tex,png}`` (line plots), their
    Markdown tables appended to ``compare.md`` so one file reads as the whole report."""
    external = score_externals(study.records, study.external)
    table = build_compare_table(study.records, facts=study.facts, pending=pending_reasons(study.study),
                                external=external)
    externals = {result.label for result in external}
    order = [row.label for row in table.rows if row.label not in externals]
    counted = [record for runs in group_rows(study.records).values() for record in runs]
    sweeps = [build_sweep_table(kind, counted, order, row_label, key=lambda r: row_key(r.params))
              for kind in (HOLE_SIZE, RESOLUTION)]
    markdown = "\n".join([to_markdown(table), *(to_markdown(s.table) for s in sweeps)])
    paths = [*write_files(study.out_dir, "compare", {"md": markdown, "csv": to_csv(table), "tex": to_latex(table)}),
             compare_chart(table, study.out_dir / "compare.png")]
    for sweep in sweeps:
        paths += write_table(sweep.table, study.out_dir, {"csv": to_csv, "tex": to_latex})
        paths.append(sweep_chart(sweep, study.out_dir / f"{sweep.kind.name}.png"))
    tables = [table, *(s.table for s in sweeps)]
    return StudyReport(study.name, "compare", paths, markdown, [note for t in tables for note in t.notes], tables)
