"""The Pyramid Generator (seed 002, "Structure First Detail Next"): full DeepFillv2 generators stacked on an image
pyramid, coarse to fine.

Level n works on the image and mask downscaled by ``levels[n]`` (default 4, 2, 1: 64 / 128 / 256 at 256²; the
paper's 128 / 256 / 512 at 512²). The mask is downscaled by area and binarised at one half, so every level keeps the
hole ratio up to the rounding of boundary blocks; the image by a mask-aware area average, so no hole pixel reaches
a known pixel of any level (:mod:`inpaint.nn.image_pyramid`). With the default fusion (Eq. 3)::

    Ĩ₀ = G₀(x₀),    Ĩₙ = Gₙʳ(Gₙᶜ(xₙ) + up(Ĩₙ₋₁))

— the previous level's output, upsampled (bilinear), is added to the coarse output that the refinement stage
completes. ``fusion`` selects Table 4's alternatives:

* ``"refine_input"`` (the paper's choice): as above;
* ``"attention_path"`` / ``"dilated_path"``: the sum feeds only the refinement's contextual-attention branch / only
  its dilated ("non-attention") branch; the other branch sees the plain coarse composite;
* ``"feature_coarse"`` / ``"feature_refine"``: no image is passed on; the previous level's refinement features (its
  dilated branch's output at 1/4, upsampled) are added to this level's coarse bottleneck / to its refinement's
  dilated-branch output. The seed does not say which features it fused: these are the ones with matching shapes.

``dilations="adaptive"`` is the paper's schedule: G₀ uses rates 2, 4, 8, 12 and every higher level 2, 4, 8, in both
stages (the seed does not name the stages; both is the natural reading); ``"standard"`` is DeepFillv2's 2, 4, 8, 16
everywhere (Table 5's baseline). A final level coarser than the input (e.g. ``levels=(4, 2)``, Table 3's
"128+256" at 512) is upsampled to the input size.

Outputs: ``image`` (the top level), ``extras["level_<n>"]`` (every level's output at its own size, for the per-level
L1), ``extras["coarse_<n>"]`` (each level's coarse output) and ``extras["coarse"]`` (the top level's, at full size).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from inpaint.conventions import is_known, known_mask
from inpaint.models.generators.deepfillv2 import DEEPFILL_DILATIONS, DeepFillV2Generator
from inpaint.models.generators.host_interface import check_host_inputs, masked_input
from inpaint.models.interface import GeneratorOutput, InpaintGenerator
from inpaint.nn.image_pyramid import downscale_image, downscale_known

Fusion = Literal["refine_input", "attention_path", "dilated_path", "feature_coarse", "feature_refine"]
FUSIONS: tuple[str, ...] = ("refine_input", "attention_path", "dilated_path", "feature_coarse", "feature_refine")
#: the paper's adaptive dilation schedule: the bottom level, then every level above it
ADAPTIVE_DILATIONS: tuple[tuple[int, ...], tuple[int, ...]] = ((2, 4, 8, 12), (2, 4, 8))


def dilation_schedule(kind: str, n_levels: int) -> list[tuple[int, ...]]:
    """Per-level dilation rates: ``"adaptive"`` (the paper's) or ``"standard"`` (DeepFillv2's everywhere)."""
    if kind == "adaptive":
        return [ADAPTIVE_DILATIONS[0]] + [ADAPTIVE_DILATIONS[1]] * (n_levels - 1)
    if kind == "standard":
        return [DEEPFILL_DILATIONS] * n_levels
    raise ValueError(f"PyramidGenerator: dilations must be 'adaptive' or 'standard', got {kind!r}")


class PyramidGenerator(InpaintGenerator):
    """Pyramid of DeepFillv2 generators (see module doc).

    Args:
        size: width profile of every sub-generator (``"paper"`` or ``"small"``).
        levels: downscale factor of each level, bottom first, strictly decreasing (Table 3: ``(4, 2)`` =
            "128+256", ``(2, 1)`` = "256+512", ``(4, 2, 1)`` = "128+256+512", the default).
        fusion: how a level receives the one below it (Table 4; default ``"refine_input"``).
        dilations: ``"adaptive"`` (default, Table 5's "ours") or ``"standard"``.
    """

    priors: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        size: Literal["paper", "small"] = "paper",
        levels: tuple[int, ...] | list[int] = (4, 2, 1),
        fusion: Fusion = "refine_input",
        dilations: Literal["adaptive", "standard"] = "adaptive",
    ) -> None:
        super().__init__()
        factors = tuple(int(f) for f in levels)
        if len(factors) < 2 or min(factors) < 1 or any(a <= b for a, b in zip(factors, factors[1:])):
            raise ValueError(f"PyramidGenerator: levels must be ≥ 2 strictly decreasing factors ≥ 1, got {factors}")
        if fusion not in FUSIONS:
            raise ValueError(f"PyramidGenerator: fusion must be one of {FUSIONS}, got {fusion!r}")
        self.factors, self.fusion, self.dilations = factors, fusion, dilations
        self.levels = nn.ModuleList(
            DeepFillV2Generator(size=size, dilations=rates) for rates in dilation_schedule(dilations, len(factors))
        )
        self.size_multiple = DeepFillV2Generator.size_multiple * factors[0]

    def forward(
        self,
        image: torch.Tensor,
        mask: torch.Tensor,
        edge: torch.Tensor | None = None,
        gray: torch.Tensor | None = None,
        smooth: torch.Tensor | None = None,
    ) -> GeneratorOutput:
        check_host_inputs(image, mask, self.size_multiple, "PyramidGenerator")
        known = known_mask(mask, image.dtype)
        masked = masked_input(image, known, 0.0)
        extras: dict[str, torch.Tensor] = {}
        previous: tuple[torch.Tensor, torch.Tensor] | None = None  # (output image, refinement features)
        for n, (factor, level) in enumerate(zip(self.factors, self.levels)):
            known_n = downscale_known(known, factor)
            masked_n = downscale_image(masked, known, factor) * known_n
            output, features, extras[f"coarse_{n}"] = self._level(level, masked_n, known_n, previous)
            extras[f"level_{n}"] = output
            previous = (output, features)
        assert previous is not None
        top = previous[0]
        full = image.shape[-2:]
        if top.shape[-2:] != full:
            top = F.interpolate(top, size=full, mode="bilinear", align_corners=False)
        coarse = extras[f"coarse_{len(self.factors) - 1}"]
        extras["coarse"] = coarse if coarse.shape[-2:] == full else F.interpolate(
            coarse, size=full, mode="bilinear", align_corners=False)
        return GeneratorOutput(image=top, extras=extras)

    def _level(self, level: DeepFillV2Generator, masked: torch.Tensor, known: torch.Tensor,
               previous: tuple[torch.Tensor, torch.Tensor] | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One sub-generator Gₙ = Gₙʳ ∘ Gₙᶜ on its level, fused with the level below (``previous``: its output and
        refinement features); returns (output, refinement features, coarse output)."""
        hole = 1.0 - known  # DeepFill's mask (1 = hole)
        ones = torch.ones_like(hole)
        size = masked.shape[-2:]
        up_image = up_features = None
        if previous is not None:
            if self.fusion.startswith("feature"):
                features = previous[1]
                up_features = F.interpolate(features, size=(size[0] // 4, size[1] // 4), mode="bilinear",
                                            align_corners=False)
            else:
                up_image = F.interpolate(previous[0], size=size, mode="bilinear", align_corners=False)
        assert level.coarse is not None
        coarse, _ = level.coarse(torch.cat([masked, ones, hole], dim=1),
                                 add_features=up_features if self.fusion == "feature_coarse" else None)

        def composite(x: torch.Tensor) -> torch.Tensor:
            return torch.cat([torch.where(is_known(known), masked, x), ones, hole], dim=1)

        plain = composite(coarse)
        fused = composite(coarse + up_image) if up_image is not None else plain
        dilated_in, attention_in = {
            "refine_input": (fused, fused), "attention_path": (plain, fused), "dilated_path": (fused, plain),
        }.get(self.fusion, (plain, plain))
        output, features = level.refine(dilated_in, known, attention_x=attention_in,
                                        add_features=up_features if self.fusion == "feature_refine" else None)
        return output, features, coarse
