"""Seed 003's inpainting-priority mask update for a stride-1 partial conv (PMRFN, Eq. 5–8).

The vanilla rule (seed Eq. 1, the suite's Eq. 2) fills every hole pixel that sees a known pixel. This rule fills
only the most urgent part of the hole border each layer. With S = sum(M_p) (known pixels in the k×k window,
an integer), Ω = k² and m the pixel's current mask::

    border   = (m = 0) and (0 < S < Ω)
    q        = S · ρ(x)                         on the border, 0 elsewhere                      (Eq. 6)
    q_max    = max of q over the image's border pixels (per image, not per batch)
    m'       = 1  if m = 1 or (border and q ≥ δ·q_max),   0 otherwise (in particular where S = 0)  (Eq. 5)
    x'       = (Ω / S)·W*(X ⊙ M) + b  where m' = 1,        0 where m' = 0                        (Eq. 1–2)

ρ, the resolution-specific priority (``rho``):

* ``"contour"`` (the lowest branch, Eq. 7): ρ = |n_p · ∇X_p^⊥|, Criminisi et al.'s "contour striking" term. X is the
  channel mean of the masked input X ⊙ M; ∇ is the Sobel gradient and ⊥ its 90° rotation (the isophote, which
  runs along image edges); n_p = ∇M / |∇M| is the unit normal of the mask border (Sobel of the mask). A border
  pixel where an image edge runs into the hole scores high, so broken edges get continued first.
* ``"residue"`` (the higher branches, Eq. 8): the same on the contextual residue X − up(down(X)) (bilinear ×½, then
  bilinear back to the input size), which keeps the high-frequency (texture) part of X. Channel mean and the
  resampling are linear, so the residue of the mean is the mean of the residues.
* ``"none"``: ρ ≡ 1, i.e. the common priority S alone: the vanilla rule plus the threshold.

Choices the seed leaves open:

* The normal is normalised (a direction, as in Criminisi et al.); |∇M|² is an integer (Sobel of a {0,1} mask), so
  "no normal" (|∇M|² = 0, e.g. a one-pixel gap between known pixels on both sides) is decided exactly: ρ = 0 there.
* Sobel uses replicate padding: the image frame is not an edge of the image nor of the mask. The window sum S uses
  the conv's own (zero) padding, as Eq. 1 does.
* The zero step that masking puts across the border is parallel to n_p, so its isophote is orthogonal to n_p and
  drops out of ρ on straight borders: ρ reads the known side's structure.
* The priority is a mask decision: it is computed on the detached input (no gradient through it; the new mask is
  piecewise constant in X anyway) and in float64, so that only ties that exact arithmetic puts at q = δ·q_max are
  left to rounding. With ρ ≡ 1 every term is a small integer and the rule is exact.
* An image without border pixels keeps its mask (q_max is not needed). An image whose border pixels all have
  q = 0 (no structure at the border) fills its whole border: 0 ≥ δ·0, the vanilla rule, so holes never stall.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from inpaint.nn.partial_conv import ConvGeometry, MaskWindow, mask_window_sum

Rho = Literal["contour", "residue", "none"]
RHOS: tuple[str, ...] = ("contour", "residue", "none")

_SOBEL_X = ((-1.0, 0.0, 1.0), (-2.0, 0.0, 2.0), (-1.0, 0.0, 1.0))


def sobel(x: torch.Tensor) -> torch.Tensor:
    """(∂x, ∂y) of each channel of a B×C×H×W map as B×2C×H×W (channel c → 2c, 2c + 1): 3×3 Sobel, x = columns
    (left → right), y = rows (top → bottom), replicate padding."""
    gx = torch.tensor(_SOBEL_X, dtype=x.dtype, device=x.device)
    kernels = torch.stack([gx, gx.t()]).unsqueeze(1).repeat(x.shape[1], 1, 1, 1)
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernels, groups=x.shape[1])


def contextual_residue(x: torch.Tensor) -> torch.Tensor:
    """X − up(down(X)): bilinear ×½ (a 2×2 mean on even sides), then bilinear back to X's size (Eq. 8)."""
    down = F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=False)
    return x - F.interpolate(down, size=x.shape[-2:], mode="bilinear", align_corners=False)


def contour_striking(features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """ρ = |n_p · ∇X^⊥| per pixel (Eq. 7) for a B×1×H×W feature map and {0,1} mask; 0 where ∇M = 0.

    With ∇X = (g_x, g_y), the isophote is ∇X^⊥ = (−g_y, g_x) and n = ∇M/|∇M|.
    """
    grads = sobel(torch.cat([mask, features], dim=1))  # one grouped conv for both maps
    grad_m, grad_x = grads[:, :2], grads[:, 2:]
    norm2 = grad_m.pow(2).sum(dim=1, keepdim=True)  # an integer: exact
    has_normal = norm2 > 0.5
    dot = -grad_m[:, :1] * grad_x[:, 1:] + grad_m[:, 1:] * grad_x[:, :1]
    return torch.where(has_normal, dot.abs() / norm2.clamp(min=1.0).sqrt(), torch.zeros_like(dot))


class PriorityMaskUpdate(nn.Module):
    """The priority rule (module doc) as a :class:`~inpaint.nn.partial_conv.MaskUpdate` for ``PartialConv2d``.

    Args:
        rho: ``"contour"`` (Eq. 7), ``"residue"`` (Eq. 8) or ``"none"`` (ρ ≡ 1).
        delta: the threshold fraction δ of q_max, in [0, 1] (seed: 0.5 on every branch). δ = 0 is the vanilla rule.
    """

    def __init__(self, rho: Rho = "contour", delta: float = 0.5) -> None:
        super().__init__()
        if rho not in RHOS:
            raise ValueError(f"PriorityMaskUpdate: rho must be one of {RHOS}, got {rho!r}")
        if not 0.0 <= delta <= 1.0:
            raise ValueError(f"PriorityMaskUpdate: delta must lie in [0, 1], got {delta!r}")
        self.rho, self.delta = rho, float(delta)

    def extra_repr(self) -> str:
        return f"rho={self.rho!r}, delta={self.delta}"

    @staticmethod
    def _check(mask: torch.Tensor, geometry: ConvGeometry) -> None:
        if mask.dim() != 4 or mask.shape[1] != 1:
            raise ValueError(f"PriorityMaskUpdate needs a B×1×H×W mask, got shape {tuple(mask.shape)}")
        same = geometry.padding == geometry.dilation * (geometry.kernel_size - 1) // 2
        if geometry.stride != 1 or geometry.kernel_size % 2 == 0 or not same:
            raise ValueError(f"PriorityMaskUpdate applies to odd-kernel stride-1 'same' convs (a pixel keeps its own "
                             f"mask value), got {geometry}")

    def _scores(self, x: torch.Tensor, mask: torch.Tensor,
                geometry: ConvGeometry) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(S, border, q) without gradient; S in the mask's dtype (integers), q in float64."""
        self._check(mask, geometry)
        with torch.no_grad():
            count = mask_window_sum(mask, geometry)
            omega = float(geometry.kernel_size ** 2)
            border = (mask < 0.5) & (count > 0.5) & (count < omega - 0.5)
            if self.rho == "none" or not bool(border.any()):  # no border in the batch: ρ is never read
                rho = torch.ones_like(count, dtype=torch.float64)
            else:
                known = mask.double()
                features = (x.detach().double() * known).mean(dim=1, keepdim=True)
                if self.rho == "residue":
                    features = contextual_residue(features)
                rho = contour_striking(features, known)
            q = torch.where(border, count.double() * rho, torch.zeros_like(rho))
        return count, border, q

    def priority(self, x: torch.Tensor, mask: torch.Tensor, geometry: ConvGeometry) -> torch.Tensor:
        """q = S·ρ on the hole border, 0 elsewhere: B×1×H×W float64, no gradient (Eq. 6)."""
        return self._scores(x, mask, geometry)[2]

    def forward(self, x: torch.Tensor, mask: torch.Tensor, geometry: ConvGeometry) -> MaskWindow:
        count, border, q = self._scores(x, mask, geometry)
        with torch.no_grad():
            q_max = q.amax(dim=(1, 2, 3), keepdim=True)
            accepted = border & (q >= self.delta * q_max)
            new_mask = ((mask > 0.5) | accepted).to(mask.dtype)
        window_size = float(geometry.kernel_size ** 2)
        ratio = window_size / count.clamp(min=1.0) * new_mask  # Eq. 1's Ω/S where m' = 1, as mask_window does
        return MaskWindow(ratio=ratio, mask=new_mask)
