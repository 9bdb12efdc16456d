"""Where a training step's memory peaks: resident memory sampled on a thread while the modules name the region
(``inpaint bench --memory-regions``, issue 28).

A process's peak RSS says how much, not where. :class:`MemoryRegions` samples the memory every ``interval_s``
(CPU: the process's resident set from ``/proc/self/statm``; CUDA: ``torch.cuda.memory_allocated``) and tags each
sample with the region running at that moment: the last module (down to ``depth`` levels below each named root)
whose forward or backward began. A forward that starts inside backward is a recomputation (activation
checkpointing replays the block), so it is tagged ``replay``.

Sampling cannot see a peak shorter than the interval, so a region's figure is a lower bound; the memory of glibc's
tuned settings (``make``'s ``MALLOC_*``) also stays resident after it is freed, so regions after the peak can show
the peak again. The *first* region reaching the step's maximum is where the memory was needed.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from inpaint.errors import UserInputError


def resident_mib() -> float:
    """This process's resident set in MiB (Linux)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except OSError as err:
        raise UserInputError(f"--memory-regions reads /proc/self/statm, which this system lacks ({err})") from err
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_reader(device: torch.device) -> Callable[[], float]:
    """MiB in use: the process's resident set on the CPU, the caching allocator's live tensors on CUDA."""
    if device.type == "cuda":
        return lambda: torch.cuda.memory_allocated(device) / 2**20
    resident_mib()  # refuse early where it cannot be read
    return resident_mib


def _inside_backward() -> bool:
    return torch._C._current_graph_task_id() != -1


@dataclass
class Region:
    name: str  # "forward G.encoder", "backward G.balance", "replay G.decoder.blocks.1"
    first_s: float  # seconds from the start of sampling to this region's first sample
    peak_mib: float


class MemoryRegions:
    """Context manager: sample memory while the modules of ``roots`` (``{"G": generator, "D": discriminator}``)
    name the region; :meth:`summary` afterwards.

    Args:
        roots: named modules whose submodules tag the samples (the roots themselves tag as the bare name).
        depth: submodules up to this many levels below a root tag their own region (deeper ones count for their
            ancestor at that depth).
        interval_s: sampling period.
        read: memory in MiB now (default: the process's resident set).
    """

    def __init__(self, roots: Mapping[str, nn.Module], depth: int = 2, interval_s: float = 0.002,
                 read: Callable[[], float] = resident_mib) -> None:
        if depth < 0:
            raise ValueError(f"depth must be >= 0, got {depth}")
        self.roots = dict(roots)
        self.depth = depth
        self.interval_s = interval_s
        self.read = read
        self._label = "outside"
        self._samples: list[tuple[float, float, str]] = []
        self._handles: list[Any] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _tag(self, name: str) -> Callable[..., None]:
        def on_forward(*_: Any) -> None:
            self._label = ("replay " if _inside_backward() else "forward ") + name

        return on_forward

    def _tag_backward(self, name: str) -> Callable[..., None]:
        def on_backward(*_: Any) -> None:
            self._label = "backward " + name

        return on_backward

    def _sample(self) -> None:
        start = time.perf_counter()
        while not self._stop.is_set():
            self._samples.append((time.perf_counter() - start, self.read(), self._label))
            time.sleep(self.interval_s)
        self._samples.append((time.perf_counter() - start, self.read(), self._label))

    def __enter__(self) -> MemoryRegions:
        for root, module in self.roots.items():
            for name, sub in module.named_modules():
                if name.count(".") >= self.depth:
                    continue
                full = f"{root}.{name}" if name else root
                self._handles.append(sub.register_forward_pre_hook(self._tag(full)))
                self._handles.append(sub.register_full_backward_pre_hook(self._tag_backward(full)))
        self._samples = []
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, name="memory-regions", daemon=True)
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        # a full backward hook cannot fire on a module whose output is not a tensor (a list of maps, a dataclass);
        # its backward then counts for the region before it, which is all this sampler needs
        warnings.filterwarnings("ignore", message="For backward hooks to be called")
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._warnings.__exit__(*exc)
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def regions(self) -> list[Region]:
        """Every region in the order it first ran, with the highest memory sampled while it ran."""
        found: dict[str, Region] = {}
        for t, mib, label in self._samples:
            region = found.setdefault(label, Region(label, t, mib))
            region.peak_mib = max(region.peak_mib, mib)
        return list(found.values())

    def summary(self, top: int = 12) -> dict[str, Any]:
        """JSON-ready: memory at the start, the peak and the first region that reached it, and the ``top``
        regions by peak (each with its peak and its rise over the start)."""
        if not self._samples:
            raise RuntimeError("MemoryRegions.summary() before any sampling")
        start = self._samples[0][1]
        peak = max(mib for _, mib, _ in self._samples)
        first_at_peak = next(label for _, mib, label in self._samples if mib == peak)
        ranked = sorted(self.regions(), key=lambda r: (-r.peak_mib, r.first_s))[:top]
        return {
            "start_mib": round(start, 1),
            "peak_mib": round(peak, 1),
            "peak_region": first_at_peak,
            "samples": len(self._samples),
            "interval_s": self.interval_s,
            "depth": self.depth,
            "regions": [{"region": r.name, "peak_mib": round(r.peak_mib, 1),
                         "above_start_mib": round(r.peak_mib - start, 1), "first_s": round(r.first_s, 3)}
                        for r in ranked],
        }


def format_memory_regions(summary: Mapping[str, Any]) -> str:
    """The summary as a markdown table (regions by peak)."""
    lines = [f"memory at the step's start {summary['start_mib']:.0f} MiB, peak {summary['peak_mib']:.0f} MiB, "
             f"first reached in `{summary['peak_region']}`",
             "", "| region | peak MiB | above start | first at (s) |", "|---|---:|---:|---:|"]
    for r in summary["regions"]:
        lines.append(f"| {r['region']} | {r['peak_mib']:.0f} | {r['above_start_mib']:+.0f} | {r['first_s']:.2f} |")
    return "\n".join(lines)
