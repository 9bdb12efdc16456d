"""Mask-aware representation fusion (MRF, seed 003 Eq. 9): parallel resolution branches exchange features and masks.

Branches are indexed finest first (i = 0 is the input size, i + 1 half of i; the seed's level l = L − 1 − i).
Target branch i sums three kinds of contribution, each a (feature, mask) pair whose feature is zero where its mask
is zero:

* itself: (x_i ⊙ m_i, m_i);
* every coarser branch k > i: (up(W_ki (x_k ⊙ m_k)), up(m_k)), W_ki a 1×1 conv C_k → C_i without bias;
* the next finer branch i − 1 only (read literally, branches i − 2 and finer do not feed i): a 3×3 stride-2 partial
  conv C_{i−1} → C_i without bias, i.e. (PConv(x_{i−1}, m_{i−1}), its Eq. 2 mask).

With x and m the sums over contributions (m counts the valid contributions: an integer)::

    (x', m') = (x / m, 1)   if m > 0,      (0, 0)   otherwise                                   (Eq. 9)

Choices the seed leaves open: ``up`` is nearest-neighbour for features and masks alike (HRNet's upsampling), so
up(W(x ⊙ m)) = up(W x) ⊙ up(m) and a feature never spreads beyond its mask; the channel-matching convs act before
upsampling (cheaper, as in HRNet) and have neither bias nor norm, so holes stay zero. ``m > 0`` is decided on the
integer count (> 0.5), and x / m divides by that count: no float threshold.

``partial=False`` (seed 003's "w/o PConv" ablation): masks are all ones, the stride-2 conv is a plain conv, and Eq. 9
becomes the mean of the contributions (HRNet's sum up to a constant).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from inpaint.nn.partial_conv import PartialConv2d


class MaskAwareFusion(nn.Module):
    """Eq. 9 over branches of ``widths`` (finest first); ``forward(features, masks) → (features', masks')``."""

    def __init__(self, widths: Sequence[int], partial: bool = True) -> None:
        super().__init__()
        self.widths, self.partial = tuple(widths), partial
        self.lift = nn.ModuleDict({
            f"{k}to{i}": nn.Conv2d(self.widths[k], self.widths[i], 1, bias=False)
            for i in range(len(self.widths)) for k in range(i + 1, len(self.widths))
        })
        self.down = nn.ModuleDict({
            f"{i - 1}to{i}": PartialConv2d(self.widths[i - 1], self.widths[i], 3, stride=2, padding=1, bias=False)
            for i in range(1, len(self.widths))
        })

    def _from_finer(self, i: int, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        conv = self.down[f"{i - 1}to{i}"]
        if self.partial:
            return conv(x, mask)
        y = conv.response(x, bias=False)
        return y, torch.ones_like(y[:, :1])

    def forward(self, features: Sequence[torch.Tensor],
                masks: Sequence[torch.Tensor]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        if len(features) != len(self.widths) or len(masks) != len(self.widths):
            raise ValueError(f"MaskAwareFusion: expected {len(self.widths)} branches, got {len(features)} features "
                             f"and {len(masks)} masks")
        fused, fused_masks = [], []
        for i, (x, mask) in enumerate(zip(features, masks)):
            size = x.shape[-2:]
            total, count = x * mask, mask
            for k in range(i + 1, len(features)):
                lifted = self.lift[f"{k}to{i}"](features[k] * masks[k])
                total = total + F.interpolate(lifted, size=size, mode="nearest")
                count = count + F.interpolate(masks[k], size=size, mode="nearest")
            if i > 0:
                y, m = self._from_finer(i, features[i - 1], masks[i - 1])
                if y.shape[-2:] != size:
                    raise ValueError(f"MaskAwareFusion: branch {i} is {tuple(size)}, but the stride-2 conv of branch "
                                     f"{i - 1} gives {tuple(y.shape[-2:])}; each branch must halve the one before")
                total, count = total + y, count + m
            filled = count > 0.5  # count is an integer
            fused.append(torch.where(filled, total / count.clamp(min=1.0), torch.zeros_like(total)))
            fused_masks.append(filled.to(mask.dtype))
        return fused, fused_masks
