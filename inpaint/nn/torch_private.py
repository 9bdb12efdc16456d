"""PyTorch internals the suite relies on, each reached in exactly one place.

``torch._foreach_lerp_`` updates a whole EMA copy in one fused call (the public ``Tensor.lerp_`` needs one call per
tensor), activation recomputation must recognise spectral norm's parametrisation module, and ``flop_counter`` needs
the names of the CPU flash-attention kernels that ``scaled_dot_product_attention``
dispatches to, which are private ATen operators. Each accessor raises a ``RuntimeError`` naming the installed torch
version when the internal is gone, and the first use warns once when the version lies outside the range the suite
was tested with (``TESTED_TORCH``; ``constraints.txt`` pins the one CI runs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from inpaint.tested_versions import TestedRange

#: torch versions the suite's tests passed with: [low, high). Only the pin (2.14.1) was run.
TESTED_TORCH = TestedRange(torch, "2.14", "2.15")


def _private(owner: Any, name: str, where: str, what: str) -> Any:
    return TESTED_TORCH.attribute(owner, name, where, what)


def foreach_lerp_(targets: Sequence[torch.Tensor], ends: Sequence[torch.Tensor], weight: float) -> None:
    """``t ← t + weight·(end − t)`` for every pair, in place and fused (``torch._foreach_lerp_``)."""
    lerp = _private(torch, "_foreach_lerp_", "torch", "the fused in-place lerp over tensor lists")
    lerp(list(targets), list(ends), weight)


def spectral_norm_parametrization() -> type:
    """The module class ``torch.nn.utils.parametrizations.spectral_norm`` registers (it runs the power iteration in
    training mode; activation recomputation replays it in eval mode)."""
    from torch.nn.utils import parametrizations

    return _private(parametrizations, "_SpectralNorm", "torch.nn.utils.parametrizations",
                    "the spectral-norm parametrisation module")


def cpu_flash_attention_ops() -> tuple[Any, Any]:
    """The forward and backward ATen operators of the CPU flash-attention kernel (for ``FlopCounterMode`` formulas)."""
    aten = torch.ops.aten
    what = "the CPU flash-attention kernel"
    return (_private(aten, "_scaled_dot_product_flash_attention_for_cpu", "torch.ops.aten", what),
            _private(aten, "_scaled_dot_product_flash_attention_for_cpu_backward", "torch.ops.aten", what))


def dispatch_mode_base() -> type:
    """``TorchDispatchMode``: the base of a mode that sees every ATen op a computation runs, backward included
    (``inpaint bench --roofline`` times each op with it, :mod:`inpaint.lit.op_times`)."""
    from torch.utils import _python_dispatch

    return _private(_python_dispatch, "TorchDispatchMode", "torch.utils._python_dispatch",
                    "the dispatch mode that sees every ATen op")


__all__ = ["TESTED_TORCH", "cpu_flash_attention_ops", "dispatch_mode_base", "foreach_lerp_",
           "spectral_norm_parametrization"]
