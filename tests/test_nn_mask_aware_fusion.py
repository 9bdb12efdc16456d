"""Mask-aware representation fusion (seed 003 Eq. 9): exact masks per branch on hand-made masks (levels two apart
do not meet), hole values never contribute, and the fused value is the count-normalised sum of contributions."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from inpaint.nn.mask_aware_fusion import MaskAwareFusion

pytestmark = pytest.mark.numerics

WIDTHS = (2, 3, 4)
SIZES = (8, 4, 2)


def _inputs() -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    torch.manual_seed(0)
    m0 = torch.zeros(1, 1, 8, 8)
    m0[..., 0, 0] = 1.0  # one known pixel at the finest branch
    m1 = torch.zeros(1, 1, 4, 4)  # the middle branch is all hole
    m2 = torch.zeros(1, 1, 2, 2)
    m2[..., 1, 1] = 1.0  # one known cell at the coarsest
    masks = [m0, m1, m2]
    features = [torch.randn(1, c, s, s) * m for c, s, m in zip(WIDTHS, SIZES, masks)]
    return features, masks


def test_masks_propagate_as_eq9_reads() -> None:
    fusion = MaskAwareFusion(WIDTHS)
    features, masks = _inputs()
    _, fused = fusion(features, masks)
    e0 = torch.zeros(8, 8)
    e0[0, 0] = 1.0  # itself
    e0[4:, 4:] = 1.0  # the coarsest cell (1, 1), nearest-upsampled ×4
    e1 = torch.zeros(4, 4)
    e1[0, 0] = 1.0  # the stride-2 3×3 window of output (0, 0) covers input rows/cols -1…1: the finest (0, 0)
    e1[2:, 2:] = 1.0  # the coarsest cell, upsampled ×2
    e2 = torch.zeros(2, 2)
    e2[1, 1] = 1.0  # itself; the finest branch is two levels away and does not feed it, the middle one is all hole
    assert [m[0, 0].tolist() for m in fused] == [e0.tolist(), e1.tolist(), e2.tolist()]


def test_hole_values_never_contribute() -> None:
    fusion = MaskAwareFusion(WIDTHS)
    features, masks = _inputs()
    scrambled = [torch.where(m.bool(), x, torch.randn_like(x) * 100) for x, m in zip(features, masks)]
    first, first_masks = fusion(features, masks)
    second, second_masks = fusion(scrambled, masks)
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert all(torch.equal(a, b) for a, b in zip(first_masks, second_masks))
    assert all(torch.equal(x * (1 - m), torch.zeros_like(x)) for x, m in zip(first, first_masks))


def test_fused_value_is_the_mean_over_valid_contributions() -> None:
    torch.manual_seed(1)
    fusion = MaskAwareFusion(WIDTHS).double()
    masks = [(torch.rand(2, 1, s, s) > 0.4).double() for s in SIZES]
    masks[0][..., :, 4:] = 0.0  # the right half of the finest branch is a hole: some stride-2 windows are empty
    masks[2][..., :, 1:] = 0.0
    features = [torch.randn(2, c, s, s, dtype=torch.float64) for c, s in zip(WIDTHS, SIZES)]
    fused, fused_masks = fusion(features, masks)
    # branch 1 by hand: itself + lifted coarsest (nearest ×2) + the finest through the stride-2 partial conv
    x0, x1, x2 = (x * m for x, m in zip(features, masks))
    m0, m1, m2 = masks
    lifted = F.interpolate(F.conv2d(x2, fusion.lift["2to1"].weight), scale_factor=2, mode="nearest")
    count0 = F.conv2d(m0, torch.ones(1, 1, 3, 3, dtype=torch.float64), stride=2, padding=1)
    down_mask = (count0 > 0).double()
    down = F.conv2d(x0, fusion.down["0to1"].conv.weight, stride=2, padding=1) * 9 / count0.clamp(min=1) * down_mask
    count = m1 + F.interpolate(m2, scale_factor=2, mode="nearest") + down_mask
    total = x1 + lifted + down
    expected = torch.where(count > 0, total / count.clamp(min=1), torch.zeros_like(total))
    assert torch.allclose(fused[1], expected, rtol=0, atol=1e-12)
    assert torch.equal(fused_masks[1], (count > 0).double())
    assert set(count.unique().tolist()) >= {0.0, 1.0, 2.0}  # the fixture exercises empty and multi-way fusion


def test_channel_matching_has_no_bias_and_plain_mode_averages() -> None:
    fusion = MaskAwareFusion(WIDTHS, partial=False)
    assert all(conv.bias is None for conv in fusion.lift.values())
    assert all(conv.conv.bias is None for conv in fusion.down.values())
    ones = [torch.ones(1, 1, s, s) for s in SIZES]
    features = [torch.randn(1, c, s, s) for c, s in zip(WIDTHS, SIZES)]
    fused, masks = fusion(features, ones)
    lifted = F.interpolate(F.conv2d(features[2], fusion.lift["2to1"].weight), scale_factor=2, mode="nearest")
    down = F.conv2d(features[0], fusion.down["0to1"].conv.weight, stride=2, padding=1)  # a plain conv at the frame
    assert torch.allclose(fused[1], (features[1] + lifted + down) / 3, atol=1e-6)
    assert all(torch.equal(m, o) for m, o in zip(masks, ones))


def test_branch_sizes_must_halve() -> None:
    fusion = MaskAwareFusion((2, 3))
    with pytest.raises(ValueError, match="halve"):
        fusion([torch.zeros(1, 2, 8, 8), torch.zeros(1, 3, 3, 3)], [torch.ones(1, 1, 8, 8), torch.ones(1, 1, 3, 3)])
    with pytest.raises(ValueError, match="expected 2 branches"):
        fusion([torch.zeros(1, 2, 8, 8)], [torch.ones(1, 1, 8, 8)])
