#!/usr/bin/env python3
"""The prepared GPU check of issue 28, one command: TSGL's GAN training step at paper widths, 256², batch 16 in
fp32, bf16-mixed, bf16 + channels-last and bf16 + channels-last + ``torch.compile`` (fp32 + compile if the budget
allows) — images/s, peak GPU memory, speed-up against fp32, compile time — and a 1-GPU DDP fit over NCCL.

    python3 scripts/gpu_check.py --out "$OUT" --wheels .whl     # on the GPU machine (docs/performance.md)
    python3 scripts/gpu_check.py --quick --out /tmp/gpu_check    # CPU, small widths, 64², batch 2: the plumbing

Each measurement is its own process (``inpaint bench …``, ``inpaint fit …``) with its own time limit inside one
overall budget, so a failure, a hang or an out-of-memory loses that row only. Written to ``--out``: ``summary.json``
(every bench JSON in full, each piece's status, command, seconds and the end of its log when it failed) and
``summary.md`` (the table, also printed). The fit's run folder and the logs stay in ``--work``: the device tool
brings back at most 8 files.

Standard library only: it starts before the carried wheels are installed (``--wheels``), and runs the suite as
``python -m inpaint.cli`` with the repository (and the wheels' folder) on PYTHONPATH, so nothing needs installing.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SITE = "/tmp/site"  # where --wheels are installed (outside the repository: nothing to ignore or carry back)


@dataclass(frozen=True)
class Setting:
    """What the pieces share: the bench rows' model, size and timing, the fit's device and configs."""

    device: str
    size: str
    resolution: int
    batch: int
    warmup: int
    repeats: int
    threads: int
    fit_accelerator: str
    fit_configs: tuple[str, ...]  # the DDP fit's configs after smoke_cpu.yaml
    fit_steps: int
    fit_backend: str  # the process group DDP must have picked
    compile_backend: str


FULL = Setting(device="cuda", size="paper", resolution=256, batch=16, warmup=2, repeats=5, threads=8,
               fit_accelerator="gpu", fit_configs=("experiments/trainer/gpu.yaml",), fit_steps=30,
               fit_backend="nccl", compile_backend="inductor")
# The same commands on a CPU, as small as they go: checks the script, not the speed. Compiled rows trace with
# aot_eager: inductor would compile C++ for every kernel, far more than a minute on 2 cores.
QUICK = Setting(device="cpu", size="small", resolution=64, batch=2, warmup=1, repeats=1, threads=2,
                fit_accelerator="cpu", fit_configs=(), fit_steps=2, fit_backend="gloo",
                compile_backend="aot_eager")


@dataclass(frozen=True)
class Case:
    """One process of the check: an ``inpaint bench`` row (its label and extra options) or the DDP fit, with its time
    limit and the least time worth starting it."""

    name: str
    label: str
    options: tuple[str, ...]
    cap_s: float
    min_s: float
    optional: bool = False  # run only with time to spare: reserves nothing for itself
    fit: bool = False
    uncompiled: str | None = None  # a compiled row's eager twin, for the compilation's own speed-up

    @property
    def compiled(self) -> bool:
        return "--compile" in self.options


BF16 = ("--precision", "bf16-mixed")
# compiled cases time the step only: the inference forward would be one more (eval, no-grad) compilation
COMPILE = ("--compile", "--step-only")
CASES = (
    Case("fp32", "fp32", (), cap_s=120, min_s=45),
    Case("bf16", "bf16-mixed", BF16, cap_s=100, min_s=40),
    Case("bf16_cl", "bf16-mixed + channels-last", (*BF16, "--channels-last"), cap_s=100, min_s=40),
    Case("bf16_cl_compile", "bf16-mixed + channels-last + compile", (*BF16, "--channels-last", *COMPILE),
         cap_s=240, min_s=120, uncompiled="bf16_cl"),
    Case("fp32_compile", "fp32 + compile", COMPILE, cap_s=200, min_s=120, optional=True, uncompiled="fp32"),
)
DDP_FIT = Case("ddp_fit", "DDP fit, 1 device", (), cap_s=150, min_s=60, fit=True)
# the fit before the compilations: it is cheap, and a compilation that overruns must not cost it
ORDER = (*CASES[:3], DDP_FIT, *CASES[3:])
BASELINE = "fp32"


@dataclass
class Piece:
    """What one process did."""

    name: str
    command: list[str]
    status: str = "not run"  # ok | failed (exit N) | timeout after N s | skipped: …
    seconds: float = 0.0
    log_tail: str | None = None
    result: dict[str, Any] | None = field(default=None)


def bench_command(setting: Setting, case: Case, out: Path, variant: str | None = None) -> list[str]:
    backend = ("--compile-backend", setting.compile_backend) if case.compiled else ()
    chosen = ("--variant", variant) if variant else ()  # else bench's default: the full TSGL ("Ours")
    return [sys.executable, "-m", "inpaint.cli", "bench", *chosen, "--size", setting.size,
            "--resolution", str(setting.resolution), "--batch", str(setting.batch), "--warmup", str(setting.warmup),
            "--repeats", str(setting.repeats), "--threads", str(setting.threads), "--device", setting.device,
            *case.options, *backend, "--no-progress", "--quiet", "--out", str(out)]


def ddp_command(setting: Setting, root: Path) -> list[str]:
    """A short fit of the smoke run (TSGL small, 64², embedded photos) with Lightning's DDP on one device: the process
    group is NCCL's on a GPU, gloo's on a CPU. ``ddp_find_unused_parameters_true`` as the cluster profile (each GAN
    backward leaves the other network without gradients)."""
    configs = [arg for config in ("experiments/runs/smoke_cpu.yaml", *setting.fit_configs)
               for arg in ("--config", str(REPO / config))]
    return [sys.executable, "-m", "inpaint.cli", "fit", *configs, f"--trainer.accelerator={setting.fit_accelerator}",
            "--trainer.devices=1", "--trainer.strategy=ddp_find_unused_parameters_true",
            f"--trainer.max_steps={setting.fit_steps}", "--trainer.val_check_interval=100000",
            "--trainer.limit_val_batches=1", "--trainer.enable_model_summary=false", "--run.logger=none",
            "--run.audit=true", f"--run.root={root}"]


def run_process(command: list[str], env: dict[str, str], limit_s: float, log: Path) -> tuple[str, float]:
    """Run ``command`` with its output in ``log``; stop its whole process group (data-loader workers too) at the
    limit. Returns (status, seconds)."""
    start = time.monotonic()
    with log.open("w") as handle:
        handle.write("$ " + shlex.join(command) + "\n")
        handle.flush()
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            code = process.wait(timeout=limit_s)
        except subprocess.TimeoutExpired:
            for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
                try:
                    os.killpg(process.pid, sig)
                    process.wait(timeout=grace)
                    break
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    continue
            return f"timeout after {limit_s:.0f} s", time.monotonic() - start
    return ("ok" if code == 0 else f"failed (exit {code})"), time.monotonic() - start


def tail(path: Path, chars: int = 2500) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return text[-chars:]


class Budget:
    """One deadline for the whole check; each piece gets its cap, less what the required pieces after it need."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def limit(self, cap_s: float, reserve_after_s: float) -> float:
        return min(cap_s, self.left() - reserve_after_s)


def speedup(row: dict[str, Any] | None, baseline: dict[str, Any] | None) -> float | None:
    """Images/s of ``row`` over the baseline's (both bench JSONs), None where either is missing."""
    if not row or not baseline or not row.get("images_per_s") or not baseline.get("images_per_s"):
        return None
    return row["images_per_s"] / baseline["images_per_s"]


def _number(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def summary_markdown(header: dict[str, Any], pieces: list[Piece]) -> str:
    """The table of the bench pieces (images/s, median step, speed-up against fp32 and, for a compiled row, against
    its uncompiled twin, peak memory, compile and warm-up time, status) and the DDP fit's line."""
    results = {piece.name: piece.result for piece in pieces}
    baseline = results.get(BASELINE)
    lines = [f"# GPU check ({header['mode']}): TSGL {header['variant']}, {header['size']} widths, "
             f"{header['resolution']}², "
             f"batch {header['batch']}, warm-up {header['warmup']}, {header['repeats']} timed steps",
             "", f"device: {header.get('device_name') or header['device']}; torch {header.get('torch', '?')}; "
             f"{header['date']}", "",
             "| config | img/s | step s (median) | speed-up vs fp32 | vs uncompiled | peak memory MiB | compile s "
             "| warm-up s | status |", "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    cases = {case.name: case for case in CASES}
    kinds = set()
    for piece in pieces:
        case = cases.get(piece.name)
        if case is None:
            continue
        row = piece.result or {}
        if row.get("peak_memory_kind"):
            kinds.add(row["peak_memory_kind"])
        ratios = [speedup(row, baseline), speedup(row, results.get(case.uncompiled)) if case.uncompiled else None]
        ratio_cells = " | ".join("—" if ratio is None else f"{ratio:.2f}×" for ratio in ratios)
        lines.append(f"| {case.label} | {_number(row.get('images_per_s'), 2)} "
                     f"| {_number(row.get('train_step_s_median'), 3)} "
                     f"| {ratio_cells} | {_number(row.get('peak_memory_mb'), 0)} "
                     f"| {_number(row.get('compile_s'), 1)} | {_number(row.get('warmup_overhead_s'), 1)} "
                     f"| {piece.status} |")
    lines += ["", "img/s = batch / median G+D training step; peak memory: "
              + (", ".join(sorted(kinds)) or "n/a")
              + " (cuda_max_allocated = torch.cuda.max_memory_allocated); warm-up s = what the warm-up calls took "
              "beyond as many steady ones (cuDNN autotuning, allocator; compiled rows: the compilation, = compile s)."]
    ddp = next((piece for piece in pieces if piece.name == DDP_FIT.name), None)
    if ddp is not None:
        fit = ddp.result or {}
        lines += ["", f"DDP fit, 1 device: {ddp.status}; process group backend: "
                  f"{fit.get('process_group_backend') or '?'}, world size {fit.get('world_size', '?')}, "
                  f"{fit.get('global_step', '?')} steps, {_number(fit.get('train_steps_per_s'), 2)} steps/s, "
                  f"precision {fit.get('precision', '?')}"]
    return "\n".join(lines) + "\n"


def write_summary(out: Path, header: dict[str, Any], work: Path, pieces: list[Piece]) -> str:
    """``summary.md`` (returned) and ``summary.json`` in ``out``."""
    table = summary_markdown(header, pieces)
    (out / "summary.md").write_text(table)
    record = {"header": header, "work": str(work),
              "pieces": [{"name": p.name, "status": p.status, "seconds": round(p.seconds, 1),
                          "command": shlex.join(p.command), "result": p.result, "log_tail": p.log_tail}
                         for p in pieces]}
    (out / "summary.json").write_text(json.dumps(record, indent=1))
    return table


def ddp_result(root: Path) -> dict[str, Any] | None:
    """What the fit's ``summary.json`` and rank 0's audit record say (None when the fit wrote neither)."""
    summaries = sorted(root.glob("**/summary.json"))
    if not summaries:
        return None
    run_dir = summaries[-1].parent
    result = {key: value for key, value in json.loads(summaries[-1].read_text()).items()
              if key in ("global_step", "train_steps_per_s", "peak_rss_mib", "precision", "stopped_by")}
    audit = run_dir / "audit" / "rank0.json"
    if audit.exists():
        record = json.loads(audit.read_text())
        result.update(world_size=record.get("world_size"), process_group_backend=record.get("process_group_backend"))
    return result


PREFLIGHT = """
import json, platform, torch
info = {"python": platform.python_version(), "torch": torch.__version__, "cuda": torch.cuda.is_available()}
if info["cuda"]:
    info["device_name"] = torch.cuda.get_device_name(0)
    try:
        info["nccl"] = ".".join(map(str, torch.cuda.nccl.version()))
    except Exception as err:  # the fit will tell; the header only loses a version
        info["nccl"] = f"unknown ({err})"
import lightning, torchmetrics, jsonargparse, inpaint.cli  # what the pieces import: a missing wheel shows here
info.update(lightning=lightning.__version__, torchmetrics=torchmetrics.__version__,
            jsonargparse=jsonargparse.__version__)
print(json.dumps(info))
"""


def install_wheels(folder: Path) -> None:
    """Install the carried wheels into :data:`SITE` (no index, no dependencies: exactly what was carried). A failure
    is reported, not fatal: the bench rows do not need them (only the fit's LightningCLI does)."""
    wheels = sorted(str(path) for path in folder.glob("*.whl"))
    if not wheels:
        print(f"[gpu_check] no wheels in {folder}", flush=True)
        return
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
                           "--no-cache-dir", "--upgrade", "--target", SITE, *wheels], check=False)
    print(f"[gpu_check] {len(wheels)} wheels into {SITE}: "
          f"{'installed' if done.returncode == 0 else f'pip failed (exit {done.returncode})'}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="summary.json and summary.md go here")
    parser.add_argument("--work", type=Path, help="logs, bench JSONs and the fit's run folder (default: a temp dir)")
    parser.add_argument("--wheels", type=Path, help="folder of wheels to install first into " + SITE)
    parser.add_argument("--quick", action="store_true",
                        help="on the CPU: small widths, 64², batch 2, 1 step; bf16 emulated where not native")
    parser.add_argument("--budget-s", type=float, default=450.0, help="for all pieces together (default 450)")
    parser.add_argument("--variant", help="TSGL variant of the bench rows (default: the full model); the fit "
                        "always trains the smoke run's")
    parser.add_argument("--only", help="comma-separated pieces to run, e.g. bf16_cl_compile,ddp_fit (a rerun)")
    args = parser.parse_args(argv)
    unknown = set(args.only.split(",")) - {case.name for case in ORDER} if args.only else set()
    if unknown:
        parser.error(f"--only: no piece {', '.join(sorted(unknown))}; pieces: {', '.join(c.name for c in ORDER)}")
    setting = QUICK if args.quick else FULL
    budget = Budget(args.budget_s)
    args.out.mkdir(parents=True, exist_ok=True)
    work = args.work or Path(tempfile.mkdtemp(prefix="gpu_check-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.wheels is not None:
        install_wheels(args.wheels)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    paths = ([SITE] if args.wheels is not None else []) + [str(REPO), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
    if args.quick:  # this CPU may lack native bf16: run its code path anyway (the numbers mean nothing here)
        env.setdefault("INPAINT_ALLOW_EMULATED_BF16", "1")
    if not args.quick:  # one cuDNN / NCCL version line each in the logs, nothing else
        env.setdefault("NCCL_DEBUG", "VERSION")

    header: dict[str, Any] = {"mode": "quick, CPU" if args.quick else "full", "device": setting.device,
                              "size": setting.size, "variant": args.variant or "2Global(Local)->Global(Local)",
                              "resolution": setting.resolution, "batch": setting.batch,
                              "warmup": setting.warmup, "repeats": setting.repeats,
                              "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    preflight = subprocess.run([sys.executable, "-c", PREFLIGHT], cwd=REPO, env=env, capture_output=True, text=True,
                               timeout=120, check=False)
    if preflight.returncode == 0:
        header.update(json.loads(preflight.stdout.strip().splitlines()[-1]))
        print(f"[gpu_check] {json.dumps(header)}", flush=True)
    else:  # the pieces would fail the same way; say why once, then let them record it
        print(f"[gpu_check] preflight failed:\n{preflight.stderr[-2000:]}", flush=True)
        header["preflight_error"] = preflight.stderr[-2000:]

    order = [case for case in ORDER if not args.only or case.name in args.only.split(",")]
    pieces: list[Piece] = []
    for index, case in enumerate(order):
        reserve = 0 if case.optional else sum(0 if later.optional else later.min_s for later in order[index + 1:])
        limit = budget.limit(case.cap_s, reserve)
        target, root = work / f"{case.name}.json", work / "runs"
        command = ddp_command(setting, root) if case.fit else bench_command(setting, case, target, args.variant)
        piece = Piece(case.name, command)
        pieces.append(piece)
        if limit < case.min_s:
            piece.status = f"skipped: {max(limit, 0):.0f} s of the budget left for it, needs {case.min_s:.0f} s"
        else:
            print(f"[gpu_check] {case.name} (limit {limit:.0f} s): {shlex.join(command[1:])}", flush=True)
            log = work / f"{case.name}.log"
            piece.status, piece.seconds = run_process(command, env, limit, log)
            if case.fit:
                piece.result = ddp_result(root)
                backend = (piece.result or {}).get("process_group_backend")
                if piece.status == "ok" and backend != setting.fit_backend:
                    piece.status = f"wrong backend: {backend}, expected {setting.fit_backend}"
            elif piece.status == "ok" and target.exists():
                piece.result = json.loads(target.read_text())
            if piece.status != "ok":
                print(f"[gpu_check] {case.name}: {piece.status}; end of {log}:\n{tail(log, 1500)}", flush=True)
            if piece.status != "ok" or case.compiled:  # a compilation's log: graph breaks, recompilations
                piece.log_tail = tail(log)
        print(f"[gpu_check] {case.name}: {piece.status} ({piece.seconds:.0f} s, {budget.left():.0f} s of the budget "
              "left)", flush=True)
        write_summary(args.out, header, work, pieces)  # after every piece: a killed check keeps what it measured

    print(write_summary(args.out, header, work, pieces), flush=True)
    return 0 if all(p.status == "ok" for p in pieces) else 1


if __name__ == "__main__":
    sys.exit(main())
