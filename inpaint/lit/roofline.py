"""Roofline accounting of the real GAN training step (``inpaint bench --roofline``, issue 28).

How close is a step to what the machine can do? The step is the suite's own
(:func:`inpaint.lit.gan_step.gan_training_step`), split into phases by wrapping its hooks — no second copy of the
step:

* ``g_forward`` — the generator forward (start → the D step begins; without a discriminator → the G step begins);
* ``d_step`` — D on real and fake, its backward and its optimiser step;
* ``g_losses`` — the generator's loss terms (D on the fake for the adversarial term, perceptual nets, …);
* ``g_backward`` — the backward of the generator loss (through D and G);
* ``g_optimizer`` — gradient clipping and the G optimiser step.

FLOPs per phase come from one extra, untimed step under :class:`~torch.utils.flop_counter.FlopCounterMode` (the
suite's counter rules: convolutions, matmuls and attention, :mod:`inpaint.models.complexity`; element-wise work,
normalisation statistics and the optimisers count 0), read at the same phase boundaries. Times are medians over
``repeats`` steps after ``warmup`` ones.

Peaks are measured in the same process, right before each timed step (:func:`measure_peaks`): a 3×3 convolution
256→256 on 64² maps, batch 2 (forward; forward + backward), the faster of the NCHW and channels-last layouts, and a
2048² GEMM, in float32 and — where the hardware has it — bfloat16. Within one such window a peak is the *fastest*
repetition (a roof is what the machine can do); the table uses each peak's median over the windows. Measuring the
peaks beside each step rather than once matters on shared or frequency-scaling machines: on this project's VM the
same step's median moved by 25 % and a one-second peak by a third between two runs minutes apart (2026-12-07).
A phase's **efficiency** is its FLOP rate over the conv peak of its kind (forward phases: the forward peak;
``d_step`` and ``g_backward``: the forward + backward peak) in the step's precision: the float32 peaks for
``32-true``, the bf16 ones for ``bf16-mixed`` (the step then runs under bf16 autocast, :mod:`inpaint.lit.precision`;
without a measured bf16 peak its efficiencies are n/a). The step's efficiency is its *roofline time* —
Σ FLOPs / peak over the phases — divided by its measured time, so phases that count no FLOPs (the optimiser step)
lower it by exactly the time they take.

Then one more step runs with every ATen op timed (:mod:`inpaint.lit.op_times`): the step's time split into
convolutions, matmuls, other ops and the time outside ops, and the convolutions furthest from the peak of their
direction, shape by shape — what the phases' efficiencies do not say.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from inpaint.lit import gan_step
from inpaint.lit.machine import bf16_support, device_label
from inpaint.lit.module import InpaintingGAN
from inpaint.lit.op_times import OpTimes, format_op_times
from inpaint.lit.precision import BF16_MIXED, autocast
from inpaint.models.complexity import CUSTOM_FORMULAS

PHASES = ("g_forward", "d_step", "g_losses", "g_backward", "g_optimizer")
#: which measured peak a phase is compared with (None: counts no FLOPs)
PHASE_PEAK = {"g_forward": "conv_forward", "d_step": "conv_forward_backward", "g_losses": "conv_forward",
              "g_backward": "conv_forward_backward", "g_optimizer": None}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _seconds(fn: Callable[[], Any], repeats: int, warmup: int, device: torch.device) -> list[float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return times


def _conv_rates(x: torch.Tensor, w: torch.Tensor, repeats: int, warmup: int) -> tuple[float, float]:
    """GFLOP/s of the fastest forward and of the fastest forward + backward (3× the forward FLOPs) of a 3×3 conv."""
    batch, _, height, width = x.shape
    flops = 2 * batch * w.shape[0] * w.shape[1] * 9 * height * width

    def forward() -> None:
        with torch.no_grad():
            F.conv2d(x, w, padding=1)

    def forward_backward() -> None:
        F.conv2d(x, w, padding=1).sum().backward()

    return (flops / min(_seconds(forward, repeats, warmup, x.device)) / 1e9,
            3 * flops / min(_seconds(forward_backward, repeats, warmup, x.device)) / 1e9)


def conv_peak(device: torch.device, dtype: torch.dtype = torch.float32, channels: int = 256, size: int = 64,
              batch: int = 2, repeats: int = 10, warmup: int = 2) -> dict[str, float]:
    """GFLOP/s of a 3×3 ``channels``→``channels`` convolution on ``size``² maps: forward, and forward + backward
    (input and weight gradients, 3× the forward FLOPs); the fastest repetition in either memory layout."""
    rates = []
    for layout in (torch.contiguous_format, torch.channels_last):
        x = torch.randn(batch, channels, size, size, device=device, dtype=dtype).contiguous(memory_format=layout)
        w = torch.randn(channels, channels, 3, 3, device=device, dtype=dtype).contiguous(memory_format=layout)
        rates.append(_conv_rates(x.requires_grad_(True), w.requires_grad_(True), repeats, warmup))
    return {"conv_forward": max(r[0] for r in rates), "conv_forward_backward": max(r[1] for r in rates)}


def gemm_peak(device: torch.device, dtype: torch.dtype = torch.float32, n: int = 2048, repeats: int = 10,
              warmup: int = 2) -> float:
    """GFLOP/s of an n×n by n×n matrix product (the fastest repetition)."""
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    return 2 * n**3 / min(_seconds(lambda: a @ b, repeats, warmup, device)) / 1e9


def measure_peaks(device: torch.device, repeats: int = 10, warmup: int = 2) -> dict[str, Any]:
    """float32 conv (forward, forward + backward) and GEMM peaks, and the bfloat16 ones where the hardware has
    native bf16 (else None, with the reason in ``bf16_note``)."""
    peaks: dict[str, Any] = {**conv_peak(device, repeats=repeats, warmup=warmup),
                             "gemm": gemm_peak(device, repeats=repeats, warmup=warmup)}
    supported, note = bf16_support(device)
    if supported:
        bf16 = conv_peak(device, torch.bfloat16, repeats=repeats, warmup=warmup)
        peaks.update(bf16_conv_forward=bf16["conv_forward"], bf16_conv_forward_backward=bf16["conv_forward_backward"],
                     bf16_gemm=gemm_peak(device, torch.bfloat16, repeats=repeats, warmup=warmup))
    else:
        peaks.update(bf16_conv_forward=None, bf16_conv_forward_backward=None, bf16_gemm=None)
    peaks["bf16_note"] = note
    return peaks


class PhaseClock:
    """Wraps a step's hooks so each phase boundary (module docstring) records the time and, while a FlopCounterMode
    is attached, the FLOPs counted so far. :meth:`durations` / :meth:`flops` after a step."""

    def __init__(self, hooks: gan_step.StepHooks, opt_g: torch.optim.Optimizer, has_discriminator: bool,
                 device: torch.device) -> None:
        self.inner, self.opt_g, self.has_discriminator, self.device = hooks, opt_g, has_discriminator, device
        self.counter: FlopCounterMode | None = None
        self.marks: list[tuple[str, float, int]] = []
        self.hooks = dataclasses.replace(hooks, toggle=self._toggle, untoggle=self._untoggle,
                                         backward=self._backward,
                                         before_discriminator_step=self._before_discriminator_step)

    def _mark(self, phase: str) -> None:
        _sync(self.device)
        self.marks.append((phase, time.perf_counter(), self.counter.get_total_flops() if self.counter else 0))

    def start(self) -> None:
        self.marks = []
        self._mark("start")

    def _ended(self, phase: str) -> bool:
        return any(name == phase for name, _, _ in self.marks)

    def _before_discriminator_step(self, opt: torch.optim.Optimizer) -> None:
        self._mark("g_forward")
        self.inner.before_discriminator_step(opt)

    def _toggle(self, opt: torch.optim.Optimizer) -> None:
        if opt is self.opt_g and not self._ended("g_forward"):  # no discriminator: the G step follows the forward
            self._mark("g_forward")
        self.inner.toggle(opt)

    def _untoggle(self, opt: torch.optim.Optimizer) -> None:
        self.inner.untoggle(opt)
        self._mark("g_optimizer" if opt is self.opt_g else "d_step")

    def _backward(self, loss: torch.Tensor) -> None:
        generator_loss = self._ended("d_step") or not self.has_discriminator  # D's own backward is in d_step
        if generator_loss:
            self._mark("g_losses")
        self.inner.backward(loss)
        if generator_loss:
            self._mark("g_backward")

    def _segments(self, index: int) -> dict[str, float]:
        out = {}
        for (_, t0, f0), (name, t1, f1) in zip(self.marks, self.marks[1:]):
            out[name] = (t1 - t0, f1 - f0)[index]
        return out

    def durations(self) -> dict[str, float]:
        """Seconds per phase of the last step (phases that did not run are absent)."""
        return self._segments(0)

    def flops(self) -> dict[str, int]:
        """FLOPs per phase of the last step run with :attr:`counter` attached."""
        return {k: int(v) for k, v in self._segments(1).items()}


def median_peaks(windows: list[dict[str, Any]]) -> dict[str, Any]:
    """Each numeric peak's median over the measurement windows; other entries (None, notes) from the first."""
    out = dict(windows[0])
    for key, value in out.items():
        if isinstance(value, float):
            out[key] = statistics.median(w[key] for w in windows)
    return out


def peak_key(phase: str, precision: str = "32-true") -> str | None:
    """The :func:`measure_peaks` key a phase is compared with at ``precision`` (None: it counts no FLOPs)."""
    key = PHASE_PEAK[phase]
    return f"bf16_{key}" if key is not None and precision in BF16_MIXED else key


def roofline(model: InpaintingGAN, batch: dict[str, torch.Tensor], repeats: int = 3, warmup: int = 1,
             peaks: dict[str, Any] | None = None, precision: str = "32-true", op_times: bool = True) -> dict[str, Any]:
    """Per-phase FLOPs, median seconds, GFLOP/s and efficiency of ``model``'s training step on ``batch`` at
    ``precision``, with the same-run peaks (measured here unless given) and the machine named (module docstring).
    With ``op_times``, one more step runs with every op timed (:mod:`inpaint.lit.op_times`): where the time goes."""
    device = batch["image"].device
    optimizers = model.configure_optimizers()
    opt_g, opt_d = (optimizers[0], None) if len(optimizers) == 1 else optimizers
    clock = PhaseClock(gan_step.plain_hooks(opt_g, opt_d, model.gradient_clip_val, model.generator_backward), opt_g,
                       model.discriminator is not None, device)

    def step() -> None:
        clock.start()
        with autocast(precision, device):
            gan_step.gan_training_step(model.generator, model.discriminator, opt_g, opt_d, model.losses, batch,
                                       clock.hooks)

    model.generator.train()
    for _ in range(warmup):
        step()
    clock.counter = FlopCounterMode(display=False, custom_mapping=CUSTOM_FORMULAS)
    with clock.counter:
        step()
    flops = clock.flops()
    clock.counter = None
    per_step: dict[str, list[float]] = {}
    totals = []
    windows: list[dict[str, Any]] = []  # the peaks measured beside each timed step (none when given)
    for _ in range(repeats):
        if peaks is None:
            windows.append(measure_peaks(device, repeats=5, warmup=1))
        step()
        for phase, seconds in clock.durations().items():
            per_step.setdefault(phase, []).append(seconds)
        totals.append(clock.marks[-1][1] - clock.marks[0][1])

    if peaks is None:
        peaks = median_peaks(windows)
    breakdown = None
    if op_times:
        timer = OpTimes(device)
        with timer:
            step()
        bf16 = precision in BF16_MIXED
        breakdown = timer.summary(peaks.get("bf16_conv_forward" if bf16 else "conv_forward"),
                                  peaks.get("bf16_conv_forward_backward" if bf16 else "conv_forward_backward"))
        breakdown["untimed_step_s"] = statistics.median(totals)  # the same step without the timer's per-op cost
    rows, roofline_s = [], 0.0
    missing_peak = False  # a phase with FLOPs but no peak to compare with (bf16 where it is not measured)
    for phase in (p for p in PHASES if p in per_step):
        seconds = statistics.median(per_step[phase])
        key = peak_key(phase, precision)
        peak = peaks.get(key) if key else None
        missing_peak = missing_peak or (key is not None and not peak)
        rate = flops[phase] / seconds / 1e9 if seconds > 0 else None
        ideal = flops[phase] / (peak * 1e9) if peak else 0.0
        roofline_s += ideal
        rows.append({"phase": phase, "gflop": flops[phase] / 1e9, "seconds": seconds, "gflop_per_s": rate,
                     "peak": key, "efficiency": (rate / peak) if (peak and rate is not None) else None})
    step_s = statistics.median(totals)
    total_flops = sum(flops[p] for p in per_step)
    return {
        "device": device_label(device),
        "precision": precision,
        "threads": torch.get_num_threads(),
        "resolution": list(batch["image"].shape[-2:]),
        "batch": int(batch["image"].shape[0]),
        "repeats": repeats,
        "warmup": warmup,
        "peaks": peaks,
        "peak_windows": windows,
        "phases": rows,
        "step": {"gflop": total_flops / 1e9, "seconds": step_s, "gflop_per_s": total_flops / step_s / 1e9,
                 "roofline_seconds": None if missing_peak else roofline_s,
                 "efficiency": None if missing_peak else roofline_s / step_s},
        "op_times": breakdown,
    }


def format_roofline(result: dict[str, Any]) -> str:
    """The roofline result as a Markdown table with the machine and the peaks in its caption."""
    peaks = result["peaks"]

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.0f} %"

    def num(value: float | None, digits: int = 1) -> str:
        return "n/a" if value is None else f"{value:.{digits}f}"

    h, w = result["resolution"]
    bf16 = (f"bf16 conv forward {num(peaks['bf16_conv_forward'])}, conv forward+backward "
            f"{num(peaks['bf16_conv_forward_backward'])} GFLOP/s" if peaks["bf16_conv_forward"] is not None
            else f"bf16: {peaks['bf16_note']}")
    precision = result.get("precision", "32-true")
    lines = [f"Training step at {h}×{w}, batch {result['batch']}, {precision}, on {result['device']}, "
             f"{result['threads']} thread(s); median of {result['repeats']} step(s), compared with the "
             f"{'bf16' if precision in BF16_MIXED else 'fp32'} peaks. fp32 peaks measured beside the steps "
             f"(median over {max(1, len(result.get('peak_windows') or []))} window(s)): conv forward "
             f"{num(peaks['conv_forward'])}, conv forward+backward {num(peaks['conv_forward_backward'])}, GEMM "
             f"{num(peaks['gemm'])} GFLOP/s; {bf16}.", "",
             "| phase | GFLOP | s | GFLOP/s | vs peak | efficiency |", "|---|---:|---:|---:|---|---:|"]
    for row in result["phases"]:
        lines.append(f"| {row['phase']} | {row['gflop']:.2f} | {row['seconds']:.3f} | {num(row['gflop_per_s'])} | "
                     f"{row['peak'] or '—'} | {pct(row['efficiency'])} |")
    step = result["step"]
    lines.append(f"| **step** | {step['gflop']:.2f} | {step['seconds']:.3f} | {num(step['gflop_per_s'])} | "
                 f"roofline {num(step['roofline_seconds'], 3)} s | {pct(step['efficiency'])} |")
    if result.get("op_times"):
        lines += ["", format_op_times(result["op_times"])]
    return "\n".join(lines)
