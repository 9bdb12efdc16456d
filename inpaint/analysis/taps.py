"""Named feature taps on a TSGL-encoder generator: read the maps the paper's figures show without touching the model.

``with EncoderTaps(generator) as taps: generator(...)`` records, for every encoder layer k = 1 … 5 (list index
k − 1), through forward hooks on the existing modules (removed again when the block ends):

* ``texture`` — F_k^T, the texture map entering layer k's reconstruction block;
* ``reconstructed`` — F̃_k^T, that block's output (what the next layer and the decoder see);
* ``structure`` — F_k^S, the structure encoder's map guiding layer k (variants with a structure encoder; F̃_k^S, the map
  reconstructed from the texture map, for a variant with structure branches, Table I(b));
* ``residual`` — R_k, the local residual structure guiding layer k (variants with a residual branch);
* ``balance_in`` / ``balance_out`` — the six maps entering and leaving the cross-layer balance module (Eq. 9–12),
  when the generator has one.

Taps hold detached tensors; a name the model does not produce stays an empty list. Hooks read the modules' inputs
and outputs only, so the forward pass — and its numbers — is unchanged (tested bit for bit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from inpaint.errors import UserInputError

TAP_NAMES: tuple[str, ...] = ("texture", "reconstructed", "structure", "residual", "balance_in", "balance_out")


class NoEncoderTapsError(UserInputError):
    """A generator without a TSGL encoder: there is nothing to tap (a user picked the wrong model for an analysis)."""


def reconstruction_blocks(generator: nn.Module) -> nn.ModuleList | None:
    """The per-layer reconstruction blocks of the generator's TSGL encoder; None when it has none."""
    blocks = getattr(getattr(generator, "encoder", None), "reconstruction", None)
    return blocks if isinstance(blocks, nn.ModuleList) else None


class EncoderTaps:
    """Context manager collecting :data:`TAP_NAMES` from one or more forward passes (module doc)."""

    def __init__(self, generator: nn.Module) -> None:
        blocks = reconstruction_blocks(generator)
        if blocks is None:
            raise NoEncoderTapsError(f"EncoderTaps needs a generator with a TSGL encoder (encoder.reconstruction), "
                                     f"got {type(generator).__name__}")
        self.blocks: Sequence[nn.Module] = list(blocks)
        self.balance: nn.Module | None = getattr(generator, "balance", None)
        self.maps: dict[str, list[torch.Tensor]] = {name: [] for name in TAP_NAMES}
        self._handles: list[Any] = []

    def _on_block_input(self, _module: nn.Module, args: tuple[Any, ...]) -> None:
        current, sources = args[0], args[1]
        self.maps["texture"].append(current.detach())
        for name in ("structure", "residual"):
            if name in sources:
                self.maps[name].append(sources[name].detach())

    def _on_block_output(self, _module: nn.Module, _args: tuple[Any, ...], output: torch.Tensor) -> None:
        self.maps["reconstructed"].append(output.detach())

    def _on_balance(self, _module: nn.Module, args: tuple[Any, ...], output: list[torch.Tensor]) -> None:
        self.maps["balance_in"].extend(f.detach() for f in args[0])
        self.maps["balance_out"].extend(f.detach() for f in output)

    def __enter__(self) -> EncoderTaps:
        for block in self.blocks:
            self._handles.append(block.register_forward_pre_hook(self._on_block_input))
            self._handles.append(block.register_forward_hook(self._on_block_output))
        if self.balance is not None:
            self._handles.append(self.balance.register_forward_hook(self._on_balance))
        return self

    def __exit__(self, *_exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
