"""PEN-Net's Attention Transfer Network (ATN; Zeng et al., CVPR 2019, Sec. 3.2, Eq. 1–3).

Patch attention is computed on a *deeper* feature map (the guide, h×w) and the learned region affinity is used
to paste patches of the *shallower* map (the target, 2h×2w), so that the holes of the shallow map are filled
with known-region content chosen by the deep, semantically richer map.

One step, per sample (vectorised over the batch here):

1. key validity ``v_j`` – a guide position is a valid source only when its k×k window touches no hole;
2. scores ``s_ij = <q_i, k_j / ‖k_j‖>`` between k×k guide patches (only the key is L2-normalised, Eq. 1);
3. masked softmax over keys with scale λ = 10 (Eq. 2);
4. transfer (Eq. 3): each guide position j owns the 4×4 target patch under its 2×2 block (stride 2, pad 1);
   ``Y = ¼ Σ_i Σ_j a_ij P_j`` pasted back with the same geometry (every target pixel is covered 4 times);
5. optional fuse: four dilated 3×3 convs (d = 1, 2, 4, 8; C → C/4 each, ReLU) concatenated.

The ATN output replaces the target everywhere (known and hole positions alike), as in the authors' code.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

MaskResize = Literal["maxpool", "bilinear"]
MaskedSoftmax = Literal["zero_logit", "exclude"]
#: PEN-Net clamps the final attention weights from below by this (authors' code).
ATTENTION_FLOOR = 1e-8


def bilinear_support(size_in: int, size_out: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The two input indices (lo, hi) that an align_corners=True bilinear resize weighs at each output index.

    Output j samples input position j·(n−1)/(m−1); ``hi == lo`` where that is an integer (the other weight is
    exactly 0). Integer arithmetic, so the answer is exact: a float resize puts ~1e-6 weight on a neighbour at
    some of those positions, and a threshold at 0 would then count a hole there that is not.
    """
    if size_out == 1:
        zero = torch.zeros(1, dtype=torch.long)
        return zero, zero
    numerator = torch.arange(size_out) * (size_in - 1)
    lo = numerator // (size_out - 1)
    hi = torch.where(numerator % (size_out - 1) == 0, lo, lo + 1)
    return lo, hi


def hole_at_scale(known: torch.Tensor, size: tuple[int, int], mode: MaskResize) -> torch.Tensor:
    """A B×1×H×W known-mask's *hole* indicator at ``size`` (values in [0, 1]; > 0 = hole at that cell).

    ``"maxpool"``: a cell is a hole when any pixel under it is a hole (exact, needs H, W divisible by ``size``);
    ``"bilinear"``: the authors' rule — their bilinear resize with align_corners=True, where any hole weight makes
    a hole. It point-samples at strong downscaling and can miss small holes (kept for fidelity). Which input
    pixels carry weight is decided exactly (:func:`bilinear_support`), so the result is the same on every machine.
    """
    hole = 1.0 - known
    if mode == "bilinear":
        (y0, y1), (x0, x1) = bilinear_support(hole.shape[-2], size[0]), bilinear_support(hole.shape[-1], size[1])
        rows = torch.maximum(hole[..., y0.to(hole.device), :], hole[..., y1.to(hole.device), :])
        return torch.maximum(rows[..., x0.to(hole.device)], rows[..., x1.to(hole.device)])
    if mode != "maxpool":
        raise ValueError(f"mask_resize must be 'maxpool' or 'bilinear', got {mode!r}")
    height, width = hole.shape[-2:]
    if height % size[0] or width % size[1]:
        raise ValueError(f"hole_at_scale: mask size {height}×{width} is not a multiple of the feature size {size}")
    return F.max_pool2d(hole, kernel_size=(height // size[0], width // size[1]))


def valid_keys(hole: torch.Tensor, patch_size: int) -> torch.Tensor:
    """B×L key validity (1 = usable source): the k×k window around the key (zero padded) contains no hole."""
    touched = F.max_pool2d(hole, patch_size, stride=1, padding=patch_size // 2) if patch_size > 1 else hole
    return (touched.flatten(1) <= 0).to(hole.dtype)


def masked_key_softmax(
    scores: torch.Tensor, valid: torch.Tensor, scale: float, mode: MaskedSoftmax = "zero_logit"
) -> torch.Tensor:
    """Softmax over the last (key) axis of B×Lq×Lk ``scores`` using only keys with ``valid`` (B×Lk) = 1.

    ``"zero_logit"`` (PEN-Net / HiFill code): invalid keys enter the softmax with logit 0 and are zeroed after,
    so the valid weights may sum to less than 1. ``"exclude"``: invalid keys get −∞ and the valid weights sum to
    1; a query with no valid key at all gets all-zero weights instead of NaN.
    """
    v = valid[:, None, :]
    if mode == "zero_logit":
        return torch.softmax(scale * scores * v, dim=-1) * v
    if mode != "exclude":
        raise ValueError(f"masked_softmax must be 'zero_logit' or 'exclude', got {mode!r}")
    logits = (scale * scores).masked_fill(v <= 0, float("-inf"))
    has_valid = (valid.sum(dim=1) > 0)[:, None, None]
    return torch.where(has_valid, torch.softmax(torch.where(has_valid, logits, 0.0), dim=-1), 0.0) * v


class AttentionTransfer(nn.Module):
    """One ATN step: attention on ``guide`` (B×C_g×h×w), transferred to ``target`` (B×C_t×2h×2w).

    Args:
        target_channels: C_t, the width of the map that receives the pasted patches (sizes the fuse convs).
        patch_size: k of the key/query patches on the guide (PEN-Net: 1 at the deepest level, 3 elsewhere).
        softmax_scale: λ of the masked softmax (PEN-Net: 10).
        fuse: append PEN-Net's four dilated 3×3 convs (absent at the deepest level).
        mask_resize: how the hole mask reaches the guide scale (:func:`hole_at_scale`).
        masked_softmax: how invalid keys are removed (:func:`masked_key_softmax`).
    """

    def __init__(
        self,
        target_channels: int,
        *,
        patch_size: int = 3,
        softmax_scale: float = 10.0,
        fuse: bool = True,
        mask_resize: MaskResize = "maxpool",
        masked_softmax: MaskedSoftmax = "zero_logit",
    ) -> None:
        super().__init__()
        if patch_size % 2 != 1:
            raise ValueError(f"AttentionTransfer: patch_size must be odd, got {patch_size}")
        if fuse and target_channels % 4:
            raise ValueError(f"AttentionTransfer: fuse needs target_channels divisible by 4, got {target_channels}")
        self.patch_size = patch_size
        self.softmax_scale = softmax_scale
        self.mask_resize: MaskResize = mask_resize
        self.masked_softmax: MaskedSoftmax = masked_softmax
        self.fuse = (
            nn.ModuleList(
                nn.Conv2d(target_channels, target_channels // 4, 3, padding=d, dilation=d) for d in (1, 2, 4, 8)
            )
            if fuse
            else None
        )

    def attention(self, guide: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
        """B×Lq×Lk attention weights over the h·w guide positions (row-major), queries × keys."""
        k = self.patch_size
        patches = F.unfold(guide, k, padding=k // 2)  # B × (C_g·k²) × L
        keys = patches / patches.norm(dim=1, keepdim=True).clamp_min(1e-4)
        scores = torch.bmm(patches.transpose(1, 2), keys)  # queries stay unnormalised (PEN-Net)
        valid = valid_keys(hole_at_scale(known, tuple(guide.shape[-2:]), self.mask_resize), k)
        return masked_key_softmax(scores, valid, self.softmax_scale, self.masked_softmax).clamp_min(ATTENTION_FLOOR)

    @staticmethod
    def transfer(target: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        """Paste ``Σ_j a_ij P_j`` of the 4×4/stride-2 target patches P_j back onto the target grid (Eq. 3)."""
        height, width = target.shape[-2:]
        patches = F.unfold(target, 4, padding=1, stride=2)  # B × (C_t·16) × Lk
        columns = torch.bmm(patches, attention.transpose(1, 2))  # B × (C_t·16) × Lq
        return F.fold(columns, (height, width), 4, padding=1, stride=2) / 4.0

    def forward(self, target: torch.Tensor, guide: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
        if target.shape[-2] != 2 * guide.shape[-2] or target.shape[-1] != 2 * guide.shape[-1]:
            raise ValueError(
                f"AttentionTransfer: target {tuple(target.shape[-2:])} must be exactly twice the guide "
                f"{tuple(guide.shape[-2:])}; the input side must be a multiple of the host's size_multiple"
            )
        out = self.transfer(target, self.attention(guide, known))
        if self.fuse is not None:
            out = torch.cat([F.relu(conv(out)) for conv in self.fuse], dim=1)
        return out
