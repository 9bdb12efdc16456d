"""``inpaint bench --roofline --systems``: the roofline of every system of the suite, side by side.

The systems are the compare study's (``sweeps/compare.yaml``, axis ``system``: TSGL, the hosts and swaps, the seed
systems, the classical rows), each built from the config that study trains it with — the ``cpu`` profile's
(``experiments/compare/cpu/<system>.yaml``, 64² fixes included) with ``--size small``, the ``paper`` profile's
(``experiments/model/<system>.yaml``) otherwise. Each system runs ``inpaint bench --roofline`` in its own process
(its own memory; a failure is one row, not the end) and leaves ``<out>/<system>.json``; the summary
(``summary.md``, ``summary.json``) puts the step's FLOPs, time and efficiency beside where its time goes
(:mod:`inpaint.lit.op_times`). A system with nothing to train (Telea, Navier–Stokes) is listed as such.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from inpaint.errors import UserInputError

SYSTEMS_STUDY = "compare"
#: the compare study's profile whose configs a width profile is benchmarked with
PROFILE_OF_SIZE = {"small": "cpu", "paper": "paper"}


def system_configs(size: str, sweeps_dir: str | Path | None = None) -> list[tuple[str, Path]]:
    """(system, config file) for every system of the compare study, with the configs of its profile for ``size``."""
    from inpaint.sweeps.spec import load_spec

    spec = load_spec(SYSTEMS_STUDY, sweeps_dir)
    profile = spec.profile(PROFILE_OF_SIZE[size])
    templates = [c for c in profile.configs if "{system}" in c and not c.startswith("?")]
    if len(templates) != 1:
        raise UserInputError(f"sweeps/{SYSTEMS_STUDY}.yaml: profile {PROFILE_OF_SIZE[size]!r} should name exactly one "
                             f"config per system, found {templates}")
    return [(str(system), Path(templates[0].format(system=system))) for system in spec.axes["system"]]


def _command(config: Path, target: Path, args: argparse.Namespace) -> list[str]:
    cmd = [sys.executable, "-m", "inpaint.commands.bench", "--roofline", "--config", str(config),
           "--resolution", args.resolution, "--batch", str(args.batch), "--threads", str(args.threads),
           "--device", args.device, "--precision", args.precision, "--out", str(target), "--quiet", "--no-progress"]
    if args.size is not None:
        cmd += ["--size", args.size]
    if args.repeats is not None:
        cmd += ["--repeats", str(args.repeats)]
    if args.warmup is not None:
        cmd += ["--warmup", str(args.warmup)]
    return cmd


def summary_row(system: str, result: dict[str, Any] | None, note: str | None = None) -> dict[str, Any]:
    """One system's line of the summary: the step's totals and the shares of its time (None where not measured)."""
    row: dict[str, Any] = {"system": system, "note": note}
    if result is None:
        return row
    step, ops = result["step"], result.get("op_times") or {}
    share = ops.get("share") or {}
    conv = ops.get("convolution") or {}
    worst = (ops.get("slowest_convolutions") or [None])[0]
    row.update({
        "generator": result.get("class_path", "").rsplit(".", 1)[-1],
        "gflop": step["gflop"], "step_s": step["seconds"], "gflop_per_s": step["gflop_per_s"],
        "efficiency": step["efficiency"], "conv_share": share.get("convolution"),
        "conv_efficiency": conv.get("efficiency"), "other_share": share.get("other_ops"),
        "matmul_share": share.get("matmul"), "outside_share": share.get("outside_ops"),
        "worst_conv": (f"{worst['direction']} {'×'.join(map(str, worst['input']))} ⊛ "
                       f"{'×'.join(map(str, worst['weight']))}" if worst else None),
    })
    return row


def format_summary(rows: list[dict[str, Any]], caption: str) -> str:
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.0f} %"

    lines = [caption, "", "| system | generator | GFLOP/step | step s | GFLOP/s | efficiency | convolutions "
             "(of the time) | conv kernels vs peak | matmuls | other ops | outside ops |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if "step_s" not in r:
            lines.append(f"| {r['system']} | {r['note']} | | | | | | | | | |")
            continue
        lines.append(f"| {r['system']} | {r['generator']} | {r['gflop']:.2f} | {r['step_s']:.3f} | "
                     f"{r['gflop_per_s']:.1f} | {pct(r['efficiency'])} | {pct(r['conv_share'])} | "
                     f"{pct(r['conv_efficiency'])} | {pct(r['matmul_share'])} | {pct(r['other_share'])} | "
                     f"{pct(r['outside_share'])} |")
    return "\n".join(lines)


def run_systems(out_dir: Path, args: argparse.Namespace, only: list[str] | None = None) -> int:
    """The roofline of every system (or of ``only``), one process each; writes the JSONs and the summary."""
    systems = system_configs(args.size or "paper")
    if only:
        unknown = sorted(set(only) - {name for name, _ in systems})
        if unknown:
            raise UserInputError(f"--systems: unknown system(s) {unknown}; the compare study has "
                                 f"{[name for name, _ in systems]}")
        systems = [(name, config) for name, config in systems if name in only]
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (system, config) in enumerate(systems, 1):
        target = out_dir / f"{system}.json"
        print(f"[roofline {i}/{len(systems)}] {system}: {config}", flush=True)
        done = subprocess.run(_command(config, target, args), capture_output=True, text=True, check=False)
        if done.returncode == 0:
            result = json.loads(target.read_text())
            rows.append(summary_row(system, result))
            r = rows[-1]
            eff = "n/a" if r["efficiency"] is None else f"{100 * r['efficiency']:.0f} %"
            print(f"[roofline {i}/{len(systems)}] {system}: step {r['step_s']:.3f} s, {eff} of the roofline",
                  flush=True)
            continue
        error = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        note = ("nothing to train" if "has none" in error else f"failed (exit {done.returncode}): {error}")
        rows.append(summary_row(system, None, note))
        print(f"[roofline {i}/{len(systems)}] {system}: {note}", flush=True)
    caption = (f"Roofline of every system's training step: {args.size or 'paper'} widths, {args.resolution}², batch "
               f"{args.batch}, {args.precision}, {args.threads} thread(s), {args.device}; each system's efficiency is "
               f"against the peaks measured beside its own steps.")
    text = format_summary(rows, caption)
    (out_dir / "summary.md").write_text(text + "\n")
    (out_dir / "summary.json").write_text(json.dumps(rows, indent=2))
    print(text)
    return 0
