"""PMRFN, seed 003's Parallel Multi-Resolution Fusion Network: an HRNet-style inpainting generator whose four
resolution branches run in parallel from start to end, built on partial convs with an inpainting-priority mask rule.

Branches are indexed finest first: i = 0, 1, 2, 3 at H, H/2, H/4, H/8 (the seed's levels l = 3, 2, 1, 0; 256² … 32²
at 256²). Masks are 1 = known throughout.

* **Stem and transitions**: a 3×3 partial conv (3 → C₀) + BN + ReLU at full size; branch i > 0 comes from branch
  i − 1 through a 3×3 stride-2 partial conv + BN + ReLU. All four branches exist from stage 1.
* **Body**: 6 stages; in each, every branch runs 4 :class:`~inpaint.nn.pconv_residual.PConvBasicBlock` (2 × 3×3
  PConv + BN + ReLU, residual), carrying its mask. Every stride-1 partial conv of a branch uses the priority rule
  :class:`~inpaint.nn.priority_mask.PriorityMaskUpdate` (Eq. 5–6, δ = 0.5): contour-striking ρ (Eq. 7) on the
  coarsest branch, contextual-residue ρ (Eq. 8) on the three finer ones.
* **MRF** (:class:`~inpaint.nn.mask_aware_fusion.MaskAwareFusion`, Eq. 9) after each of stages 1–5.
* **ARF** (:class:`~inpaint.nn.attention_fusion.AttentionGuidedFusion`, Eq. 10) once, before stage 6. It leaves the
  masks as they are: where a branch still has holes, stage 6's partial convs ignore what ARF wrote there.
* **Heads**: every branch bilinearly upsampled to H×W, concatenated, 3×3 conv (Σ Cᵢ → C₀) + ReLU, 3×3 conv → RGB,
  tanh (the main output I_g); side outputs I_g^l = tanh(3×3 conv(branch i)) for i = 1, 2, 3, returned as
  ``extras["pyramid_0"]`` (H/2), ``"pyramid_1"`` (H/4), ``"pyramid_2"`` (H/8) for the suite's pyramid L1 (Eq. 12:
  ``losses.lambda_pyramid``).

Widths: ``paper`` = HRNet-W32 (32, 64, 128, 256; the supplement with the seed's own widths is missing), ``small`` = a
quarter (8, 16, 32, 64). Size at ``paper``: **40,538,980 parameters** (body 37.65 M, five fusions 2.29 M, ARF
0.06 M, stem, transitions and heads 0.54 M); the seeds summary estimated ≈ 42 M (body 37.6 M plus 3.9 M of fusion
for HRNet's full exchange, every level feeding every level), where Eq. 9 read literally feeds a level only from
itself, every coarser level and the next finer one. ``small``: 2,545,138.

Table 2's ablations are constructor arguments (:data:`PMRFN_TABLE2` names each row):

* ``partial=False``: plain convs everywhere (masks become all ones after the stem; MRF is then the mean of its
  contributions) — "w/o PConv", which also drops the priority (``priority=False``);
* ``priority=False``: partial convs with the vanilla mask rule;
* ``attention=False``: no ARF — "w/o ARF"; with ``partial=False`` as well, "HRNet";
* ``fusions_removed=n``: the first n of the five MRFs are left out — "w/o MRF 1 / 3 / 5";
* ``delta``: the priority threshold δ.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from inpaint.conventions import known_mask
from inpaint.models.generators.host_interface import check_host_inputs, masked_input
from inpaint.models.interface import GeneratorOutput, InpaintGenerator
from inpaint.nn.attention_fusion import AttentionGuidedFusion
from inpaint.nn.mask_aware_fusion import MaskAwareFusion
from inpaint.nn.partial_conv import PartialConv2d
from inpaint.nn.pconv_residual import PConvBasicBlock
from inpaint.nn.priority_mask import PriorityMaskUpdate

#: branch widths, finest first: paper = HRNet-W32; small = a quarter, for CPU runs
PMRFN_WIDTHS: dict[str, tuple[int, ...]] = {"paper": (32, 64, 128, 256), "small": (8, 16, 32, 64)}
PMRFN_STAGES = 6
PMRFN_BLOCKS = 4
#: seed 003 Table 2: row name → constructor arguments
PMRFN_TABLE2: dict[str, dict[str, Any]] = {
    "HRNet": {"partial": False, "priority": False, "attention": False},
    "w/o PConv": {"partial": False, "priority": False},
    "w/o ARF": {"attention": False},
    "w/o MRF 1": {"fusions_removed": 1},
    "w/o MRF 3": {"fusions_removed": 3},
    "w/o MRF 5": {"fusions_removed": 5},
    "Full": {},
}


class ConvUnit(nn.Module):
    """A 3×3 partial conv (stride 1 or 2) + BN + ReLU, zero where the new mask is 0; plain conv when not partial."""

    def __init__(self, cin: int, cout: int, stride: int, mask_update: PriorityMaskUpdate | None,
                 partial: bool) -> None:
        super().__init__()
        self.conv = PartialConv2d(cin, cout, 3, stride, 1, bias=False, mask_update=mask_update if partial else None)
        self.norm = nn.BatchNorm2d(cout)
        self.act = nn.ReLU()
        self.partial = partial

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.partial:
            y = self.act(self.norm(self.conv.plain(x)))
            return y, torch.ones_like(y[:, :1])
        y, new_mask = self.conv(x, mask)
        return self.act(self.norm(y)) * new_mask, new_mask


class Branch(nn.Module):
    """One branch of one stage: :data:`PMRFN_BLOCKS` residual partial-conv blocks carrying the mask."""

    def __init__(self, channels: int, mask_update: PriorityMaskUpdate | None, partial: bool) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(PConvBasicBlock(channels, mask_update, partial) for _ in range(PMRFN_BLOCKS))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for block in self.blocks:
            x, mask = block(x, mask)
        return x, mask


class PMRFN(InpaintGenerator):
    """Seed 003's generator (module doc).

    Args:
        size: ``"paper"`` (HRNet-W32 widths) or ``"small"`` (a quarter, CPU runs).
        partial: partial convs (``False``: plain convs, the "w/o PConv" / "HRNet" rows).
        priority: the inpainting-priority mask rule (``False``: vanilla partial convs); needs ``partial``.
        attention: the attention-guided fusion before the last stage.
        fusions_removed: leave out the first n of the five mask-aware fusions (0 … 5).
        delta: the priority threshold δ (seed: 0.5).
    """

    size_multiple = 2 ** (len(PMRFN_WIDTHS["paper"]) - 1)
    priors: tuple[str, ...] = ()

    def __init__(self, *, size: Literal["paper", "small"] = "paper", partial: bool = True, priority: bool = True,
                 attention: bool = True, fusions_removed: int = 0, delta: float = 0.5) -> None:
        super().__init__()
        if size not in PMRFN_WIDTHS:
            raise ValueError(f"PMRFN: size must be one of {tuple(PMRFN_WIDTHS)}, got {size!r}")
        if priority and not partial:
            raise ValueError("PMRFN: the priority rule updates partial-conv masks; with partial=False set "
                             "priority=False (seed 003's 'w/o PConv' drops both)")
        if not 0 <= fusions_removed <= PMRFN_STAGES - 1:
            raise ValueError(f"PMRFN: fusions_removed must be 0 … {PMRFN_STAGES - 1}, got {fusions_removed}")
        self.size, self.partial, self.priority = size, partial, priority
        self.attention, self.fusions_removed, self.delta = attention, fusions_removed, delta
        widths = self.widths = PMRFN_WIDTHS[size]
        last = len(widths) - 1
        rules = [PriorityMaskUpdate("contour" if i == last else "residue", delta) if priority else None
                 for i in range(len(widths))]
        self.stem = ConvUnit(3, widths[0], 1, rules[0], partial)
        self.transitions = nn.ModuleList(
            ConvUnit(widths[i - 1], widths[i], 2, None, partial) for i in range(1, len(widths)))
        self.stages = nn.ModuleList(
            nn.ModuleList(Branch(w, rule, partial) for w, rule in zip(widths, rules)) for _ in range(PMRFN_STAGES))
        self.fusions = nn.ModuleDict({
            str(s): MaskAwareFusion(widths, partial) for s in range(fusions_removed, PMRFN_STAGES - 1)})
        self.arf = AttentionGuidedFusion(widths) if attention else None
        self.head = nn.Sequential(nn.Conv2d(sum(widths), widths[0], 3, 1, 1), nn.ReLU(),
                                  nn.Conv2d(widths[0], 3, 3, 1, 1), nn.Tanh())
        self.side_heads = nn.ModuleList(
            nn.Sequential(nn.Conv2d(w, 3, 3, 1, 1), nn.Tanh()) for w in widths[1:])

    def forward(
        self,
        image: torch.Tensor,
        mask: torch.Tensor,
        edge: torch.Tensor | None = None,
        gray: torch.Tensor | None = None,
        smooth: torch.Tensor | None = None,
    ) -> GeneratorOutput:
        check_host_inputs(image, mask, self.size_multiple, "PMRFN")
        known = known_mask(mask, image.dtype)
        x, m = self.stem(masked_input(image, known, 0.0), known)
        features, masks = [x], [m]
        for transition in self.transitions:
            x, m = transition(x, m)
            features.append(x)
            masks.append(m)
        for s, stage in enumerate(self.stages):
            if s == PMRFN_STAGES - 1 and self.arf is not None:
                features = self.arf(features)
            pairs = [branch(x, m) for branch, x, m in zip(stage, features, masks)]
            features, masks = [x for x, _ in pairs], [m for _, m in pairs]
            if str(s) in self.fusions:
                features, masks = self.fusions[str(s)](features, masks)
        size = image.shape[-2:]
        joint = torch.cat([features[0]] + [F.interpolate(x, size=size, mode="bilinear", align_corners=False)
                                           for x in features[1:]], dim=1)
        extras = {f"pyramid_{i}": head(x) for i, (head, x) in enumerate(zip(self.side_heads, features[1:]))}
        return GeneratorOutput(image=self.head(joint), extras=extras)
