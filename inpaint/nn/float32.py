"""float32 islands inside a mixed-precision (``bf16-mixed``) forward.

Under ``torch.autocast`` only the matrix products (convolutions, linear layers, matmuls, attention) are cast to
bfloat16; every other op runs in the dtype of its inputs — which, right after a bf16 convolution, is bf16. So a
normalisation's mean and variance, a division by a window sum or a threshold on one would silently run on 8-bit
significands. A function decorated with :func:`float32_island` runs with autocast switched off and its
floating-point tensor arguments (also inside lists, tuples and dicts) cast to float32; its results stay float32
(the next convolution casts them to bf16 again, as autocast always does).

Without autocast (every float32 run) the function is called exactly as written — no cast, no copy — so float32
results are bit for bit those of the undecorated function.

A backward pass must run outside autocast (:func:`outside_autocast`): on the CPU autograd runs backward in the
calling thread with its autocast state, so a ``loss.backward()`` inside the autocast region would cast the backward
matmuls of the float32 islands to bf16 again (measured on a 64×64 float32 product: its gradient, of
magnitude ≈ 8, then moves by up to 0.05).
Lightning calls ``manual_backward`` inside ``training_step``, that is inside its autocast region; the shared GAN step
therefore runs its backward calls in :func:`outside_autocast`.

What the suite keeps in float32 this way (docs/performance.md, "bf16-mixed"): normalisation statistics (instance,
local and global norms), the partial convolutions' mask window sums and their ratio (Eq. 1's division and Eq. 2's
threshold), the balance module's stream divisors and its equalisation (a division by a Gaussian window's sum, two
softmax-normalised averages), the attention's token L2 normalisation, and the losses.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import torch

Fn = TypeVar("Fn", bound=Callable[..., Any])


def _first_tensor(value: Any) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list | tuple) else ()
    for item in items:
        found = _first_tensor(item)
        if found is not None:
            return found
    return None


def to_float32(value: Any) -> Any:
    """``value`` with every floating-point tensor in it (nested lists, tuples, dicts) as float32; other values as
    they are."""
    if isinstance(value, torch.Tensor):
        return value.float() if value.is_floating_point() else value
    if isinstance(value, dict):
        return {key: to_float32(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        items = [to_float32(item) for item in value]
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)  # a named tuple, or not
    return value


def autocast_active(device_type: str) -> bool:
    """Whether autocast casts ops on ``device_type`` right now (never on a device it has no mode for, such as the
    ``meta`` tensors the complexity counter runs on)."""
    try:
        return torch.is_autocast_enabled(device_type)
    except RuntimeError:  # "unknown device type for autocast"
        return False


def float32_island(fn: Fn) -> Fn:
    """Run ``fn`` in float32 when autocast is on for its tensors' device (module docstring); else call it as is."""

    @functools.wraps(fn)
    def island(*args: Any, **kwargs: Any) -> Any:
        tensor = _first_tensor(args) if args else None
        tensor = tensor if tensor is not None else _first_tensor(kwargs)
        if tensor is None or not autocast_active(tensor.device.type):
            return fn(*args, **kwargs)
        with torch.autocast(tensor.device.type, enabled=False):
            return fn(*to_float32(args), **to_float32(kwargs))

    return island  # type: ignore[return-value]


def outside_autocast(device_type: str) -> contextlib.AbstractContextManager[Any]:
    """Autocast switched off for ``device_type`` while inside (for a backward pass: each backward op then runs in its
    forward op's dtype, autocast's documented semantics); nothing at all when autocast is off already."""
    if not autocast_active(device_type):
        return contextlib.nullcontext()
    return torch.autocast(device_type, enabled=False)
