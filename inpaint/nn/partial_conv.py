"""Partial convolution (paper Eq. 1–2; Liu et al. 2018) with the mask window sum computed once per layer.

For a window with input patch X, mask patch M and ``sum(1)`` entries::

    x' = W·(X ⊙ M) · sum(1) / sum(M) + b     if sum(M) > 0        (Eq. 1)
    x' = 0                                     otherwise
    m' = 1 if sum(M) > 0 else 0                                    (Eq. 2)

Masks are float {0, 1} with 1 = known. Two mask layouts are supported:

* single-channel (B×1×H×W): the window holds k² mask entries, shared by every input channel;
* multi-channel (B×C_in×H×W, NVIDIA's variant used by the official structure encoder): the window holds
  C_in·k² entries. When all channels of the mask are equal (always the case in TSGL, whose structure mask is
  ``concat(M, M, M)`` and whose updated masks are replicated), this gives the same ratio as the
  single-channel form, so layers keep a single-channel mask internally and :func:`mask_window` sums it
  once — one cheap pooling per layer instead of a full mask convolution per call site.

The mask update is pluggable: ``PartialConv2d(..., mask_update=rule)`` replaces Eq. 2 by any :class:`MaskUpdate`
(``rule(x, mask, geometry) → MaskWindow``), e.g. seed 003's inpainting-priority rule
(:class:`~inpaint.nn.priority_mask.PriorityMaskUpdate`). Without one the layer is the vanilla layer, bit for bit.

Under bf16 autocast the window sums and the ratio stay float32 (:mod:`inpaint.nn.float32`): a sum of C·k² mask
entries is exact in bf16 only up to 256, and Eq. 1 divides by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import torch
import torch.nn.functional as F
from torch import nn

from inpaint.nn.fir import blurred_strided_conv
from inpaint.nn.float32 import float32_island

RatioPosition = Literal["before_bias", "after_activation"]


@dataclass(frozen=True)
class MaskWindow:
    """What one partial-convolution geometry derives from a mask: the Eq. 1 scaling and the Eq. 2 new mask.

    ``ratio`` is ``sum(1)/sum(M)`` where ``sum(M) > 0`` and 0 elsewhere (so it already contains the "0 otherwise"
    case of Eq. 1); ``mask`` is the updated mask (Eq. 2). Both are B×1×H'×W'.
    """

    ratio: torch.Tensor
    mask: torch.Tensor


@dataclass(frozen=True)
class ConvGeometry:
    """The window geometry of one conv (square kernels), what a mask-update rule needs besides the tensors."""

    kernel_size: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1


class MaskUpdate(Protocol):
    """A mask-update rule: ``rule(x, mask, geometry) → MaskWindow`` (Eq. 1's ratio and the new mask).

    ``x`` is the layer's input (already multiplied by ``mask`` when the layer masks its input), ``mask`` the
    B×1×H×W known-mask. The vanilla rule (Eq. 2) is :func:`vanilla_mask_update`; it ignores ``x``.
    """

    def __call__(self, x: torch.Tensor, mask: torch.Tensor, geometry: ConvGeometry) -> MaskWindow: ...


@float32_island
def mask_window_sum(mask: torch.Tensor, geometry: ConvGeometry) -> torch.Tensor:
    """sum(M_p) per output position of a single-channel {0,1} mask: an integer count, exact in float."""
    kernel = torch.ones(1, 1, geometry.kernel_size, geometry.kernel_size, dtype=mask.dtype, device=mask.device)
    return F.conv2d(mask, kernel, stride=geometry.stride, padding=geometry.padding, dilation=geometry.dilation)


@float32_island
def mask_window(
    mask: torch.Tensor, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> MaskWindow:
    """Window sums of a {0,1} mask for one conv geometry, reduced to (ratio, new mask) — Eq. 1–2.

    A multi-channel mask is summed over channels first (its window holds C·k² entries), so the ratio is
    ``C·k² / sum`` exactly as in NVIDIA's multi-channel partial convolution.
    """
    if mask.dim() != 4:
        raise ValueError(f"mask must be B×C×H×W, got shape {tuple(mask.shape)}")
    channels = mask.shape[1]
    flat = mask.sum(dim=1, keepdim=True) if channels > 1 else mask
    kernel = torch.ones(1, 1, kernel_size, kernel_size, dtype=flat.dtype, device=flat.device)
    window_sum = F.conv2d(flat, kernel, stride=stride, padding=padding, dilation=dilation)
    window_size = float(channels * kernel_size * kernel_size)
    new_mask = (window_sum > 0.5).to(mask.dtype)  # sums are integers: > 0.5 is "> 0" without float fuzz
    ratio = window_size / window_sum.clamp(min=1.0) * new_mask
    return MaskWindow(ratio=ratio, mask=new_mask)


def vanilla_mask_update(x: torch.Tensor, mask: torch.Tensor, geometry: ConvGeometry) -> MaskWindow:
    """Eq. 2 as a :class:`MaskUpdate` (``x`` unused): what a :class:`PartialConv2d` without a rule does."""
    return mask_window(mask, geometry.kernel_size, geometry.stride, geometry.padding, geometry.dilation)


@float32_island
def concat_mask_window(
    parts: list[tuple[torch.Tensor, int]], kernel_size: int, stride: int = 1, padding: int = 0
) -> MaskWindow:
    """The window of a channel concatenation of single-channel masks, each replicated over its part's channel count
    (NVIDIA's multi-channel rule for a U-Net skip: ``concat(features, skip)`` with ``concat(mask, skip mask)``),
    without building the C-channel mask: the window holds Σ cᵢ·k² entries, of which Σ cᵢ·(window sum of mᵢ) are
    known. Every term is an integer, so the sums are exact."""
    if not parts:
        raise ValueError("concat_mask_window needs at least one (mask, channels) part")
    flat = sum(float(channels) * mask for mask, channels in parts)
    kernel = torch.ones(1, 1, kernel_size, kernel_size, dtype=flat.dtype, device=flat.device)
    window_sum = F.conv2d(flat, kernel, stride=stride, padding=padding)
    window_size = float(sum(channels for _, channels in parts) * kernel_size * kernel_size)
    new_mask = (window_sum > 0.5).to(flat.dtype)  # integer sums: > 0.5 is "> 0"
    ratio = window_size / window_sum.clamp(min=1.0) * new_mask
    return MaskWindow(ratio=ratio, mask=new_mask)


class PartialConv2d(nn.Module):
    """A partial convolution layer (Eq. 1–2), optionally followed by an activation.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, bias: as for ``nn.Conv2d``.
        activation: applied to the output (e.g. ``nn.ReLU``); ``None`` for none.
        mask_input: multiply the input by the mask (Eq. 1's X ⊙ M). The official texture branch skips this
            (its inputs are already masked); the paper's formula includes it.
        ratio_position: ``"before_bias"`` is Eq. 1 (scale the conv response, then add the bias, zero outside
            the valid windows, then activate); ``"after_activation"`` is the official texture branch
            (``act(conv(x) + b) · ratio``).
        antialias: low-pass the input with the [1, 3, 3, 1] FIR filter before a stride-2 conv
            (:mod:`inpaint.nn.fir`, the official texture branch); the mask window keeps the plain conv's geometry.
        mask_update: a :class:`MaskUpdate` replacing Eq. 2 (it sees the masked input, so it may depend on the
            features, as seed 003's priority rule does); ``None`` (default) is the vanilla rule.

    ``forward(x, mask, window=None)`` returns ``(y, new_mask)``; pass a precomputed :class:`MaskWindow` when
    several layers share one geometry on the same mask, so the mask sum is computed once (a precomputed window
    is used as given, bypassing ``mask_update``).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        bias: bool = True,
        activation: nn.Module | None = None,
        mask_input: bool = True,
        ratio_position: RatioPosition = "before_bias",
        antialias: bool = False,
        mask_update: MaskUpdate | None = None,
    ) -> None:
        super().__init__()
        if antialias and (stride != 2 or kernel_size % 2 == 0 or padding != kernel_size // 2 or dilation != 1):
            raise ValueError("antialias applies to odd-kernel stride-2 convs with 'same' padding only, got "
                             f"kernel {kernel_size}, stride {stride}, padding {padding}, dilation {dilation}")
        if ratio_position not in ("before_bias", "after_activation"):
            raise ValueError(f"ratio_position must be 'before_bias' or 'after_activation', got {ratio_position!r}")
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, dilation=dilation, bias=bias
        )
        self.activation = activation if activation is not None else nn.Identity()
        self.mask_input = mask_input
        self.ratio_position = ratio_position
        self.antialias = antialias
        self.mask_update = mask_update

    def response(self, x: torch.Tensor, bias: bool = True) -> torch.Tensor:
        """The conv's response to ``x`` (anti-aliased when so configured), with or without its bias."""
        conv = self.conv
        b = conv.bias if bias else None
        if self.antialias:
            return blurred_strided_conv(x, conv.weight, b, conv.stride[0], conv.padding[0])
        return F.conv2d(x, conv.weight, b, conv.stride, conv.padding, conv.dilation)

    def plain(self, x: torch.Tensor) -> torch.Tensor:
        """The layer as an ordinary conv + activation: no mask, no ratio (the official unmasked stage 5)."""
        return self.activation(self.response(x))

    @property
    def geometry(self) -> ConvGeometry:
        conv = self.conv
        return ConvGeometry(conv.kernel_size[0], conv.stride[0], conv.padding[0], conv.dilation[0])

    def window(self, mask: torch.Tensor, x: torch.Tensor | None = None) -> MaskWindow:
        """The (ratio, new mask) of this layer's geometry for ``mask`` (and the input ``x`` a mask rule may read)."""
        conv = self.conv
        if self.mask_update is None:
            return mask_window(mask, conv.kernel_size[0], conv.stride[0], conv.padding[0], conv.dilation[0])
        if x is None:
            raise ValueError("PartialConv2d.window: this layer's mask_update reads the input; pass x")
        return self.mask_update(x, mask, self.geometry)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, window: MaskWindow | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.mask_input:
            x = x * mask
        if window is None:
            window = self.window(mask, x)
        if self.ratio_position == "after_activation":
            y = self.activation(self.response(x)) * window.ratio
            return y, window.mask
        y = self.response(x, bias=False) * window.ratio
        if self.conv.bias is not None:
            y = y + self.conv.bias.view(1, -1, 1, 1) * window.mask
        return self.activation(y), window.mask
