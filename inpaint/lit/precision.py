"""Which precision a run trains in: ``bf16-mixed`` where bfloat16 is native, ``32-true`` on a CPU without it.

``bf16-mixed`` (``trainer.precision``; Lightning's autocast to bfloat16 with float32 weights) runs the convolutions,
linear layers and attention in bf16 and keeps the numerically sensitive parts in float32 (:mod:`inpaint.nn.float32`).
On a GPU, and on a CPU with AVX512-BF16 or AMX (:func:`inpaint.lit.machine.bf16_support`), that is up to twice the
float32 speed. On any other CPU oneDNN emulates bf16 by converting to float32 and back — slower than float32 and
less accurate — so a run that asks for ``bf16-mixed`` there says so in one line and trains in ``32-true``
(:func:`resolve_precision`), and ``inpaint bench`` refuses to time it (:func:`require_native_bf16`).

**For tests only**: ``allow_emulated=True``, or the environment variable :data:`ALLOW_EMULATED_ENV` set to ``1``,
keeps ``bf16-mixed`` on such a CPU, so the bf16 code paths can be exercised on any machine.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import torch
from lightning.pytorch.utilities.rank_zero import rank_zero_info

from inpaint.errors import UserInputError
from inpaint.lit.machine import bf16_support, cpu_label

#: the precisions ``inpaint bench --precision`` times
PRECISIONS = ("32-true", "bf16-mixed")
#: what Lightning reads as bf16-mixed (``bf16`` is its short alias)
BF16_MIXED = ("bf16-mixed", "bf16")
#: set to ``1`` to keep bf16-mixed on a CPU without native bf16 — for tests only (it runs emulated, slowly)
ALLOW_EMULATED_ENV = "INPAINT_ALLOW_EMULATED_BF16"

_announced: set[str] = set()  # fallback messages already printed by this process (a sweep runs many trials)


def emulation_allowed(allow_emulated: bool | None = None) -> bool:
    """``allow_emulated`` when given, else whether :data:`ALLOW_EMULATED_ENV` is ``1`` (tests only)."""
    return allow_emulated if allow_emulated is not None else os.environ.get(ALLOW_EMULATED_ENV) == "1"


def trainer_device(accelerator: Any) -> torch.device | None:
    """The device type a Trainer with this ``accelerator`` will train on: ``cpu``, ``cuda`` (``gpu``/``cuda``; ``auto``
    or none when CUDA is available), or None for anything else (MPS, an Accelerator object: left as configured)."""
    name = str(accelerator).lower() if accelerator is not None else "auto"
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if name in ("gpu", "cuda", "auto"):
        return torch.device("cuda")
    return None


def fallback_message() -> str:
    """The one line a CPU run without native bf16 prints when it falls back to float32."""
    return (f"bf16-mixed is not supported on this CPU ({cpu_label()}: no AVX512-BF16 or AMX, bf16 would be emulated, "
            "slower than float32); running 32-true")


def resolve_precision(precision: Any, device: torch.device | None, allow_emulated: bool | None = None) -> Any:
    """The precision a run on ``device`` trains in: ``precision`` as configured, except ``bf16-mixed`` on a CPU
    without native bf16, which becomes ``32-true`` with one line said once per process (unless emulation is allowed:
    :func:`emulation_allowed`, for tests only). A GPU keeps ``bf16-mixed``."""
    if str(precision) not in BF16_MIXED or device is None or device.type != "cpu":
        return precision
    if bf16_support(device)[0] or emulation_allowed(allow_emulated):
        return precision
    message = fallback_message()
    if message not in _announced:
        _announced.add(message)
        rank_zero_info(message)
    return "32-true"


def require_native_bf16(device: torch.device, allow_emulated: bool | None = None) -> None:
    """Refuse to time ``bf16-mixed`` where bf16 would be emulated (:class:`UserInputError`, one line)."""
    native, why = bf16_support(device)
    if device.type == "cpu" and not native and not emulation_allowed(allow_emulated):
        raise UserInputError(f"--precision bf16-mixed: this CPU ({cpu_label()}) has no AVX512-BF16 or AMX, so bf16 "
                             f"would be emulated and the benchmark would time the emulation ({why}); use --precision "
                             "32-true")


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager[Any]:
    """The context a step runs in at ``precision``: autocast to bfloat16 for ``bf16-mixed`` (as Lightning's
    precision plugin wraps ``training_step``), nothing for ``32-true``."""
    if precision in BF16_MIXED:
        return torch.autocast(device.type, dtype=torch.bfloat16)
    if precision not in ("32-true", "32"):
        raise UserInputError(f"precision {precision!r} is not one of {', '.join(PRECISIONS)}")
    return contextlib.nullcontext()
