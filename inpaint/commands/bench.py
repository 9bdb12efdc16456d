"""``inpaint bench``: median forward time, G+D training-step time and peak memory, written as JSON.

Examples::

    inpaint bench --size small --resolution 64 --batch 8 --out results/bench/small.json
    inpaint bench --standard --out results/bench        # what `make bench` runs
    inpaint bench --size small --resolution 64 --losses official
    inpaint bench --roofline --size paper --resolution 256 --batch 1 --out results/bench/roofline.json
    inpaint bench --roofline --systems --size small --resolution 64 --batch 8   # every system (make roofline)
    inpaint bench --recompute --step-in-backward --memory-regions --size paper --resolution 256 --batch 1
    inpaint bench --precision bf16-mixed --size paper --resolution 256 --batch 1   # GPU, AVX512-BF16 / AMX CPU
    inpaint bench --versus recompute recompute,step-in-backward --size paper --resolution 256 --batch 1
    inpaint bench --device cuda --precision bf16-mixed --channels-last --compile --batch 16   # the GPU options

The training step is the suite's own (:func:`inpaint.lit.gan_step.gan_training_step`, the function
``InpaintingGAN.training_step`` runs): G forward, D step on real vs. composite, G step with Eq. 16 under the
chosen loss preset (``--losses``; default: the losses of ``--config``'s model section, else paper: BCE, plain L1,
1 / 0.1 / 1 with the aux edge L1), with the optimisers ``InpaintingGAN`` configures. A ``--config`` that names a
discriminator (e.g. ``experiments/model/pyramid.yaml``: one SN-PatchGAN per level) is timed with it; otherwise the
suite's patch discriminator stands in. Each standard case runs in its own process so the peak-memory figures are
separate. Set ``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_`` (as ``make`` does) for representative CPU times.

``--roofline`` instead splits the same step into phases (G forward, D step, G losses, G backward, G optimiser) and
gives each its counted FLOPs, time and efficiency against conv / GEMM peaks measured in the same run
(:mod:`inpaint.lit.roofline`), printed as a table and written as JSON.

``--precision bf16-mixed`` times the forward and the step under bf16 autocast (the roofline against the bf16 peaks);
on a CPU without AVX512-BF16 or AMX it is refused in one line, since it would time oneDNN's emulation of bf16
(:mod:`inpaint.lit.precision`). The JSON records the precision.

``--memory-regions [DEPTH]`` runs one more step after the timed ones with its memory sampled per module region
(forward, backward, or the replay of a recomputed block; :mod:`inpaint.lit.memory_regions`) and prints where the
peak was reached instead of the JSON (which holds it under ``memory_regions``).

``--versus VARIANT …`` times the step against variants of it — recomputation, updates inside backward, layout,
precision, loss preset — in one paired run: every variant's copy of the model starts from the same weights, their
steps alternate in one process, and each variant's cost is the median of its per-round ratio to the baseline (the
command's own options); its peak memory comes from a process of its own (:mod:`inpaint.commands.bench_versus`).

``--channels-last`` runs G, D and their inputs in channels-last memory format, as the ``gpu`` trainer profile's
``model.channels_last`` does; ``--compile`` wraps G and D in ``torch.compile`` (compiled on the warm-up calls; the
JSON's ``compile_s`` is what the warm-up took beyond steady calls; ``--compile-backend aot_eager`` only traces, a
check that takes minutes on a CPU where inductor's C++ takes far longer). ``images_per_s`` is batch / median step
time. Both time the plain step, not ``--roofline``. ``scripts/gpu_check.py`` runs the GPU comparison of these
options (docs/performance.md, "GPU check").
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch

from inpaint.commands.model_selection import add_model_arguments, generator_spec, parse_resolution, training_spec
from inpaint.errors import UserInputError
from inpaint.lit.precision import BF16_MIXED, PRECISIONS, require_native_bf16
from inpaint.lit.step_bench import benchmark, build_gan
from inpaint.losses import LOSS_PRESETS

#: torch.compile backends --compile takes: inductor generates kernels (on a CPU, C++ compiled with the system's
#: compiler: many minutes for TSGL on 2 cores); aot_eager only traces, for checks
COMPILE_BACKENDS = ("inductor", "aot_eager")

#: (name, init args, resolution, batch, repeats, warmup) — small@64² batch 8 is the CPU training target,
#: paper@256² batch 1 the full model (fewer repeats: seconds per step on CPU).
STANDARD_CASES: list[tuple[str, dict[str, Any], int, int, int, int]] = [
    ("small_64_b8", {"size": "small"}, 64, 8, 7, 2),
    ("paper_256_b1", {"size": "paper"}, 256, 1, 3, 1),
]


def _run_standard(out_dir: Path, args: argparse.Namespace) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = {}
    for name, init_args, res, batch, repeats, warmup in STANDARD_CASES:
        target = out_dir / f"{name}.json"
        repeats = args.repeats or repeats
        warmup = warmup if args.warmup is None else args.warmup
        cmd = [sys.executable, "-m", "inpaint.commands.bench", "--resolution", str(res), "--batch", str(batch),
               "--repeats", str(repeats), "--warmup", str(warmup), "--threads", str(args.threads),
               "--device", args.device, "--losses", args.losses or "paper", "--precision", args.precision,
               "--out", str(target), "--no-progress", "--quiet"]
        for key, value in init_args.items():
            cmd += [f"--{key}", str(value)]
        print(f"[bench] {name}: {' '.join(cmd[3:])}", flush=True)
        done = subprocess.run(cmd, check=False)
        if done.returncode:
            print(f"[bench] {name} failed with exit code {done.returncode}", file=sys.stderr)
            return done.returncode
        summary[name] = json.loads(target.read_text())
        s = summary[name]
        print(f"[bench] {name}: forward {s['forward_s_median']:.3f} s, G+D step {s['train_step_s_median']:.3f} s "
              f"(CPU time {s['train_step_cpu_s_median']:.3f} s), peak {s['peak_memory_mb']:.0f} MiB, "
              f"load {s['load_average_1min']:.1f}", flush=True)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return 0


def _roofline(class_path: str, init_args: dict[str, Any], height: int, width: int, args: argparse.Namespace,
              losses: str | dict[str, Any], discriminator: Any) -> dict[str, Any]:
    from inpaint.lit.module import nothing_to_train
    from inpaint.lit.roofline import roofline
    from inpaint.models.complexity import example_inputs, structure_prior_of

    device = torch.device(args.device)
    model = build_gan(class_path, init_args, losses, discriminator, args.recompute, args.step_in_backward).to(device)
    untrainable = nothing_to_train(model.generator)
    if untrainable is not None:
        raise UserInputError(f"--roofline times a training step, and this generator has none: {untrainable}")
    prior = structure_prior_of(model.generator)
    batch = {k: v.to(device) for k, v in example_inputs(args.batch, height, width, structure_prior=prior).items()}
    result = roofline(model, batch, repeats=args.repeats or 3, warmup=1 if args.warmup is None else args.warmup,
                      precision=args.precision)
    result["recompute_activations"] = args.recompute
    result["step_in_backward"] = args.step_in_backward
    return result


def _check_plain_options(args: argparse.Namespace) -> None:
    """Options of the plain timing that another mode would silently ignore, or that would time the compiler."""
    plain = [flag for flag, on in (("--channels-last", args.channels_last), ("--compile", args.compile),
                                   ("--step-only", args.step_only)) if on]
    if args.roofline and plain:
        raise UserInputError(f"{', '.join(plain)}: not with --roofline (it times the default layout, uncompiled)")
    if args.compile and args.memory_regions is not None:
        raise UserInputError("--memory-regions hooks every module of an uncompiled step: run it without --compile")
    if args.compile and args.warmup == 0:
        raise UserInputError("--compile compiles on the first calls: give --warmup 1 or more so the timed calls "
                             "do not include the compilation")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="inpaint bench", description=__doc__.splitlines()[0])
    add_model_arguments(parser)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=None, help="timed repetitions, median reported (default 5)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed repetitions first (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:i]")
    parser.add_argument("--losses", choices=sorted(LOSS_PRESETS), default=None,
                        help="loss preset of the timed training step (default: --config's losses, else paper)")
    parser.add_argument("--standard", action="store_true", help="run the standard set (small@64² b8, paper@256² b1)")
    parser.add_argument("--systems", nargs="*", metavar="SYSTEM",
                        help="with --roofline: every system of the compare study (or those named), each with the "
                             "study's config for --size, one process each; --out is a folder (default "
                             "results/bench/roofline_<size>)")
    parser.add_argument("--recompute", action="store_true",
                        help="recompute the generator's heavy blocks in backward (model.recompute_activations)")
    parser.add_argument("--step-in-backward", action="store_true",
                        help="update each generator parameter inside backward and free its gradient "
                             "(model.step_in_backward)")
    parser.add_argument("--roofline", action="store_true",
                        help="per-phase FLOPs, time and efficiency of the training step against same-run peaks")
    parser.add_argument("--memory-regions", type=int, nargs="?", const=2, default=None, metavar="DEPTH",
                        help="after the timed steps, one more step with its memory sampled per module region (modules "
                             "down to DEPTH levels, default 2): where the peak is")
    parser.add_argument("--precision", choices=PRECISIONS, default="32-true",
                        help="32-true (default) or bf16-mixed: the forward and the step under bf16 autocast (refused "
                             "on a CPU without AVX512-BF16 or AMX)")
    parser.add_argument("--channels-last", action="store_true",
                        help="G, D and their inputs in channels-last memory format (model.channels_last)")
    parser.add_argument("--compile", action="store_true",
                        help="torch.compile G and D (compiled during the warm-up, which must be at least 1)")
    parser.add_argument("--compile-backend", choices=COMPILE_BACKENDS, default="inductor",
                        help="torch.compile backend for --compile: inductor (default, generated kernels) or aot_eager "
                             "(traces forward and backward, runs them uncompiled: a quick check of the tracing)")
    parser.add_argument("--step-only", action="store_true",
                        help="time the training step only, not the inference forward (with --compile: one "
                             "compilation fewer)")
    parser.add_argument("--versus", nargs="+", metavar="VARIANT",
                        help="time the training step against variants of it in one paired run (steps alternate in "
                             "one process; peak memory per variant in a process of its own), e.g. --versus recompute "
                             "recompute,step-in-backward; a variant adds comma-separated step options to the "
                             "command's: recompute, step-in-backward, channels-last, precision=P, losses=PRESET, "
                             "set:KEY=VALUE (a generator init arg)")
    parser.add_argument("--out", type=Path, help="JSON file (or folder with --standard)")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="do not print the JSON (only write --out)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.precision in BF16_MIXED:
        try:
            require_native_bf16(torch.device(args.device))
        except UserInputError as err:
            print(f"inpaint bench: {err}", file=sys.stderr)
            return 2
    if args.versus is not None:
        from inpaint.commands.bench_versus import check_versus_options

        try:
            check_versus_options(args)
        except UserInputError as err:
            print(f"inpaint bench: {err}", file=sys.stderr)
            return 2
    if args.standard:
        return _run_standard(args.out or Path("results/bench"), args)
    if args.systems is not None:
        from inpaint.commands.bench_systems import run_systems

        try:
            if not args.roofline or args.config is not None:
                raise UserInputError("--systems runs --roofline for the compare study's systems with their own "
                                     "configs: add --roofline, leave out --config")
            return run_systems(args.out or Path(f"results/bench/roofline_{args.size or 'paper'}"), args,
                               only=args.systems)
        except UserInputError as err:
            print(f"inpaint bench: {err}", file=sys.stderr)
            return 2
    try:
        _check_plain_options(args)
        if args.compile and args.compile_backend == "inductor" and torch.device(args.device).type == "cpu":
            print("inpaint bench: --compile on a CPU: inductor compiles C++ for every kernel (TSGL small had not "
                  "finished after 15 minutes on 2 cores); --compile-backend aot_eager checks the tracing in minutes",
                  file=sys.stderr)
        height, width = parse_resolution(args.resolution)
        class_path, init_args = generator_spec(args)
        discriminator, config_losses = training_spec(args)
        losses = args.losses or config_losses or "paper"
        if args.roofline and args.memory_regions is not None:
            raise UserInputError("--memory-regions samples a plain bench step; run it without --roofline")
        if args.versus is not None:
            from inpaint.commands.bench_versus import run_versus

            result = run_versus(class_path, init_args, height, width, args, losses, discriminator)
        elif args.roofline:
            result = _roofline(class_path, init_args, height, width, args, losses, discriminator)
        else:
            result = benchmark(class_path, init_args, height, width, args.batch, args.repeats or 5,
                               2 if args.warmup is None else args.warmup, args.device, progress=not args.no_progress,
                               losses=losses, discriminator=discriminator, recompute_activations=args.recompute,
                               step_in_backward=args.step_in_backward, precision=args.precision,
                               memory_regions=args.memory_regions,
                               channels_last=args.channels_last, torch_compile=args.compile,
                               compile_backend=args.compile_backend,
                               step_only=args.step_only)
    except UserInputError as err:
        print(f"inpaint bench: {err}", file=sys.stderr)
        return 2
    result["class_path"], result["init_args"] = class_path, init_args
    text = json.dumps(result, indent=2)
    if args.versus is not None and not args.quiet:
        from inpaint.commands.bench_versus import format_versus

        print(format_versus(result))
    elif args.roofline and not args.quiet:
        from inpaint.lit.roofline import format_roofline

        print(format_roofline(result))
    elif "memory_regions" in result and not args.quiet:
        from inpaint.lit.memory_regions import format_memory_regions

        print(format_memory_regions(result["memory_regions"]))
    elif not args.quiet:
        print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
