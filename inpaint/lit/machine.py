"""What a measurement ran on, named the same way everywhere (``inpaint bench``, a trial's cost record): the CPU as
``/proc/cpuinfo`` names it with the ISA torch's kernels use, or the GPU's name; and whether bfloat16 is native."""

from __future__ import annotations

import platform

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
