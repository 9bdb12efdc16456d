"""Attention paid to holes (issue 17, T17's optional figure): for every query token of a masked-attention block, the
share of its attention that lands on invalid key tokens.

``hole_attention(layer, x, mask)`` = Σ_{j invalid} softmax(Q Kᵀ/√d + bias)_{ij}, averaged over heads, for every query
i, as a B×1×H×W map on the block's token grid — computed with the block's own window partition, shift and key bias
(the τ term included) through the explicit-softmax reference path
(:meth:`~inpaint.nn.attention.WindowAttention.attention_weights`). Padding tokens are excluded from the keys by the
bias and are not counted as invalid. What to expect: in a window that is partly invalid τ drives the share towards
0 (Eq. 4); in a window with no valid key it is 1 whatever τ is; with τ = 0 it is whatever the logits give.

:class:`HoleAttentionTaps` records the input of every masked-attention block during one forward (pre-hooks) and
computes the maps afterwards, so the forward itself is untouched.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from inpaint.nn.attention import MaskedWindowAttentionLayer


def hole_attention(layer: MaskedWindowAttentionLayer, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """B×1×H×W: each query token's attention mass on invalid keys (head mean; module docstring)."""
    b, _, h, w = x.shape
    windows, key_bias, valid_w = layer.attention_windows(x, mask)
    assert valid_w is not None
    weights = layer.block.attention.attention_weights(windows, key_bias)  # (B·nW)×heads×N×N
    inside = torch.ones(h, w, dtype=x.dtype, device=x.device)[None, None]
    inside_w = layer.windowed_validity(inside.expand(b, 1, h, w))  # 1 on the map, 0 on padding
    invalid_keys = inside_w * (1.0 - valid_w)  # (B·nW)×N
    mass = (weights * invalid_keys[:, None, None, :]).sum(-1).mean(1)  # (B·nW)×N
    return layer.merge_windows(mass[..., None], b, h, w)


class HoleAttentionTaps:
    """``with HoleAttentionTaps(model) as taps: model(...)``; then :meth:`maps` → {block name: B×1×H×W map} for every
    block that ran with a mask (first call of each block)."""

    def __init__(self, model: nn.Module) -> None:
        self.layers = {name: m for name, m in model.named_modules() if isinstance(m, MaskedWindowAttentionLayer)}
        self.inputs: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self._handles: list[Any] = []

    def __enter__(self) -> HoleAttentionTaps:
        for name, layer in self.layers.items():
            self._handles.append(layer.register_forward_pre_hook(self._hook(name)))
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _hook(self, name: str):
        def hook(layer: nn.Module, args: tuple[Any, ...]) -> None:
            if name not in self.inputs and len(args) > 1 and args[1] is not None:
                self.inputs[name] = (args[0].detach(), args[1].detach())
        return hook

    def maps(self) -> dict[str, torch.Tensor]:
        """Each recorded block's :func:`hole_attention` map, in module order."""
        with torch.no_grad():
            return {name: hole_attention(self.layers[name], *self.inputs[name])
                    for name in self.layers if name in self.inputs}
