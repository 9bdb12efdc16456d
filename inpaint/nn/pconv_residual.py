"""HRNet's basic residual block built on partial convs, carrying the mask (seed 003's branch sub-network unit).

For features x and known-mask m (1 = known)::

    h, m₁ = PConv₁(x, m);     h = ReLU(BN₁(h))
    y, m₂ = PConv₂(h, m₁)
    out   = ReLU(BN₂(y) + x ⊙ m) ⊙ m₂,     mask out = m₂

Both convs are 3×3, stride 1, without bias (BN follows), with a pluggable mask-update rule (vanilla Eq. 2 or seed
003's priority rule). Masks only grow (m ≤ m₁ ≤ m₂ under either rule), so the skip x ⊙ m never brings in a hole
value; the final ⊙ m₂ removes BN's shift from positions still in the hole, so holes stay exactly zero for the
mask-aware fusion and attention that read these features.

``partial=False`` is the plain HRNet block (seed 003's "w/o PConv" and "HRNet" ablation rows): the same convs used as
ordinary convs, out = ReLU(BN₂(conv₂(ReLU(BN₁(conv₁ x)))) + x), and the mask returned is all ones: a plain conv
computes every position, so nothing is a hole any more.
"""

from __future__ import annotations

import torch
from torch import nn

from inpaint.nn.partial_conv import MaskUpdate, PartialConv2d


class PConvBasicBlock(nn.Module):
    """2 × (3×3 PConv + BN + ReLU) with a residual connection (module doc); ``forward(x, mask) → (y, new_mask)``.

    Args:
        channels: input and output width.
        mask_update: the mask rule of both partial convs (``None``: vanilla); ignored when ``partial=False``.
        partial: ``False`` for plain convs (ablation).
    """

    def __init__(self, channels: int, mask_update: MaskUpdate | None = None, partial: bool = True) -> None:
        super().__init__()
        rule = mask_update if partial else None
        self.conv1 = PartialConv2d(channels, channels, 3, 1, 1, bias=False, mask_update=rule)
        self.norm1 = nn.BatchNorm2d(channels)
        self.conv2 = PartialConv2d(channels, channels, 3, 1, 1, bias=False, mask_update=rule)
        self.norm2 = nn.BatchNorm2d(channels)
        self.act = nn.ReLU()
        self.partial = partial

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.partial:
            h = self.act(self.norm1(self.conv1.plain(x)))
            return self.act(self.norm2(self.conv2.plain(h)) + x), torch.ones_like(mask)
        h, m1 = self.conv1(x, mask)
        h = self.act(self.norm1(h))
        y, m2 = self.conv2(h, m1)
        return self.act(self.norm2(y) + x * mask) * m2, m2
