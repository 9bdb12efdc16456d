"""Where τ can act: a census of the token masks each masked-attention block sees (issue 17, Fig. 23).

τ (Eq. 4) lowers the logits of invalid keys by the same amount inside a window. In a window whose tokens are all
valid it adds nothing, and in one whose tokens are all invalid it shifts every logit equally, which the softmax
cancels. So τ changes a block's output only in windows that are *partly* invalid. The census counts, per
:class:`~inpaint.nn.attention.MaskedWindowAttentionLayer` (padding tokens excluded, windows after the block's
cyclic shift):

* ``masked_key_fraction`` — invalid tokens / tokens on the map (the share of keys τ pushes down);
* ``partly_invalid_window_fraction`` — windows with at least one valid and one invalid token / all windows (the
  share of windows where τ can change anything);
* ``all_invalid_window_fraction`` — windows with no valid token (τ is inert there too).

Counts are integers summed over every image the hooks saw, so the fractions do not depend on batching.
Blocks that run without a mask (the official code's unmasked last stage) are listed with ``masked = False``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from inpaint.nn.attention import MaskedWindowAttentionLayer, window_inside


def block_label(name: str) -> str:
    """``generator.encoder.stages.0.blocks.1`` → ``stage 2 · block 2`` (TSGL's texture stages are 2–5)."""
    found = re.search(r"stages\.(\d+)\.blocks\.(\d+)$", name)
    return f"stage {int(found[1]) + 2} · block {int(found[2]) + 1}" if found else name


@dataclass
class BlockCensus:
    """Integer counts of one attention block over every image seen (module docstring)."""

    block: str
    tokens_h: int = 0
    tokens_w: int = 0
    window: int = 0
    masked: bool = True
    calls: int = 0
    images: int = 0
    tokens: int = 0
    invalid_tokens: int = 0
    windows: int = 0
    partly_invalid_windows: int = 0
    all_invalid_windows: int = 0

    @staticmethod
    def _ratio(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def masked_key_fraction(self) -> float | None:
        return self._ratio(self.invalid_tokens, self.tokens)

    @property
    def partly_invalid_window_fraction(self) -> float | None:
        return self._ratio(self.partly_invalid_windows, self.windows)

    @property
    def all_invalid_window_fraction(self) -> float | None:
        return self._ratio(self.all_invalid_windows, self.windows)

    def as_dict(self) -> dict[str, Any]:
        """The counts plus the three fractions (JSON-ready)."""
        return {**asdict(self), "masked_key_fraction": self.masked_key_fraction,
                "partly_invalid_window_fraction": self.partly_invalid_window_fraction,
                "all_invalid_window_fraction": self.all_invalid_window_fraction}

    def add(self, layer: MaskedWindowAttentionLayer, tokens: torch.Tensor, mask: torch.Tensor | None) -> None:
        """Count the windows ``layer`` forms on its B×C×H×W input ``tokens`` with the B×1×H×W token ``mask``
        (None: the block runs unmasked, nothing to count)."""
        self.tokens_h, self.tokens_w = int(tokens.shape[-2]), int(tokens.shape[-1])
        window, shift, _, _ = layer.window_geometry(self.tokens_h, self.tokens_w)
        self.window = window
        self.calls += 1
        b = int(tokens.shape[0])
        self.images += b
        if mask is None:
            self.masked = False
            return
        inside = window_inside(self.tokens_h, self.tokens_w, window, shift, mask.device)  # nW×N
        valid = layer.windowed_validity(mask.detach()).view(b, *inside.shape) > 0.5  # B×nW×N (padding: False)
        invalid = inside[None] & ~valid
        valid_in_window, invalid_in_window = valid.sum(-1), invalid.sum(-1)  # B×nW
        self.tokens += b * int(inside.sum())
        self.invalid_tokens += int(invalid.sum())
        self.windows += int(valid_in_window.numel())
        self.partly_invalid_windows += int(((valid_in_window > 0) & (invalid_in_window > 0)).sum())
        self.all_invalid_windows += int((valid_in_window == 0).sum())


class TokenMaskCensus:
    """Forward pre-hooks on every masked-attention block of ``model`` that add each call's token mask to a
    :class:`BlockCensus` (one per block, in module order). Use as ``with census.recording(): model(...)``."""

    def __init__(self, model: nn.Module) -> None:
        self.layers = {name: m for name, m in model.named_modules() if isinstance(m, MaskedWindowAttentionLayer)}
        self.blocks = {name: BlockCensus(name) for name in self.layers}

    def __bool__(self) -> bool:
        return bool(self.layers)

    @contextmanager
    def recording(self) -> Iterator[TokenMaskCensus]:
        handles = [layer.register_forward_pre_hook(self._hook(name)) for name, layer in self.layers.items()]
        try:
            yield self
        finally:
            for handle in handles:
                handle.remove()

    def _hook(self, name: str):
        def hook(layer: MaskedWindowAttentionLayer, args: tuple[Any, ...]) -> None:
            self.blocks[name].add(layer, args[0], args[1] if len(args) > 1 else None)
        return hook

    def as_list(self) -> list[dict[str, Any]]:
        """The counts and fractions of every block that ran, in module order (JSON-ready); blocks of a copy that
        never ran (e.g. the raw weights beside an EMA copy) are left out."""
        return [census.as_dict() for census in self.blocks.values() if census.calls]
