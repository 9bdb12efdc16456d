"""What a measurement ran on, named the same way everywhere (``inpaint bench``, a trial's cost record): the CPU as
``/proc/cpuinfo`` names it with the ISA torch's kernels use, or the GPU's name; whether bfloat16 is native; and the
process's peak resident memory."""

from __future__ import annotations

import platform
import resource
import sys

import torch


def _cpuinfo_field(key: str) -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            return next((line.split(":", 1)[1].strip() for line in handle if line.startswith(key)), "")
    except OSError:  # not Linux
        return ""


def cpu_label() -> str:
    """The CPU as ``/proc/cpuinfo`` names it, with the architecture and the ISA torch's kernels use, e.g.
    ``AMD EPYC (x86_64, AVX2)``."""
    name = _cpuinfo_field("model name")
    return f"{name or platform.processor() or 'unknown CPU'} ({platform.machine()}, " \
           f"{torch.backends.cpu.get_cpu_capability()})"


def device_label(device: torch.device) -> str:
    """The GPU's name on CUDA, else :func:`cpu_label`."""
    return torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_label()


#: CPU flags of native bfloat16 arithmetic (AVX512-BF16 dot products, AMX tiles).
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def bf16_support(device: torch.device) -> tuple[bool, str]:
    """(native bf16?, why): a GPU that reports bf16 support, or a CPU with one of :data:`BF16_CPU_FLAGS`. Elsewhere
    bf16 runs emulated — slower than float32, so neither a peak nor a mixed-precision run is worth measuring."""
    if device.type == "cuda":
        ok = torch.cuda.is_bf16_supported()
        return ok, f"{torch.cuda.get_device_name(device)}: bf16 {'supported' if ok else 'not supported'}"
    flags = set(_cpuinfo_field("flags").split())
    found = [flag for flag in BF16_CPU_FLAGS if flag in flags]
    if found:
        return True, f"native bf16 on this CPU ({', '.join(found)})"
    return False, "no AVX512-BF16 or AMX on this CPU: bf16 would be emulated, not measured"


def peak_rss_mib() -> float:
    """This process's peak resident memory in MiB: the high-water mark of its own address space (``VmHWM``).

    Not ``ru_maxrss``: Linux carries the parent's peak into a child started by vfork + exec, as Python's
    ``subprocess`` starts one, so a bench process started by a large one (``inpaint bench --versus``, a sweep) would
    report its parent's size. ``ru_maxrss`` only where ``/proc`` is missing (KiB on Linux, bytes on macOS)."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024.0
