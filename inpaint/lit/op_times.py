"""Where a training step's time goes, op by op (the second part of ``inpaint bench --roofline``).

The roofline table says how far each phase is from the conv peak, not why. :class:`OpTimes` answers that: while
active it times every ATen operator the step runs — forward, backward and optimiser, the ops autograd runs
included — and sorts the time into

* ``convolution``: ``aten.convolution`` and ``aten.convolution_backward``, also kept per shape with their FLOPs, so
  each convolution can be compared with the conv peak of its direction (:meth:`OpTimes.convolutions`);
* ``matmul``: matrix products and attention kernels (``mm``, ``addmm``, ``bmm``, ``baddbmm``, ``addmv``, ``mv``,
  ``scaled_dot_product_*``);
* ``other_ops``: every other op — element-wise work, normalisation, resampling, copies, the optimisers' kernels;
* ``outside_ops``: the step's wall time not spent inside any op — Python, autograd's bookkeeping, dispatch, and
  this timer's own overhead (≈ 10 µs per op).

An op is timed as one call: an op that runs others internally (``convolution`` → ``mkldnn_convolution``) counts once,
under its own name. On a GPU every op is bracketed by synchronisations, so the times are kernel times without
overlap; the step itself runs slower under the timer there.

A convolution's FLOPs are 2 · (output elements) · (input channels per group) · kh · kw for the forward (for a
transposed convolution, per input element), the same for each gradient its backward computes (input, weight) —
the suite's counting rule (:func:`inpaint.models.complexity.conv_forward_flops`, also what the roofline's FLOP
counter uses), which equals ``torch.utils.flop_counter``'s for ungrouped convolutions (tested).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import torch

from inpaint.models.complexity import conv_forward_flops
from inpaint.nn.torch_private import dispatch_mode_base

KINDS = ("convolution", "matmul", "other_ops", "outside_ops")
MATMUL_OPS = frozenset({"mm", "addmm", "bmm", "baddbmm", "addmv", "mv"})


def _kind_of_name(name: str) -> str:
    name = name.removeprefix("aten.")
    if name in ("convolution", "convolution_backward"):
        return "convolution"
    if name in MATMUL_OPS or name.startswith("_scaled_dot_product"):
        return "matmul"
    return "other_ops"


@dataclass(frozen=True)
class ConvKey:
    """One convolution shape in one direction: ``forward``, or ``backward`` with the gradients it computes."""

    direction: str  # "forward" | "backward(input+weight)" | "backward(input)" | "backward(weight)"
    input_shape: tuple[int, ...]
    weight_shape: tuple[int, ...]
    stride: tuple[int, ...]
    groups: int
    transposed: bool


class OpTimes:
    """Context manager: time every ATen op run inside it, by kind and per convolution shape (module docstring)."""

    def __init__(self, device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)
        self.conv_seconds: dict[ConvKey, float] = defaultdict(float)
        self.conv_calls: dict[ConvKey, int] = defaultdict(int)
        self.conv_flops: dict[ConvKey, int] = defaultdict(int)
        #: seconds and calls per op name (``aten.mul``, ``aten.convolution_backward``, ...)
        self.op_seconds: dict[str, float] = defaultdict(float)
        self.op_calls: dict[str, int] = defaultdict(int)
        self.wall_s = 0.0
        self._mode: Any = None
        self._start = 0.0

    @property
    def calls(self) -> dict[str, int]:
        """Op calls per kind (``outside_ops`` has none)."""
        calls = dict.fromkeys(KINDS[:-1], 0)
        for name, n in self.op_calls.items():
            calls[_kind_of_name(name)] += n
        return calls

    @property
    def seconds(self) -> dict[str, float]:
        """Seconds per kind; ``outside_ops`` is the wall time spent in no op."""
        seconds = dict.fromkeys(KINDS, 0.0)
        for name, t in self.op_seconds.items():
            seconds[_kind_of_name(name)] += t
        seconds["outside_ops"] = max(0.0, self.wall_s - sum(seconds.values()))
        return seconds

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def _record_conv(self, func: Any, args: tuple, out: Any, seconds: float) -> None:
        if func.overloadpacket.__name__ == "convolution":
            x, w, _, stride, _, _, transposed, _, groups = args[:9]
            flops = conv_forward_flops(tuple(x.shape), tuple(w.shape), tuple(out.shape), bool(transposed))
            direction = "forward"
        else:  # convolution_backward(grad_out, input, weight, bias_sizes, stride, padding, dilation, transposed,
            #                        output_padding, groups, output_mask)
            grad, x, w = args[:3]
            stride, transposed, groups, mask = args[4], args[7], args[9], args[10]
            one = conv_forward_flops(tuple(x.shape), tuple(w.shape), tuple(grad.shape), bool(transposed))
            grads = [name for name, on in zip(("input", "weight"), mask[:2]) if on]
            flops = one * len(grads)
            direction = f"backward({'+'.join(grads) or 'bias'})"
        key = ConvKey(direction, tuple(x.shape), tuple(w.shape), tuple(int(s) for s in stride), int(groups),
                      bool(transposed))
        self.conv_seconds[key] += seconds
        self.conv_calls[key] += 1
        self.conv_flops[key] += flops

    def __enter__(self) -> OpTimes:
        owner = self

        class _Mode(dispatch_mode_base()):  # type: ignore[misc]
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                owner._sync()
                start = time.perf_counter()
                out = func(*args, **(kwargs or {}))
                owner._sync()
                seconds = time.perf_counter() - start
                name = f"aten.{func.overloadpacket.__name__}"
                owner.op_seconds[name] += seconds
                owner.op_calls[name] += 1
                if _kind_of_name(name) == "convolution":
                    owner._record_conv(func, args, out, seconds)
                return out

        self._sync()
        self._mode = _Mode()
        self._mode.__enter__()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._sync()
        self.wall_s = time.perf_counter() - self._start
        self._mode.__exit__(*exc)
        self._mode = None

    def convolutions(self, forward_peak: float | None, backward_peak: float | None,
                     top: int | None = None) -> list[dict[str, Any]]:
        """One row per convolution shape and direction: calls, GFLOP, seconds, GFLOP/s and — against the forward peak
        for forwards, the forward + backward peak for backwards (GFLOP/s; None: not compared) — the efficiency and
        the *excess*, the seconds beyond what the peak would take. Sorted by excess (by seconds without peaks)."""
        rows = []
        for key, seconds in self.conv_seconds.items():
            flops = self.conv_flops[key]
            peak = forward_peak if key.direction == "forward" else backward_peak
            ideal = flops / (peak * 1e9) if peak else None
            rows.append({
                "direction": key.direction, "input": list(key.input_shape), "weight": list(key.weight_shape),
                "stride": list(key.stride), "groups": key.groups, "transposed": key.transposed,
                "calls": self.conv_calls[key], "gflop": flops / 1e9, "seconds": seconds,
                "gflop_per_s": flops / seconds / 1e9 if seconds > 0 else None,
                "efficiency": ideal / seconds if (ideal is not None and seconds > 0) else None,
                "excess_s": seconds - ideal if ideal is not None else None,
            })
        rows.sort(key=lambda r: -(r["excess_s"] if r["excess_s"] is not None else r["seconds"]))
        return rows[:top] if top is not None else rows

    def slowest_ops(self, kind: str | None = None, top: int | None = None) -> list[dict[str, Any]]:
        """Ops by total seconds (of one kind, if given): name, kind, calls, seconds."""
        rows = [{"op": name, "kind": _kind_of_name(name), "calls": self.op_calls[name], "seconds": seconds}
                for name, seconds in self.op_seconds.items()]
        rows = [r for r in rows if kind is None or r["kind"] == kind]
        rows.sort(key=lambda r: -r["seconds"])
        return rows[:top] if top is not None else rows

    def summary(self, forward_peak: float | None, backward_peak: float | None, top: int = 10) -> dict[str, Any]:
        """The JSON of the breakdown: seconds and share per kind, op calls, the convolutions' totals against the
        peaks, the ``top`` convolutions by excess and the ``top`` ops outside convolutions by time."""
        rows = self.convolutions(forward_peak, backward_peak)
        ideals = [r["seconds"] - r["excess_s"] for r in rows if r["excess_s"] is not None]
        compared = len(ideals) == len(rows)
        seconds = self.seconds
        conv_s = seconds["convolution"]
        return {
            "wall_s": self.wall_s,
            "seconds": seconds,
            "share": {k: (v / self.wall_s if self.wall_s > 0 else None) for k, v in seconds.items()},
            "calls": self.calls,
            "convolution": {
                "gflop": sum(r["gflop"] for r in rows), "seconds": conv_s,
                "at_peaks_s": sum(ideals) if compared else None,
                "efficiency": (sum(ideals) / conv_s) if (compared and conv_s > 0) else None,
                "shapes": len(rows),
            },
            "slowest_convolutions": rows[:top],
            "slowest_other_ops": [r for r in self.slowest_ops() if r["kind"] != "convolution"][:top],
        }


def format_op_times(summary: dict[str, Any]) -> str:
    """The breakdown as a sentence and a Markdown table of the convolutions furthest from their peak."""
    s, share, conv = summary["seconds"], summary["share"], summary["convolution"]

    def part(kind: str, label: str) -> str:
        return f"{label} {s[kind]:.3f} s ({100 * share[kind]:.0f} %)" if share[kind] is not None else f"{label} n/a"

    eff = (f"; the convolutions' {conv['gflop']:.1f} GFLOP would take {conv['at_peaks_s']:.3f} s at the peaks: "
           f"{100 * conv['efficiency']:.0f} %" if conv["efficiency"] is not None else "")
    plain = summary.get("untimed_step_s")
    without = f"; {plain:.3f} s without the timer" if plain is not None else ""
    lines = [f"Where the time goes (one more step, {summary['wall_s']:.3f} s with every op timed{without}): "
             f"{part('convolution', 'convolutions')}, {part('matmul', 'matmuls and attention')}, "
             f"{part('other_ops', 'other ops (element-wise, norms, resampling, optimiser)')}, "
             f"{part('outside_ops', 'outside ops (Python, autograd, the timer)')}{eff}.", ""]
    rows = summary["slowest_convolutions"]
    if rows:
        lines += ["| convolution | input | weight | stride | calls | GFLOP | s | GFLOP/s | efficiency | excess s |",
                  "|---|---|---|---|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            eff_r = "n/a" if r["efficiency"] is None else f"{100 * r['efficiency']:.0f} %"
            excess = "n/a" if r["excess_s"] is None else f"{r['excess_s']:.3f}"
            rate = "n/a" if r["gflop_per_s"] is None else f"{r['gflop_per_s']:.1f}"
            kind = r["direction"] + (" (transposed)" if r["transposed"] else "") + (
                f" g={r['groups']}" if r["groups"] != 1 else "")
            lines.append(f"| {kind} | {'×'.join(map(str, r['input']))} | {'×'.join(map(str, r['weight']))} | "
                         f"{'×'.join(map(str, r['stride']))} | {r['calls']} | {r['gflop']:.2f} | {r['seconds']:.3f} | "
                         f"{rate} | {eff_r} | {excess} |")
    others = summary.get("slowest_other_ops") or []
    if others:
        lines += ["", "Slowest ops besides convolutions: " + ", ".join(
            f"{r['op']} {r['seconds']:.3f} s ({r['calls']}×)" for r in others) + "."]
    return "\n".join(lines)
