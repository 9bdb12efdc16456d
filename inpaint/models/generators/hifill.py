"""HiFill (Yi et al., CVPR 2020, "Contextual Residual Aggregation for Ultra High-Resolution Image Inpainting").

Native coarse-to-fine generator built only from light-weight gated convolutions (:mod:`inpaint.nn.gated_conv`),
following the first author's trainable re-implementation (the official release is a frozen inference graph):

* coarse network (single-channel gates): runs at the input size, or at input/f with the smallest integer f that
  brings the longer side to ≤ ``coarse_max_side`` (HiFill: 512 → 256); 5×5/2 and 3×3/2 downs, 14 dilated
  3×3 convs at 1/4 (d = 1,1,1,2,2,2,2,2,4,4,4,4,8,8), two gated up layers to RGB;
* refine network (pixel-wise gates by default) on the coarse composite: encoder F1 (1/2), F2 (1/4), F3 (1/8),
  a dilated block (d = 1, 2, 4, 8, 16), the attention computing module on the 1/16 grid
  (:class:`~inpaint.nn.contextual_attention.ContextualAttention`), and a decoder in which the same attention is
  transferred to F2 and F1 (attention transfer modules) before each skip concatenation.

Outputs are clipped to [-1, 1] as in HiFill. ``extras["coarse"]`` is the coarse prediction at the input size.
For ultra-high-resolution images use :meth:`HiFillGenerator.inpaint_high_resolution` (CRA, paper Sec. 3.1).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from inpaint.conventions import composite, is_known, known_mask
from inpaint.models.generators.host_interface import (
    DecoderSpec,
    FeatureSlot,
    check_host_inputs,
    masked_input,
)
from inpaint.models.interface import GeneratorOutput, InpaintGenerator
from inpaint.nn.contextual_attention import ContextualAttention, contextual_residual_aggregation, transfer_to_level
from inpaint.nn.gated_conv import GatedInit, GatedUpConv2d, GateKind, LightweightGatedConv2d, init_gated_convs

#: base width per profile: paper = HiFill's nc 32 (coarse) and 32/64/128 (refine); small = a quarter.
HIFILL_BASE_WIDTH: dict[str, int] = {"paper": 32, "small": 8}
COARSE_DILATIONS: tuple[int, ...] = (1, 1, 1, 2, 2, 2, 2, 2, 4, 4, 4, 4, 8, 8)
REFINE_DILATIONS: tuple[int, ...] = (1, 2, 4, 8, 16)
#: the attention grid is input/16 (refine bottleneck at 1/8, subsampled by 2 in the ACM).
ATTENTION_STRIDE = 16


class HiFillCoarseNet(nn.Module):
    """HiFill's coarse network (LWGC_sc throughout): 4-channel input → 3-channel prediction, same size."""

    def __init__(self, base: int, *, dilations: tuple[int, ...] = COARSE_DILATIONS, gate: GateKind = "single") -> None:
        super().__init__()
        c1, c2 = base, 2 * base

        def conv(cin: int, cout: int, k: int = 3, stride: int = 1, dilation: int = 1) -> nn.Module:
            return LightweightGatedConv2d(cin, cout, k, stride=stride, dilation=dilation, gate=gate)

        self.body = nn.Sequential(
            conv(4, c1, 5, stride=2),
            conv(c1, c1),
            conv(c1, c2, stride=2),
            *[conv(c2, c2) for _ in range(3)],
            *[conv(c2, c2, dilation=d) for d in dilations],
            *[conv(c2, c2) for _ in range(3)],
            GatedUpConv2d(c2, c1, gate=gate),
            conv(c1, c1),
            GatedUpConv2d(c1, 3, gate=gate),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).clamp(-1.0, 1.0)


class HiFillRefineEncoder(nn.Module):
    """The refine network's encoder: ``{"f1": 1/2, "f2": 1/4, "f3": 1/8}`` (the part an encoder swap replaces)."""

    def __init__(self, widths: tuple[int, int, int], *, gate: GateKind = "pixel") -> None:
        super().__init__()
        stages = []
        previous = 4
        for width in widths:
            stages.append(
                nn.Sequential(
                    LightweightGatedConv2d(previous, width, 3, stride=2, gate=gate),
                    LightweightGatedConv2d(width, width, 3, gate=gate),
                )
            )
            previous = width
        self.stages = nn.ModuleList(stages)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        features = {}
        for index, stage in enumerate(self.stages, start=1):
            x = stage(x)
            features[f"f{index}"] = x
        return features


class HiFillRefineDecoder(nn.Module):
    """Dilated block + ACM + decoder with ATMs. Consumes :attr:`spec` (F1, F2, F3) and the known-mask."""

    def __init__(
        self,
        widths: tuple[int, int, int],
        *,
        gate: GateKind = "pixel",
        dilations: tuple[int, ...] = REFINE_DILATIONS,
        attention: ContextualAttention | None = None,
    ) -> None:
        super().__init__()
        c1, c2, c3 = widths
        self.spec = DecoderSpec((FeatureSlot("f1", 2, c1), FeatureSlot("f2", 4, c2), FeatureSlot("f3", 8, c3)))

        def conv(cin: int, cout: int, dilation: int = 1) -> LightweightGatedConv2d:
            return LightweightGatedConv2d(cin, cout, 3, dilation=dilation, gate=gate)

        self.dilated = nn.Sequential(*[conv(c3, c3, d) for d in dilations])
        self.attention = attention if attention is not None else ContextualAttention()
        self.attended = conv(c3, c3)
        self.merge = conv(2 * c3, c3)
        self.up2 = nn.Sequential(GatedUpConv2d(c3, c2, gate=gate), conv(c2, c2))
        self.transfer2 = nn.Sequential(conv(c2, c2, 1), conv(c2, c2, 2))
        self.up1 = nn.Sequential(GatedUpConv2d(2 * c2, c1, gate=gate), conv(c1, c1))
        self.transfer1 = nn.Sequential(conv(c1, c1, 1), conv(c1, c1, 2))
        self.to_rgb = GatedUpConv2d(2 * c1, 3, gate=gate)

    def forward(self, features: dict[str, torch.Tensor], known: torch.Tensor) -> GeneratorOutput:
        """Prediction in [-1, 1]; ``extras["attention"]`` is the B×L×L attention over the input/16 grid."""
        height, width = known.shape[-2:]
        self.spec.check(features, height, width, "HiFill")
        bottleneck = self.dilated(features["f3"])
        attention, pasted = self.attention(bottleneck, known)
        x = self.merge(torch.cat([bottleneck, self.attended(pasted)], dim=1))
        grid = (bottleneck.shape[-2] // 2, bottleneck.shape[-1] // 2)
        x = self.up2(x)
        x = torch.cat([self.transfer2(transfer_to_level(features["f2"], attention, grid)), x], dim=1)
        x = self.up1(x)
        x = torch.cat([self.transfer1(transfer_to_level(features["f1"], attention, grid)), x], dim=1)
        return GeneratorOutput(image=self.to_rgb(x).clamp(-1.0, 1.0), extras={"attention": attention})


class HiFillGenerator(InpaintGenerator):
    """Native HiFill generator (see module doc). Sides must be multiples of 32 (the 1/16 grid must be even).

    Args:
        size: ``"paper"`` (HiFill's widths, 2.72 M params) or ``"small"`` (quarter widths for CPU runs).
        keep_coarse: run the coarse network first (HiFill); off = the refine network alone on the masked image.
        refine_gate: gate of the refine network: ``"pixel"`` (author's code/checkpoint) or ``"depthwise"``
            (paper's LWGC_ds); the coarse network always uses ``"single"``.
        coarse_max_side: the coarse network runs at input/f, f the smallest integer making the longer side
            ≤ this (HiFill at 512²: 256).
        refine_dilations: dilations of the refine network's dilated block.
        init: ``"fan_in"`` (default, keeps unit-scale activations) or ``"hifill"`` (TF truncated normal, std
            0.05, which starts from a vanishing output; see :func:`~inpaint.nn.gated_conv.init_gated_convs`).
    """

    size_multiple = 2 * ATTENTION_STRIDE
    priors: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        size: Literal["paper", "small"] = "paper",
        keep_coarse: bool = True,
        refine_gate: GateKind = "pixel",
        coarse_max_side: int = 256,
        refine_dilations: tuple[int, ...] = REFINE_DILATIONS,
        init: GatedInit = "fan_in",
    ) -> None:
        super().__init__()
        if size not in HIFILL_BASE_WIDTH:
            raise ValueError(f"HiFillGenerator: size must be one of {tuple(HIFILL_BASE_WIDTH)}, got {size!r}")
        if coarse_max_side < 4:
            raise ValueError(f"HiFillGenerator: coarse_max_side must be ≥ 4, got {coarse_max_side}")
        base = HIFILL_BASE_WIDTH[size]
        widths = (base, 2 * base, 4 * base)
        self.coarse_max_side = coarse_max_side
        self.coarse = HiFillCoarseNet(base) if keep_coarse else None
        self.encoder = HiFillRefineEncoder(widths, gate=refine_gate)
        self.decoder = HiFillRefineDecoder(widths, gate=refine_gate, dilations=tuple(refine_dilations))
        init_gated_convs(self, init)

    def _coarse(self, x: torch.Tensor) -> torch.Tensor:
        assert self.coarse is not None
        height, width = x.shape[-2:]
        factor = -(-max(height, width) // self.coarse_max_side)  # ceil division
        if factor == 1:
            return self.coarse(x)
        if height % (4 * factor) or width % (4 * factor):
            raise ValueError(
                f"HiFillGenerator: input {height}×{width} cannot be downscaled by {factor} for the coarse network "
                f"(coarse_max_side={self.coarse_max_side}); use sides divisible by {4 * factor}"
            )
        small = F.interpolate(x, size=(height // factor, width // factor), mode="bilinear", align_corners=False)
        coarse = self.coarse(small)
        return F.interpolate(coarse, size=(height, width), mode="bilinear", align_corners=False)

    def _run(
        self, image: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        check_host_inputs(image, mask, self.size_multiple, "HiFillGenerator")
        known = known_mask(mask, image.dtype)
        hole = 1.0 - known
        masked = masked_input(image, known, 0.0)
        extras: dict[str, torch.Tensor] = {}
        refine_input = masked
        if self.coarse is not None:
            coarse = self._coarse(torch.cat([masked, hole], dim=1))
            extras["coarse"] = coarse
            refine_input = torch.where(is_known(known), masked, coarse)
        refined = self.decoder(self.encoder(torch.cat([refine_input, hole], dim=1)), known)
        return refined.image, refined.extras["attention"], extras

    def forward(
        self,
        image: torch.Tensor,
        mask: torch.Tensor,
        edge: torch.Tensor | None = None,
        gray: torch.Tensor | None = None,
        smooth: torch.Tensor | None = None,
    ) -> GeneratorOutput:
        refined, _, extras = self._run(image, mask)
        return GeneratorOutput(image=refined, extras=extras)

    @torch.no_grad()
    def inpaint_high_resolution(self, image: torch.Tensor, mask: torch.Tensor, network_side: int) -> torch.Tensor:
        """Contextual residual aggregation (paper Sec. 3.1): run the network at ``network_side``² and lift the
        result to the input's size by adding attention-aggregated high-frequency residuals.

        ``image`` B×3×H×W in [-1, 1] with H = W = k·``network_side`` for an integer k; ``mask`` 1 = known.
        Returns the composited B×3×H×W result.
        """
        height, width = image.shape[-2:]
        if height != width or height % network_side:
            raise ValueError(
                f"inpaint_high_resolution: image {height}×{width} must be square and a multiple of "
                f"network_side={network_side}"
            )
        factor = height // network_side
        known = known_mask(mask, image.dtype)
        masked = masked_input(image, known, 0.0)
        # box average as the low-resolution input; a low-res pixel is known only if its whole block is known
        small_image = F.avg_pool2d(masked, factor)
        small_known = -F.max_pool2d(-known, factor)
        refined, attention, _ = self._run(small_image, small_known)
        grid = (network_side // ATTENTION_STRIDE, network_side // ATTENTION_STRIDE)
        high = contextual_residual_aggregation(image, known, refined, attention, grid)
        return composite(image, high, known)
