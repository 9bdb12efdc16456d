"""MSFEF (seed 004, "Multi-Scale Partial Convolutions"): three parallel stride-2 partial convolutions (3×3, 5×5, 7×7)
fused with learned per-channel weights, gated by the 3×3 branch's updated mask.

For input (x, m) with m 1 = known::

    yₖ, mₖ = PConvₖ(x, m)                 k = 3, 5, 7; same width C, stride 2, padding k // 2 (aligned outputs)
    y     = (w₃ ⊙ y₃ + w₅ ⊙ y₅ + w₇ ⊙ y₇) ⊙ m₃      wₖ ∈ ℝ^C, learnable, initialised to 1/3 (the seed gives none)
    out   = ReLU(InstanceNorm(y)),  mask out = m₃

m₃ is the most conservative of the three updated masks (a 3×3 window with a known pixel lies inside the 5×5 and 7×7
windows of the same centre), so a position survives only where all three branches saw a known pixel.
"""

from __future__ import annotations

import torch
from torch import nn

from inpaint.nn.partial_conv import PartialConv2d

#: the three kernel sizes, smallest first; the smallest branch's mask gates the sum
MSFEF_KERNELS: tuple[int, ...] = (3, 5, 7)


class MSFEF(nn.Module):
    """Multi-scale feature extraction and fusion (see module doc). ``forward(x, mask) → (y, new_mask)``."""

    def __init__(self, in_channels: int, out_channels: int, bias: bool = False) -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            PartialConv2d(in_channels, out_channels, k, stride=2, padding=k // 2, bias=bias) for k in MSFEF_KERNELS
        )
        self.fusion = nn.Parameter(torch.full((len(MSFEF_KERNELS), 1, out_channels, 1, 1), 1.0 / len(MSFEF_KERNELS)))
        self.norm = nn.InstanceNorm2d(out_channels)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        fused: torch.Tensor | None = None
        gate: torch.Tensor | None = None
        for weight, branch in zip(self.fusion, self.branches):
            y, new_mask = branch(x, mask)
            fused = weight * y if fused is None else fused + weight * y
            gate = new_mask if gate is None else gate  # the 3×3 branch comes first
        assert fused is not None and gate is not None
        return self.act(self.norm(fused * gate)), gate
