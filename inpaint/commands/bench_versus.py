"""``inpaint bench --versus VARIANT …``: the training step against variants of itself, in one paired run.

Every variant (and the baseline: the command's own options) gets its own copy of the model, built from the same seed,
so all start from the same weights; their steps run in alternation in this process (:mod:`inpaint.lit.paired_steps`)
and each variant's cost is its per-round ratio to the baseline. Peak memory cannot be told apart inside one process,
so each variant's is measured before the timed steps by ``inpaint bench --step-only`` in a process of its own (the
process's peak RSS on a CPU, ``torch.cuda.max_memory_allocated`` on a GPU; one warm-up and one timed step).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

from inpaint.errors import UserInputError
from inpaint.lit.paired_steps import StepOptions, alternating_times, paired_ratios, parse_variant
from inpaint.lit.precision import BF16_MIXED, require_native_bf16

BASELINE = "baseline"


def step_variants(args: argparse.Namespace) -> dict[str, StepOptions]:
    """The baseline (the command's step options) and each ``--versus`` variant, by name, in the given order."""
    base = StepOptions(recompute_activations=args.recompute, step_in_backward=args.step_in_backward,
                       channels_last=args.channels_last, precision=args.precision, losses=args.losses)
    variants = {BASELINE: base}
    for text in args.versus:
        if text in variants:
            raise UserInputError(f"--versus {text!r} is given twice")
        variants[text] = parse_variant(text, base)
    return variants


def check_versus_options(args: argparse.Namespace) -> None:
    """Modes that time something else than the plain step, or whose warm-up would be timed."""
    other = [flag for flag, on in (("--roofline", args.roofline), ("--compile", args.compile),
                                   ("--memory-regions", args.memory_regions is not None),
                                   ("--standard", args.standard), ("--systems", args.systems is not None),
                                   ("--step-only", args.step_only)) if on]
    if other:
        raise UserInputError(f"--versus times the plain training step of each variant: not with {', '.join(other)}")


def _memory_command(args: argparse.Namespace, options: StepOptions, target: Path) -> list[str]:
    cmd = [sys.executable, "-m", "inpaint.commands.bench", "--step-only", "--repeats", "1", "--warmup", "1",
           "--resolution", args.resolution, "--batch", str(args.batch), "--threads", str(args.threads),
           "--device", args.device, "--out", str(target), "--quiet", "--no-progress"]
    for key in ("config", "variant", "preset", "size"):
        if getattr(args, key) is not None:
            cmd += [f"--{key}", str(getattr(args, key))]
    for item in args.set:
        cmd += ["--set", item]
    return cmd + options.flags()  # after the command's --set: a variant's set: wins


def peak_memory(args: argparse.Namespace, variants: dict[str, StepOptions]) -> dict[str, dict[str, Any]]:
    """Each variant's peak memory from a bench process of its own (a failed one: None and why)."""
    out: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="inpaint-versus-") as tmp:
        for index, (name, options) in enumerate(variants.items()):
            target = Path(tmp) / f"{index}.json"
            cmd = _memory_command(args, options, target)
            if not args.no_progress:
                print(f"[bench] peak memory of {name}: one step in a process of its own", file=sys.stderr, flush=True)
            done = subprocess.run(cmd, check=False, capture_output=True, text=True)
            if done.returncode or not target.exists():
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                out[name] = {"peak_memory_mb": None, "note": f"exit {done.returncode}: {last}"}
                continue
            result = json.loads(target.read_text())
            out[name] = {"peak_memory_mb": result["peak_memory_mb"], "peak_memory_kind": result["peak_memory_kind"],
                         "note": None}
    return out


def variant_models(class_path: str, init_args: dict[str, Any], variants: dict[str, StepOptions],
                   losses: str | dict[str, Any], discriminator: Any, device: torch.device) -> dict[str, Any]:
    """One ``InpaintingGAN`` per variant, each built from the same seed: the same initial weights where the variants
    build the same generator (a ``set:`` variant changes it)."""
    from inpaint.commands.model_selection import apply_set
    from inpaint.lit.step_bench import build_gan

    models = {}
    for name, options in variants.items():
        torch.manual_seed(0)
        models[name] = build_gan(class_path, apply_set(init_args, options.generator_set), options.losses or losses,
                                 discriminator, options.recompute_activations, options.step_in_backward,
                                 options.channels_last).to(device)
    return models


def run_versus(class_path: str, init_args: dict[str, Any], height: int, width: int, args: argparse.Namespace,
               losses: str | dict[str, Any], discriminator: Any) -> dict[str, Any]:
    """The paired comparison: times per round, ratios to the baseline, each variant's peak memory."""
    from inpaint.lit.machine import device_label
    from inpaint.lit.module import nothing_to_train
    from inpaint.lit.step_bench import training_step_callable
    from inpaint.models.complexity import example_inputs, structure_prior_of

    variants = step_variants(args)
    device = torch.device(args.device)
    for options in variants.values():
        if options.precision in BF16_MIXED:
            require_native_bf16(device)
    models = variant_models(class_path, init_args, variants, losses, discriminator, device)
    generator = models[BASELINE].generator
    untrainable = nothing_to_train(generator)
    if untrainable is not None:
        raise UserInputError(f"--versus times a training step, and this generator has none: {untrainable}")
    # before any step: this process holds the models' weights, not yet their optimiser state and activations
    memory = peak_memory(args, variants)
    prior = structure_prior_of(generator)
    batch = {k: v.to(device) for k, v in example_inputs(args.batch, height, width, structure_prior=prior).items()}
    steps = {}
    for name, model in models.items():
        model.generator.train()
        steps[name] = training_step_callable(model, batch, variants[name].precision)
    rounds, warmup = args.repeats or 5, 2 if args.warmup is None else args.warmup
    load_before = os.getloadavg()[0]
    times = _timed_with_progress(steps, rounds, warmup, device, progress=not args.no_progress,
                                 label=f"versus {height}×{width} b{args.batch}")
    load_after = os.getloadavg()[0]
    rows = paired_ratios(times, BASELINE)
    for name, row in rows.items():
        row["options"] = dataclasses.asdict(variants[name])
        row.update(memory[name])
    return {"versus": rows, "rounds": rounds, "warmup_rounds": warmup, "resolution": [height, width],
            "batch": args.batch, "device": str(device), "device_name": device_label(device),
            "threads": torch.get_num_threads(), "load_average_1min_before": load_before,
            "load_average_1min_after": load_after, "malloc_tuned": os.environ.get("MALLOC_MMAP_THRESHOLD_") is not None,
            "torch": torch.__version__}


def _timed_with_progress(steps: dict[str, Any], rounds: int, warmup: int, device: torch.device, progress: bool,
                         label: str) -> dict[str, list[float]]:
    from rich.progress import Progress

    from inpaint.lit.step_bench import _sync

    with Progress(transient=True, disable=not progress) as bar:
        task = bar.add_task(label, total=(rounds + warmup) * len(steps))
        return alternating_times(steps, rounds, warmup, sync=lambda: _sync(device),
                                 after_step=lambda name: bar.advance(task))


def format_versus(result: dict[str, Any]) -> str:
    """The comparison as a Markdown table with a line saying what was run."""
    rows = result["versus"]
    base = rows[BASELINE]
    kind = next((r.get("peak_memory_kind") for r in rows.values() if r.get("peak_memory_kind")), None)
    memory_label = {"process_peak_rss": "peak RSS MiB", "cuda_max_allocated": "peak CUDA MiB"}.get(kind, "peak MiB")
    height, width = result["resolution"]
    lines = [
        f"Training step at {height}×{width}, batch {result['batch']}, on {result['device_name']}, "
        f"{result['threads']} thread(s): {result['rounds']} round(s) after {result['warmup_rounds']} warm-up round(s), "
        f"one step of each variant per round in alternating order; load {result['load_average_1min_before']:.1f} → "
        f"{result['load_average_1min_after']:.1f}. Peak memory: each variant's own process, one warm-up and one step.",
        "",
        f"| variant | median step s | × baseline, paired (median, min–max over rounds) | {memory_label} | "
        "vs baseline |",
        "|---|---:|---|---:|---:|",
    ]
    for name, row in rows.items():
        if name == BASELINE:
            ratio = "1"
        else:
            ratio = f"{row['ratio_median']:.3f} ({row['ratio_min']:.3f}–{row['ratio_max']:.3f})"
        mem, base_mem = row.get("peak_memory_mb"), base.get("peak_memory_mb")
        if mem is None:
            mem_text, delta = f"n/a ({row.get('note')})", "n/a"
        else:
            mem_text = f"{mem:.0f}"
            if name == BASELINE or base_mem is None:
                delta = "—"
            else:
                delta = f"{mem - base_mem:+.0f} ({(mem - base_mem) / base_mem:+.1%})"
        lines.append(f"| {name} | {row['step_s_median']:.3f} | {ratio} | {mem_text} | {delta} |")
    unsure = [name for name, row in rows.items() if name != BASELINE and ratio_spread(row) > UNSURE_SPREAD]
    if unsure:
        lines += ["", f"The rounds disagree by more than ±{UNSURE_SPREAD:.0%} of the median for {', '.join(unsure)}: "
                      "those ratios are uncertain; rerun with more --repeats or fewer variants per run."]
    return "\n".join(lines)


#: a ratio whose rounds spread further than this either side of its median is flagged under the table
UNSURE_SPREAD = 0.10


def ratio_spread(row: dict[str, Any]) -> float:
    """How far the rounds' ratios reach from their median, relative to it (the larger side)."""
    median = row["ratio_median"]
    return max(row["ratio_max"] - median, median - row["ratio_min"]) / median
