"""DeepFillv2 (Yu et al., "Free-Form Image Inpainting with Gated Convolution", ICCV 2019), the sub-generator of
the Pyramid Generator (seed 002) and the most used GAN inpainting baseline.

Two stages of gated convolutions (:mod:`inpaint.nn.gated_conv`, full gates: ``σ(G(x)) ⊙ ELU(F(x))``), widths
from ``cnum`` feature channels (24 in the paper's code, which counts features and gates together as 48; ``small``
= 8 for CPU runs):

* **coarse network** on ``[masked image, ones, hole]``: 5×5 conv, two stride-2 downsamplings to 1/4 (4·cnum), two
  convs, four dilated 3×3 convs (``dilations``, default 2, 4, 8, 16), two convs, two nearest-×2 + conv
  upsamplings, a cnum/2 conv and a plain 3×3 conv to RGB with tanh;
* **refinement network** on the coarse composite: a *dilated branch* (the same encoder and dilated convs) and a
  *contextual-attention branch* (encoder to 1/4 ending in ReLU features,
  :class:`~inpaint.nn.contextual_attention.ContextualAttention`
  — 3×3 patches matched on the 2×-subsampled map, softmax scale 10, score propagation, keys only from the known
  region, 4×4 patches pasted back — then two convs), concatenated and decoded like the coarse network.

The paper's mask convention (1 = hole) is converted once, here, from the suite's (1 = known); the hole pixels of
the input are zeroed before anything sees them. ``extras["coarse"]`` is the coarse prediction (DeepFillv2 trains it
with the same L1 as the output: ``losses.lambda_coarse``).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from inpaint.conventions import is_known, known_mask
from inpaint.models.generators.host_interface import check_host_inputs, masked_input
from inpaint.models.interface import GeneratorOutput, InpaintGenerator
from inpaint.nn.contextual_attention import ContextualAttention
from inpaint.nn.gated_conv import GatedInit, GatedUpConv2d, LightweightGatedConv2d, init_gated_convs

#: feature channels of the first layer (``cnum`` here). DeepFillv2's code says cnum = 48, but its ``gen_conv`` splits
#: a 48-channel conv into 24 features and 24 gates, so its layers carry 24 / 48 / 96 features: 4.05 M parameters.
#: ``small``: a third of that, for CPU runs.
DEEPFILL_BASE_WIDTH: dict[str, int] = {"paper": 24, "small": 8}
#: DeepFillv2's four dilated convs at 1/4 resolution
DEEPFILL_DILATIONS: tuple[int, ...] = (2, 4, 8, 16)
#: image, a constant-ones channel (DeepFill's border cue) and the hole indicator
INPUT_CHANNELS = 5


def gated(cin: int, cout: int, kernel: int = 3, stride: int = 1, dilation: int = 1) -> LightweightGatedConv2d:
    """DeepFillv2's ``gen_conv``: a gated conv with a full k×k gate."""
    return LightweightGatedConv2d(cin, cout, kernel, stride=stride, dilation=dilation, gate="full")


def gated_up(cin: int, cout: int) -> GatedUpConv2d:
    """DeepFillv2's ``gen_deconv``: nearest ×2, then a 3×3 gated conv."""
    return GatedUpConv2d(cin, cout, gate="full", mode="nearest")


def encoder(cnum: int, widths: tuple[int, int, int]) -> list[nn.Module]:
    """5×5 conv at full size, then two stride-2 steps (each followed by a 3×3 conv) to 1/4 resolution."""
    w1, w2, w3 = widths
    return [gated(INPUT_CHANNELS, cnum, 5), gated(cnum, w1, 3, 2), gated(w1, w2), gated(w2, w3, 3, 2)]


def decoder(cnum: int, cin: int) -> nn.Sequential:
    """Two 3×3 convs at 1/4, two nearest-×2 + conv steps, a cnum/2 conv, then RGB (plain conv, tanh)."""
    return nn.Sequential(
        gated(cin, 4 * cnum), gated(4 * cnum, 4 * cnum),
        gated_up(4 * cnum, 2 * cnum), gated(2 * cnum, 2 * cnum),
        gated_up(2 * cnum, cnum), gated(cnum, cnum // 2),
        nn.Conv2d(cnum // 2, 3, 3, padding=1), nn.Tanh(),
    )


class DeepFillCoarseNet(nn.Module):
    """Stage 1: 5-channel input → (RGB in [-1, 1] at the same size, its 1/4-resolution bottleneck features).

    ``add_features`` (same shape as the bottleneck) is added to it before decoding: the Pyramid Generator's
    feature-level fusion into the coarse stage.
    """

    def __init__(self, cnum: int, dilations: tuple[int, ...] = DEEPFILL_DILATIONS) -> None:
        super().__init__()
        c4 = 4 * cnum
        self.body = nn.Sequential(
            *encoder(cnum, (2 * cnum, 2 * cnum, c4)),
            gated(c4, c4), gated(c4, c4),
            *[gated(c4, c4, dilation=d) for d in dilations],
        )
        self.decoder = decoder(cnum, c4)

    def forward(self, x: torch.Tensor, add_features: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(x)
        if add_features is not None:
            features = features + add_features
        return self.decoder(features), features


class DeepFillRefineNet(nn.Module):
    """Stage 2: a dilated branch and a contextual-attention branch at 1/4, merged and decoded.

    Returns (RGB, the dilated branch's features). The Pyramid Generator's fusion options enter here:
    ``attention_x`` feeds the attention branch a different input than the dilated branch, ``add_features`` is
    added to the dilated branch's output.
    """

    def __init__(self, cnum: int, dilations: tuple[int, ...] = DEEPFILL_DILATIONS) -> None:
        super().__init__()
        c4 = 4 * cnum
        self.dilated = nn.Sequential(
            *encoder(cnum, (cnum, 2 * cnum, 2 * cnum)),
            gated(2 * cnum, c4), gated(c4, c4),
            *[gated(c4, c4, dilation=d) for d in dilations],
        )
        self.attention_in = nn.Sequential(
            *encoder(cnum, (cnum, 2 * cnum, c4)), gated(c4, c4),
            LightweightGatedConv2d(c4, c4, 3, gate="full", activation="relu"),  # DeepFillv2's pmconv6: ReLU features
        )
        self.attention = ContextualAttention(patch_size=3, softmax_scale=10.0, propagate=True, paste_size=4)
        self.attention_out = nn.Sequential(gated(c4, c4), gated(c4, c4))
        self.decoder = decoder(cnum, 2 * c4)

    def forward(self, x: torch.Tensor, known: torch.Tensor, attention_x: torch.Tensor | None = None,
                add_features: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        hallucinated = self.dilated(x)
        if add_features is not None:
            hallucinated = hallucinated + add_features
        _, pasted = self.attention(self.attention_in(x if attention_x is None else attention_x), known)
        return self.decoder(torch.cat([hallucinated, self.attention_out(pasted)], dim=1)), hallucinated


class DeepFillV2Generator(InpaintGenerator):
    """DeepFillv2 (see module doc). Sides must be multiples of 8 (the attention grid is input/8).

    Args:
        size: ``"paper"`` (24 / 48 / 96 features, DeepFillv2's cnum 48) or ``"small"`` (8 / 16 / 32, CPU runs).
        dilations: rates of the four dilated convs of both stages (DeepFillv2: 2, 4, 8, 16; the Pyramid
            Generator's adaptive schedule uses others).
        keep_coarse: run the coarse stage (off: the refinement network alone on the masked image).
        init: ``"fan_in"`` (unit-scale activations) or ``"hifill"`` (TF truncated normal, std 0.05), see
            :func:`~inpaint.nn.gated_conv.init_gated_convs`.
    """

    size_multiple = 8
    priors: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        size: Literal["paper", "small"] = "paper",
        dilations: tuple[int, ...] | list[int] = DEEPFILL_DILATIONS,
        keep_coarse: bool = True,
        init: GatedInit = "fan_in",
    ) -> None:
        super().__init__()
        if size not in DEEPFILL_BASE_WIDTH:
            raise ValueError(f"DeepFillV2Generator: size must be one of {tuple(DEEPFILL_BASE_WIDTH)}, got {size!r}")
        dilations = tuple(int(d) for d in dilations)
        if not dilations or min(dilations) < 1:
            raise ValueError(f"DeepFillV2Generator: dilations must be positive integers, got {dilations}")
        cnum = DEEPFILL_BASE_WIDTH[size]
        self.size, self.dilations = size, dilations
        self.coarse = DeepFillCoarseNet(cnum, dilations) if keep_coarse else None
        self.refine = DeepFillRefineNet(cnum, dilations)
        init_gated_convs(self, init)

    def forward(
        self,
        image: torch.Tensor,
        mask: torch.Tensor,
        edge: torch.Tensor | None = None,
        gray: torch.Tensor | None = None,
        smooth: torch.Tensor | None = None,
    ) -> GeneratorOutput:
        check_host_inputs(image, mask, self.size_multiple, "DeepFillV2Generator")
        known = known_mask(mask, image.dtype)
        hole = 1.0 - known  # the paper's mask (1 = hole), from here on
        masked = masked_input(image, known, 0.0)
        ones = torch.ones_like(hole)
        extras: dict[str, torch.Tensor] = {}
        refine_input = masked
        if self.coarse is not None:
            coarse, _ = self.coarse(torch.cat([masked, ones, hole], dim=1))
            extras["coarse"] = coarse
            refine_input = torch.where(is_known(known), masked, coarse)
        refined, _ = self.refine(torch.cat([refine_input, ones, hole], dim=1), known)
        return GeneratorOutput(image=refined, extras=extras)
