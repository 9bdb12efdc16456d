"""Print what the numerics-sensitive tests run on: the CPU model and the oneDNN kernels PyTorch's convs use.

The same float32 convolution sums in a different order on oneDNN's AVX2 and AVX-512 kernels (and on the native
path), so a CI log should say which ran. Run with the project's Python; honours ONEDNN_MAX_CPU_ISA.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys

PROBE = ("import torch, torch.nn.functional as F; torch.set_num_threads(1); "
         "F.conv2d(torch.ones(2, 64, 32, 32), torch.ones(64, 64, 3, 3), padding=1)")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            flags = next(line for line in handle if line.startswith("flags")).split(":", 1)[1].split()
    except (OSError, StopIteration):
        return "unknown"
    wanted = [f for f in flags if f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")]
    return " ".join(wanted) or "no AVX2"


def onednn() -> tuple[str, str]:
    """oneDNN's ISA and the implementation it picked for a 3×3 float32 conv (from ONEDNN_VERBOSE)."""
    env = {**os.environ, "ONEDNN_VERBOSE": "1"}
    log = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True).stdout
    isa = re.search(r"info,cpu,isa:([^\n]*)", log)
    conv = re.search(r"exec,cpu,convolution,([^,]*)", log)
    return (isa[1] if isa else "not reported"), (conv[1] if conv else "not oneDNN")


if __name__ == "__main__":
    isa, conv = onednn()
    limit = os.environ.get("ONEDNN_MAX_CPU_ISA")
    print(f"cpu: {cpu_model()} ({os.cpu_count()} cores; {cpu_flags()})")
    print(f"oneDNN isa: {isa}; 3×3 conv kernel: {conv}" + (f" (ONEDNN_MAX_CPU_ISA={limit})" if limit else ""))
