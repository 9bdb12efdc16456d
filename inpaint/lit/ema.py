"""Exponential moving average of a generator's weights, used for evaluation when enabled.

The average is a frozen copy of the generator kept as a sub-module of the LightningModule, so it lives on the
right device, is saved in every checkpoint and restored on resume without extra code.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from inpaint.nn.torch_private import foreach_lerp_


class ModelEMA(nn.Module):
    """``θ_ema ← decay·θ_ema + (1 − decay)·θ`` after each generator step; buffers (e.g. BN statistics) are copied.

    Args:
        model: the module to track; deep-copied, put in eval mode and frozen.
        decay: the EMA decay in (0, 1), e.g. 0.999.
        warmup_steps: during the first steps use ``min(decay, (1 + n) / (10 + n))`` so early averages are not
            dominated by the random initialisation.
    """

    def __init__(self, model: nn.Module, decay: float = 0.999, warmup_steps: bool = True) -> None:
        super().__init__()
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must lie in (0, 1), got {decay!r}")
        self.decay = decay
        self.warmup_steps = warmup_steps
        self.module = copy.deepcopy(model).eval().requires_grad_(False)
        self.register_buffer("num_updates", torch.zeros((), dtype=torch.long))

    def current_decay(self) -> float:
        if not self.warmup_steps:
            return self.decay
        n = int(self.num_updates)
        return min(self.decay, (1.0 + n) / (10.0 + n))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average one step towards ``model``'s current weights."""
        decay = self.current_decay()
        ema_params = [p for p in self.module.parameters()]
        params = [p.detach() for p in model.parameters()]
        if len(ema_params) != len(params):
            raise RuntimeError("EMA copy and model have different parameter lists")
        floating = [(e, p) for e, p in zip(ema_params, params, strict=True) if e.dtype.is_floating_point]
        if floating:
            foreach_lerp_([e for e, _ in floating], [p.to(e.dtype) for e, p in floating], 1.0 - decay)
        for ema_buffer, buffer in zip(self.module.buffers(), model.buffers(), strict=True):
            ema_buffer.copy_(buffer)
        self.num_updates += 1

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def train(self, mode: bool = True) -> ModelEMA:
        # The averaged copy is only ever evaluated: keep it (and its norm layers) in eval mode.
        super().train(mode)
        self.module.eval()
        return self
