"""``inpaint bench``: median forward time, G+D training-step time and peak memory, written as JSON.

Examples::

    inpaint bench --size small --resolution 64 --batch 8 --out results/bench/small.json
    inpaint bench --standard --out results/bench        # what `make bench` runs

The training step is the full GAN step of the suite (G forward, D step on real vs. composite, G step with
L1 + 0.1·adversarial + aux edge L1), with plain ``F.l1_loss`` and BCE-with-logits as stand-in losses (the
step's cost does not depend on the loss form). Besides wall-clock medians it records the process CPU
time per call and the load average, because the machines are often shared. Peak memory is the process's peak RSS on CPU (each standard
case runs in its own process so the peaks are separate) or ``torch.cuda.max_memory_allocated`` on GPU.
Set ``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_`` (as ``make`` does) for representative CPU times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from inpaint.commands.info import (
    add_model_arguments,
    build_generator,
    example_inputs,
    generator_spec,
    parse_resolution,
)

#: (name, init args, resolution, batch, repeats, warmup) — small@64² batch 8 is the CPU training target,
#: paper@256² batch 1 the full model (fewer repeats: seconds per step on CPU).
STANDARD_CASES: list[tuple[str, dict[str, Any], int, int, int, int]] = [
    ("small_64_b8", {"size": "small"}, 64, 8, 7, 2),
    ("paper_256_b1", {"size": "paper"}, 256, 1, 3, 1),
]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    # ru_maxrss is KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def benchmark(
    class_path: str,
    init_args: dict[str, Any],
    height: int,
    width: int,
    batch: int,
    repeats: int = 5,
    warmup: int = 2,
    device: str = "cpu",
    progress: bool = True,
) -> dict[str, Any]:
    """Median forward (no grad, eval) and G+D train-step times in seconds, and peak memory in MiB."""
    from inpaint.conventions import composite
    from inpaint.models.discriminators import PatchDiscriminator

    dev = torch.device(device)
    generator = build_generator(class_path, init_args).to(dev)
    profile = getattr(generator, "profile", None)
    discriminator = PatchDiscriminator(width=getattr(profile, "discriminator_width", 64)).to(dev)
    inputs = {k: v.to(dev) for k, v in example_inputs(batch, height, width).items()}
    opt_g = torch.optim.Adam(generator.parameters(), lr=5e-4, betas=(0.5, 0.99), fused=True)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=1e-4, betas=(0.5, 0.99), fused=True)

    def forward() -> None:
        with torch.no_grad():
            generator(**inputs)

    def train_step() -> None:
        out = generator(**inputs)
        fake = composite(inputs["image"], out.image, inputs["mask"])
        real_logits, fake_logits = discriminator(inputs["image"]), discriminator(fake.detach())
        loss_d = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits)) + \
            F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        discriminator.requires_grad_(False)
        adv = discriminator(fake)
        loss_g = F.l1_loss(out.image, inputs["image"]) + \
            0.1 * F.binary_cross_entropy_with_logits(adv, torch.ones_like(adv))
        if out.edge is not None:
            loss_g = loss_g + F.l1_loss(out.edge, inputs["edge"])
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        discriminator.requires_grad_(True)

    def timed(fn, n: int) -> tuple[list[float], list[float]]:  # noqa: ANN001
        """Wall-clock and process CPU seconds per call (CPU time is the robust number on a shared machine)."""
        wall, cpu = [], []
        for _ in range(n):
            _sync(dev)
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            _sync(dev)
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            if bar is not None:
                bar.advance(task)
        return wall, cpu

    bar = None
    task = None
    total_steps = 2 * (warmup + repeats)
    if progress:
        from rich.progress import Progress

        bar = Progress(transient=True)
        bar.start()
        task = bar.add_task(f"bench {height}×{width} b{batch}", total=total_steps)
    try:
        generator.eval()
        timed(forward, warmup)
        forward_times, forward_cpu = timed(forward, repeats)
        generator.train()
        timed(train_step, warmup)
        step_times, step_cpu = timed(train_step, repeats)
    finally:
        if bar is not None:
            bar.stop()
    return {
        "resolution": [height, width],
        "batch": batch,
        "device": str(dev),
        "threads": torch.get_num_threads(),
        "repeats": repeats,
        "forward_s_median": statistics.median(forward_times),
        "train_step_s_median": statistics.median(step_times),
        "forward_s_all": forward_times,
        "train_step_s_all": step_times,
        "forward_cpu_s_median": statistics.median(forward_cpu),
        "train_step_cpu_s_median": statistics.median(step_cpu),
        "load_average_1min": os.getloadavg()[0],
        "peak_memory_mb": round(_peak_memory_mb(dev), 1),
        "peak_memory_kind": "cuda_max_allocated" if dev.type == "cuda" else "process_peak_rss",
        "malloc_tuned": os.environ.get("MALLOC_MMAP_THRESHOLD_") is not None,
        "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
    }


def _run_standard(out_dir: Path, args: argparse.Namespace) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = {}
    for name, init_args, res, batch, repeats, warmup in STANDARD_CASES:
        target = out_dir / f"{name}.json"
        repeats = args.repeats or repeats
        warmup = warmup if args.warmup is None else args.warmup
        cmd = [sys.executable, "-m", "inpaint.commands.bench", "--resolution", str(res), "--batch", str(batch),
               "--repeats", str(repeats), "--warmup", str(warmup), "--threads", str(args.threads),
               "--device", args.device, "--out", str(target), "--no-progress", "--quiet"]
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


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="inpaint bench", description=__doc__.splitlines()[0])
    add_model_arguments(parser)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=None, help="timed repetitions, median reported (default 5)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed repetitions first (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:i]")
    parser.add_argument("--standard", action="store_true", help="run the standard set (small@64² b8, paper@256² b1)")
    parser.add_argument("--out", type=Path, help="JSON file (or folder with --standard)")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="do not print the JSON (only write --out)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.standard:
        return _run_standard(args.out or Path("results/bench"), args)
    height, width = parse_resolution(args.resolution)
    class_path, init_args = generator_spec(args)
    result = benchmark(class_path, init_args, height, width, args.batch, args.repeats or 5,
                       2 if args.warmup is None else args.warmup, args.device, progress=not args.no_progress)
    result["class_path"], result["init_args"] = class_path, init_args
    text = json.dumps(result, indent=2)
    if not args.quiet:
        print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
