"""Attention-guided representation fusion (ARF, seed 003 Eq. 3, 4, 10): one attention map shared by every branch.

Branches are given finest first; the coarsest has N = h·w positions. Every branch is average-pooled to h×w (branch
l's side is 2^d times the coarsest, pooled over 2^d × 2^d blocks) and the results are concatenated (C_sum channels).
With f, g 1×1 convs C_sum → C_sum / r (r = 8, SAGAN's reduction)::

    s_ij = f(x_i)ᵀ g(x_j),     a_ij = softmax_j(s_ij)                                 (Eq. 3, N × N)

Each branch is then cut into N non-overlapping patches of side 2^d (8, 4, 2, 1 at 256² with four branches), patch i
covering the area of the coarsest branch's position i, and::

    y_i = Σ_j a_ij p_j + p_i                                                          (Eq. 10)

Patch j is a vector of C_l·4^d values; the same weights a_ij mix every one of them, so the patch vectors are built
with ``pixel_unshuffle`` and folded back with ``pixel_shuffle``. The residual is added as written (no SAGAN γ).
The seed leaves the downsampling open: area averaging keeps every pixel's share equal.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


def patch_side(branch: torch.Tensor, coarsest: torch.Tensor) -> int:
    """The side 2^d of a branch's patches: branch side / coarsest side, the same integer for height and width."""
    (h, w), (ch, cw) = branch.shape[-2:], coarsest.shape[-2:]
    if h % ch or w % cw or h // ch != w // cw:
        raise ValueError(f"AttentionGuidedFusion: a {h}×{w} branch is not an integer multiple (same for both sides) "
                         f"of the coarsest {ch}×{cw} branch")
    return h // ch


class AttentionGuidedFusion(nn.Module):
    """Eq. 3 on the pooled, concatenated branches, Eq. 10 on every branch (module doc).

    Args:
        widths: branch widths, finest first.
        reduction: C_sum / (width of f and g).
    """

    def __init__(self, widths: Sequence[int], reduction: int = 8) -> None:
        super().__init__()
        total = sum(widths)
        inner = max(total // reduction, 1)
        self.widths = tuple(widths)
        self.query = nn.Conv2d(total, inner, 1)  # f
        self.key = nn.Conv2d(total, inner, 1)  # g

    def attention(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        """a (B×N×N, rows sum to 1) from every branch pooled to the coarsest size."""
        if len(features) != len(self.widths):
            raise ValueError(f"AttentionGuidedFusion: expected {len(self.widths)} branches, got {len(features)}")
        coarsest = features[-1]
        pooled = [F.avg_pool2d(x, patch_side(x, coarsest)) if x is not coarsest else x for x in features]
        joint = torch.cat(pooled, dim=1)
        f = self.query(joint).flatten(2)  # B×C'×N
        g = self.key(joint).flatten(2)
        return torch.softmax(f.transpose(1, 2) @ g, dim=-1)

    def forward(self, features: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        a = self.attention(features)
        coarsest = features[-1]
        h, w = coarsest.shape[-2:]
        fused = []
        for x in features:
            side = patch_side(x, coarsest)
            patches = F.pixel_unshuffle(x, side).flatten(2)  # B×(C·side²)×N, column j = patch j
            mixed = patches @ a.transpose(1, 2)  # column i = Σ_j a_ij · patch j
            fused.append(F.pixel_shuffle((mixed + patches).unflatten(2, (h, w)), side))
        return fused
