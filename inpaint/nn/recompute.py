"""Activation recomputation: keep only a block's inputs in the forward pass and run the block again in backward
(``torch.utils.checkpoint``, non-reentrant), trading compute for memory (issue 28).

A replayed block must compute exactly what it computed the first time, and leave no trace. Two of the suite's
layers change state in a training forward, so the replay runs them differently:

* **spectral norm** runs a power iteration per training forward. The replay runs its parametrisation in eval mode:
  then it uses the stored ``u``, ``v`` — the vectors the first forward left behind and normalised the weight with —
  so the replayed weight is the same tensor and the vectors advance once per step, as without recomputation;
* **batch norm** updates its running statistics per training forward. The replay still normalises with the batch's
  statistics (training mode) but its buffers are restored afterwards, so they are updated once per step.

Tested: gradients, running statistics and spectral-norm vectors equal those of the plain step.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from inpaint.errors import UserInputError
from inpaint.nn.torch_private import spectral_norm_parametrization


def _spectral_norms(block: nn.Module) -> list[nn.Module]:
    kind = spectral_norm_parametrization()
    return [m for m in block.modules() if isinstance(m, kind)]


@contextlib.contextmanager
def _replay(block: nn.Module) -> Iterator[None]:
    """The replay's context: spectral-norm parametrisations in eval mode, batch-norm buffers restored."""
    norms = [m for m in block.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [{name: buf.clone() for name, buf in m.named_buffers(recurse=False) if buf is not None} for m in norms]
    spectral = [m for m in _spectral_norms(block) if m.training]
    for m in spectral:
        m.train(False)
    try:
        yield
    finally:
        for m in spectral:
            m.train(True)
        with torch.no_grad():
            for m, buffers in zip(norms, saved):
                for name, value in buffers.items():
                    getattr(m, name).copy_(value)


def _recomputed_forward(block: nn.Module, forward: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    if not (block.training and torch.is_grad_enabled()):
        return forward(*args, **kwargs)
    return checkpoint(forward, *args, use_reentrant=False,
                      context_fn=lambda: (contextlib.nullcontext(), _replay(block)), **kwargs)


def recompute_blocks(model: nn.Module, block_types: tuple[type[nn.Module], ...]) -> list[str]:
    """Make every outermost instance of ``block_types`` in ``model`` recompute its activations in backward (training
    with grad only; eval and no-grad forwards are untouched). Returns the names of the wrapped blocks."""
    wrapped: list[str] = []
    for name, module in model.named_modules():
        if not isinstance(module, block_types) or any(name.startswith(w + ".") for w in wrapped):
            continue
        if getattr(module, "_recomputes", False):
            wrapped.append(name)
            continue
        module.forward = functools.partial(_recomputed_forward, module, module.forward)  # type: ignore[method-assign]
        module._recomputes = True  # type: ignore[assignment]
        wrapped.append(name)
    return wrapped


def enable_recompute(generator: nn.Module) -> list[str]:
    """:func:`recompute_blocks` over the block types the generator names as its heavy ones (its class attribute
    ``recompute_blocks``); an error for a generator that names none."""
    block_types = tuple(getattr(generator, "recompute_blocks", ()))
    wrapped = recompute_blocks(generator, block_types) if block_types else []
    if not wrapped:
        raise UserInputError(f"model.recompute_activations: {type(generator).__name__} names no blocks to recompute "
                             "(its recompute_blocks); set recompute_activations: false")
    return wrapped
