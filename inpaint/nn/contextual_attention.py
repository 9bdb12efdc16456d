"""HiFill's attention: computed once at low resolution, applied at several resolutions (Yi et al., CVPR 2020).

Three pieces, named as in the paper (Sec. 3.1–3.2, Fig. 2):

* :class:`ContextualAttention` – the attention computing module (ACM). On the bottleneck map B (C×H×W) it takes
  the grid P = B subsampled by 2 (one cell per 2×2 block), scores 3×3 patches of P against each other
  (cosine with L2-normalised keys, raw queries), propagates the scores along the diagonal (DeepFill's
  parameter-free "fuse"), keeps only keys whose dilated cell holds no hole, and applies a softmax with scale 10.
  It returns the attention A (B×L×L, queries × keys, L = grid cells, row-major) and its transfer onto B itself.
* :func:`transfer_to_level` – the attention transfer module (ATM): the same A pastes 2r×2r patches (stride r) of
  any skip map whose side is r times the grid's.
* :func:`contextual_residual_aggregation` – CRA (Eq. 1–3): the high-frequency residual of a high-resolution
  image (image minus the upsampled low-resolution image), aggregated by A inside the hole and added to the
  upsampled low-resolution prediction, so a network run at 512² yields sharp output at (512·k)².

DeepFill v1/v2's contextual attention (Yu et al., CVPR 2018 / ICCV 2019) is the same ACM with 4×4 pasted patches
(``paste_size=4``); DeepFill judges key validity on a point-sampled mask, the ACM here on the max-pooled one (a key
is valid only if no hole pixel is under its cells).

Like HiFill's code, its 3×3 pasted patches are not normalised by their overlap count (ATM: a uniform 4× gain; the
ACM's 3×3/stride-2 paste: 1, 2 or 4 contributions per pixel); the convolutions that follow absorb the gain.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from inpaint.conventions import is_known, known_mask
from inpaint.nn.attention_transfer import AttentionTransfer, MaskedSoftmax, masked_key_softmax, valid_keys


def _diagonal_sum(scores: torch.Tensor) -> torch.Tensor:
    """3×3 identity-kernel convolution of B×L×L scores: s[i,j] + s[i−1,j−1] + s[i+1,j+1] (zero padded)."""
    padded = F.pad(scores, (1, 1, 1, 1))
    return padded[:, :-2, :-2] + padded[:, 1:-1, 1:-1] + padded[:, 2:, 2:]


def propagate_scores(scores: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """DeepFill/HiFill score propagation: neighbouring query/key pairs shifted together reinforce each other.

    First along the row-major flattening (horizontal neighbours), then along the column-major flattening
    (vertical neighbours) of both the query and the key axes.
    """
    batch, height, width = scores.shape[0], grid[0], grid[1]
    scores = _diagonal_sum(scores)
    to_column_major = scores.view(batch, height, width, height, width).permute(0, 2, 1, 4, 3)
    scores = _diagonal_sum(to_column_major.reshape(batch, height * width, height * width))
    back = scores.view(batch, width, height, width, height).permute(0, 2, 1, 4, 3)
    return back.reshape(batch, height * width, height * width)


def transfer_to_level(feature_map: torch.Tensor, attention: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """ATM: paste ``Σ_j A_ij P_j`` where P_j is the 2r×2r patch (stride r) of ``feature_map`` over grid cell j.

    ``feature_map`` is B×C×(r·g_h)×(r·g_w) with an even ratio r ≥ 2; each pixel is covered by 2×2 patches.
    """
    height, width = feature_map.shape[-2:]
    if height % grid[0] or width % grid[1] or height // grid[0] != width // grid[1]:
        raise ValueError(
            f"transfer_to_level: feature map {height}×{width} is not a uniform multiple of the attention grid {grid}"
        )
    ratio = height // grid[0]
    if ratio < 2 or ratio % 2:
        raise ValueError(f"transfer_to_level: ratio feature/grid must be even and ≥ 2, got {ratio}")
    patches = F.unfold(feature_map, 2 * ratio, padding=ratio // 2, stride=ratio)  # B × (C·4r²) × L
    columns = torch.bmm(patches, attention.transpose(1, 2))
    return F.fold(columns, (height, width), 2 * ratio, padding=ratio // 2, stride=ratio)


class ContextualAttention(nn.Module):
    """HiFill's attention computing module (ACM) with the level-of-B transfer; parameter-free.

    Args:
        patch_size: side of the key/query patches on the grid (HiFill: 3).
        softmax_scale: the softmax temperature's inverse (HiFill: 10).
        propagate: apply :func:`propagate_scores` (HiFill: on).
        key_dilation: extra dilation (in grid cells) of the hole before keys are judged (HiFill: 1 → 3×3 pool).
        masked_softmax: how invalid keys are removed (see :func:`masked_key_softmax`; HiFill: zero logit).
        paste_size: side of the feature-map patch each grid cell pastes (stride 2): 3 (HiFill, unnormalised) or
            4 (DeepFill v1/v2: 4×4 patches, padding 1, summed and divided by 4, as PEN-Net's transfer).
    """

    def __init__(
        self,
        *,
        patch_size: int = 3,
        softmax_scale: float = 10.0,
        propagate: bool = True,
        key_dilation: int = 1,
        masked_softmax: MaskedSoftmax = "zero_logit",
        paste_size: int = 3,
    ) -> None:
        super().__init__()
        if patch_size % 2 != 1:
            raise ValueError(f"ContextualAttention: patch_size must be odd, got {patch_size}")
        if paste_size not in (3, 4):
            raise ValueError(f"ContextualAttention: paste_size must be 3 (HiFill) or 4 (DeepFill), got {paste_size}")
        self.paste_size = paste_size
        self.patch_size = patch_size
        self.softmax_scale = softmax_scale
        self.propagate = propagate
        self.key_dilation = key_dilation
        self.masked_softmax: MaskedSoftmax = masked_softmax

    def key_validity(self, known: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        """B×L: 1 for grid cells whose (dilated) area of the full-resolution mask holds no hole pixel."""
        height, width = known.shape[-2:]
        if height % grid[0] or width % grid[1]:
            raise ValueError(f"ContextualAttention: mask {height}×{width} is not a multiple of the grid {grid}")
        hole = F.max_pool2d(1.0 - known, kernel_size=(height // grid[0], width // grid[1]))
        return valid_keys(hole, 2 * self.key_dilation + 1)

    def forward(self, features: torch.Tensor, known: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (attention B×L×L over the grid, ``features`` with its content pasted by the attention)."""
        height, width = features.shape[-2:]
        if height % 2 or width % 2:
            raise ValueError(f"ContextualAttention: feature map {height}×{width} must have even sides")
        grid_map = features[..., ::2, ::2]  # top-left pixel of every 2×2 block, as in HiFill
        grid = (height // 2, width // 2)
        k = self.patch_size
        patches = F.unfold(grid_map, k, padding=k // 2)
        keys = patches * torch.rsqrt((patches * patches).sum(dim=1, keepdim=True).clamp_min(1e-8))
        scores = torch.bmm(patches.transpose(1, 2), keys)
        if self.propagate:
            scores = propagate_scores(scores, grid)
        attention = masked_key_softmax(
            scores, self.key_validity(known, grid), self.softmax_scale, self.masked_softmax
        )
        if self.paste_size == 4:
            return attention, AttentionTransfer.transfer(features, attention)
        raw = F.unfold(features, 3, padding=1, stride=2)  # one 3×3 patch per grid cell
        pasted = F.fold(torch.bmm(raw, attention.transpose(1, 2)), (height, width), 3, padding=1, stride=2)
        return attention, pasted


def contextual_residual_aggregation(
    image: torch.Tensor,
    known: torch.Tensor,
    low_res_output: torch.Tensor,
    attention: torch.Tensor,
    grid: tuple[int, int],
) -> torch.Tensor:
    """CRA (HiFill Eq. 1–3): high-resolution prediction from a low-resolution one plus aggregated residuals.

    Args:
        image: B×3×H×W high-resolution input in [-1, 1] (hole pixels are ignored).
        known: B×1×H×W mask, 1 = known.
        low_res_output: B×3×h×w network prediction, with H = k·h and W = k·w for an integer k.
        attention: B×L×L attention over the ``grid`` (L = g_h·g_w), e.g. from :class:`ContextualAttention`.
        grid: the attention grid (g_h, g_w); H and W must be multiples of it.

    Returns the B×3×H×W prediction ``clip(U(O_s) + R')`` (not yet composited: compose with
    :func:`inpaint.conventions.composite`). ``U`` is bilinear upsampling, the low-resolution input is the k×k box
    average of ``image``, and ``R'`` aggregates the known-region residual ``(image − U(I_s))·M`` patch-wise.
    """
    height, width = image.shape[-2:]
    low_h, low_w = low_res_output.shape[-2:]
    if height % low_h or width % low_w or height // low_h != width // low_w:
        raise ValueError(
            f"contextual_residual_aggregation: image {height}×{width} is not an integer multiple of the "
            f"low-resolution output {low_h}×{low_w}"
        )
    if height % grid[0] or width % grid[1]:
        raise ValueError(f"contextual_residual_aggregation: image {height}×{width} not a multiple of grid {grid}")
    if attention.shape[-1] != grid[0] * grid[1]:
        raise ValueError(
            f"contextual_residual_aggregation: attention has {attention.shape[-1]} keys, grid {grid} needs "
            f"{grid[0] * grid[1]}"
        )
    factor = height // low_h
    known = known_mask(known, image.dtype)
    image = torch.where(is_known(known), image, 0.0)

    def upsample(x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False)

    low_res_input = F.avg_pool2d(image, factor)
    residual = (image - upsample(low_res_input)) * known
    patch = (height // grid[0], width // grid[1])
    cells = F.unfold(residual, patch, stride=patch)  # B × (3·p_h·p_w) × L
    aggregated = F.fold(torch.bmm(cells, attention.transpose(1, 2)), (height, width), patch, stride=patch)
    return (upsample(low_res_output) + aggregated).clamp(-1.0, 1.0)
