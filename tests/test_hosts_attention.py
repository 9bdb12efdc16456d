"""PEN-Net's ATN and HiFill's ACM/ATM/CRA: vectorised code vs per-sample loops, mask semantics, exact fixtures."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
import torch
import torch.nn.functional as F

from inpaint.nn.attention_transfer import (
    ATTENTION_FLOOR,
    AttentionTransfer,
    hole_at_scale,
    masked_key_softmax,
    valid_keys,
)
from inpaint.nn.contextual_attention import (
    ContextualAttention,
    contextual_residual_aggregation,
    propagate_scores,
    transfer_to_level,
)

# ----------------------------------------------------------------------------------------------- references


def _patch(x: torch.Tensor, y: int, x0: int, k: int) -> torch.Tensor:
    """k×k patch centred at (y, x0) of C×H×W ``x`` with zero padding."""
    pad = k // 2
    return F.pad(x, (pad, pad, pad, pad))[:, y : y + k, x0 : x0 + k]


def _reference_atn(target, guide, hole_g, k, scale):
    """One sample of PEN-Net's ATN written with explicit loops (no unfold/fold, no bmm)."""
    _, h, w = guide.shape
    positions = [(y, x) for y in range(h) for x in range(w)]
    patches = [_patch(guide, y, x, k) for y, x in positions]
    hole_p = [_patch(hole_g[None], y, x, k) for y, x in positions]
    valid = torch.tensor([float(p.sum() == 0) for p in hole_p])
    padded_t = F.pad(target, (1, 1, 1, 1))
    out = torch.zeros(target.shape[0], 2 * h + 2, 2 * w + 2)
    weights = torch.zeros(len(positions), len(positions))
    for i, (qy, qx) in enumerate(positions):
        scores = torch.stack([(patches[i] * p).sum() / p.norm().clamp_min(1e-4) for p in patches])
        a = (torch.softmax(scale * scores * valid, 0) * valid).clamp_min(ATTENTION_FLOOR)
        weights[i] = a
        for j, (ky, kx) in enumerate(positions):
            source = padded_t[:, 2 * ky : 2 * ky + 4, 2 * kx : 2 * kx + 4]
            out[:, 2 * qy : 2 * qy + 4, 2 * qx : 2 * qx + 4] += a[j] * source
    return out[:, 1:-1, 1:-1] / 4.0, weights


def _reference_propagation(s: torch.Tensor, gh: int, gw: int) -> torch.Tensor:
    """HiFill's fuse on one L×L score image: identity-kernel conv, column-major re-flatten, conv, flatten back."""
    eye = torch.eye(3)[None, None]

    def diag(m):
        return F.conv2d(m[None, None], eye, padding=1)[0, 0]

    # column-major position a = x·gh + y of the row-major position i = y·gw + x
    to_cm = torch.tensor([(i % gw) * gh + i // gw for i in range(gh * gw)])
    s = diag(s)
    cm = torch.empty_like(s)
    cm[to_cm[:, None], to_cm[None, :]] = s
    cm = diag(cm)
    return cm[to_cm[:, None], to_cm[None, :]]


def _reference_acm(features, known, scale=10.0):
    """One sample of HiFill's ACM + level transfer with loops."""
    c, height, width = features.shape
    grid_map = features[:, ::2, ::2]
    gh, gw = height // 2, width // 2
    positions = [(y, x) for y in range(gh) for x in range(gw)]
    patches = [_patch(grid_map, y, x, 3) for y, x in positions]
    scores = torch.stack(
        [torch.stack([(q * p).sum() / (p * p).sum().clamp_min(1e-8).sqrt() for p in patches]) for q in patches]
    )
    scores = _reference_propagation(scores, gh, gw)
    hole = 1.0 - known[0]
    cell_h, cell_w = hole.shape[0] // gh, hole.shape[1] // gw
    cell_hole = torch.zeros(gh, gw)
    for y in range(gh):
        for x in range(gw):
            cell_hole[y, x] = hole[y * cell_h : (y + 1) * cell_h, x * cell_w : (x + 1) * cell_w].max()
    valid = torch.tensor([float(_patch(cell_hole[None], y, x, 3).max() == 0) for y, x in positions])
    attention = torch.softmax(scale * scores * valid, 1) * valid
    padded = F.pad(features, (1, 1, 1, 1))
    out = torch.zeros(c, height + 2, width + 2)
    for i, (qy, qx) in enumerate(positions):
        for j, (ky, kx) in enumerate(positions):
            source = padded[:, 2 * ky : 2 * ky + 3, 2 * kx : 2 * kx + 3]
            out[:, 2 * qy : 2 * qy + 3, 2 * qx : 2 * qx + 3] += attention[i, j] * source
    return attention, out[:, 1 : height + 1, 1 : width + 1]


def _square_hole(size: int, top: int, left: int, side: int, batch: int = 1) -> torch.Tensor:
    known = torch.ones(batch, 1, size, size)
    known[..., top : top + side, left : left + side] = 0.0
    return known


# ----------------------------------------------------------------------------------------------- PEN-Net ATN


@pytest.mark.parametrize("patch_size", [1, 3])
def test_atn_matches_per_sample_loop(patch_size: int) -> None:
    guide = torch.randn(2, 5, 4, 4)
    target = torch.randn(2, 3, 8, 8)
    known = torch.cat([_square_hole(16, 0, 0, 3), _square_hole(16, 0, 8, 5)])
    atn = AttentionTransfer(3, patch_size=patch_size, fuse=False)
    got = atn(target, guide, known)
    hole_g = hole_at_scale(known, (4, 4), "maxpool")
    n_valid = valid_keys(hole_g, patch_size).sum(dim=1)
    assert ((n_valid > 1) & (n_valid < 16)).all()  # both valid and masked keys take part
    weights = atn.attention(guide, known)
    for b in range(2):
        expected, expected_weights = _reference_atn(target[b], guide[b], hole_g[b, 0], patch_size, 10.0)
        torch.testing.assert_close(weights[b], expected_weights, rtol=1e-5, atol=1e-7)
        torch.testing.assert_close(got[b], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mask_resize", ["maxpool", "bilinear"])
@pytest.mark.parametrize("masked_softmax", ["zero_logit", "exclude"])
def test_atn_masked_out_patches_get_no_weight(mask_resize: str, masked_softmax: str) -> None:
    """Mirrors the τ test of the TSGL attention: a key patch touching the hole is never a source."""
    guide = torch.randn(1, 8, 8, 8) * 3.0
    known = _square_hole(32, 8, 8, 12)
    atn = AttentionTransfer(8, mask_resize=mask_resize, masked_softmax=masked_softmax)
    weights = atn.attention(guide, known)[0]  # Lq × Lk
    valid = valid_keys(hole_at_scale(known, (8, 8), mask_resize), 3)[0].bool()
    assert 0 < valid.sum() < valid.numel()
    assert weights[:, ~valid].max() < 1e-3
    assert (weights[:, valid].sum(dim=1) > 0.5).all()
    if masked_softmax == "exclude":
        torch.testing.assert_close(weights[:, valid].sum(dim=1), torch.ones(64), rtol=0, atol=1e-4)


def test_atn_key_validity_by_hand() -> None:
    """A 1-pixel hole in a 16² mask → guide cell (1, 2) at 4² is a hole; 3×3 keys around it are invalid."""
    known = torch.ones(1, 1, 16, 16)
    known[..., 5, 9] = 0.0  # cell (5 // 4, 9 // 4) = (1, 2)
    valid = valid_keys(hole_at_scale(known, (4, 4), "maxpool"), 3).view(4, 4)
    expected = torch.ones(4, 4)
    expected[0:3, 1:4] = 0.0
    torch.testing.assert_close(valid, expected)
    # a 1×1 key only excludes the cell itself
    assert valid_keys(hole_at_scale(known, (4, 4), "maxpool"), 1).view(4, 4).sum() == 15


def test_atn_no_valid_key_gives_zeros_not_nan() -> None:
    scores = torch.randn(1, 4, 4)
    for mode in ("zero_logit", "exclude"):
        weights = masked_key_softmax(scores, torch.zeros(1, 4), 10.0, mode)
        assert torch.isfinite(weights).all() and weights.abs().max() == 0


def test_atn_transfer_identity_attention_reproduces_target() -> None:
    """With a_ij = δ_ij every interior pixel is covered by its own 4 windows: ¼·4 = 1× (borders: ½ or ¼)."""
    target = torch.randn(1, 2, 8, 8)
    out = AttentionTransfer.transfer(target, torch.eye(16)[None])
    torch.testing.assert_close(out[..., 1:-1, 1:-1], target[..., 1:-1, 1:-1])
    torch.testing.assert_close(out[..., 0, 1:-1], target[..., 0, 1:-1] / 2)
    torch.testing.assert_close(out[..., 0, 0], target[..., 0, 0] / 4)


def test_atn_shape_mismatch_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="twice the guide"):
        AttentionTransfer(4)(torch.randn(1, 4, 8, 8), torch.randn(1, 4, 3, 3), torch.ones(1, 1, 16, 16))


# ----------------------------------------------------------------------------------------------- HiFill ACM / ATM


def test_score_propagation_matches_conv_reference() -> None:
    scores = torch.randn(2, 12, 12)
    got = propagate_scores(scores, (3, 4))
    for b in range(2):
        torch.testing.assert_close(got[b], _reference_propagation(scores[b], 3, 4))


def test_acm_matches_per_sample_loop() -> None:
    features = torch.randn(2, 4, 8, 8)
    known = torch.cat([_square_hole(32, 0, 0, 9), _square_hole(32, 20, 12, 10)])
    acm = ContextualAttention()
    attention, pasted = acm(features, known)
    n_valid = acm.key_validity(known, (4, 4)).sum(dim=1)
    assert ((n_valid > 1) & (n_valid < 16)).all()
    for b in range(2):
        ref_attention, ref_pasted = _reference_acm(features[b], known[b])
        torch.testing.assert_close(attention[b], ref_attention, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(pasted[b], ref_pasted, rtol=1e-5, atol=1e-5)


def test_acm_masked_out_patches_get_no_weight() -> None:
    """Mirrors the τ test: keys whose (one-cell dilated) grid cell touches the hole get ~0 weight."""
    features = torch.randn(1, 8, 16, 16) * 3.0
    known = _square_hole(128, 40, 40, 20)  # grid 8×8 of 16-pixel cells: hole cells (2..3, 2..3)
    acm = ContextualAttention()
    attention, _ = acm(features, known)
    valid = acm.key_validity(known, (8, 8))[0].view(8, 8)
    expected = torch.ones(8, 8)
    expected[1:5, 1:5] = 0.0  # cells 2..3 dilated by one cell
    torch.testing.assert_close(valid, expected)
    assert attention[0][:, ~valid.flatten().bool()].max() < 1e-3
    assert (attention[0][:, valid.flatten().bool()].sum(dim=1) > 0.5).all()


def test_atm_identity_attention_has_uniform_gain_four() -> None:
    """ATM pastes 2r×2r patches at stride r: away from the border every pixel is covered 4 times (no ¼)."""
    skip = torch.randn(1, 3, 32, 32)
    out = transfer_to_level(skip, torch.eye(16)[None], (4, 4))
    torch.testing.assert_close(out[..., 4:-4, 4:-4], 4.0 * skip[..., 4:-4, 4:-4])


def test_atm_rejects_mismatched_grid() -> None:
    with pytest.raises(ValueError, match="multiple of the attention grid"):
        transfer_to_level(torch.randn(1, 3, 30, 30), torch.eye(16)[None], (4, 4))


def test_cra_copies_the_attended_residual_into_the_hole() -> None:
    """Query cell 0 attends only to key cell 3: its high-frequency residual is cell 3's residual."""
    torch.manual_seed(1)
    image = torch.rand(1, 3, 16, 16) * 2 - 1
    known = torch.ones(1, 1, 16, 16)
    known[..., :8, :8] = 0.0  # cell 0 of the 2×2 grid is the hole
    low = torch.zeros(1, 3, 8, 8)
    attention = torch.zeros(1, 4, 4)
    attention[0, 0, 3] = 1.0
    out = contextual_residual_aggregation(image, known, low, attention, (2, 2))
    masked = image * known
    residual = masked - F.interpolate(F.avg_pool2d(masked, 2), size=(16, 16), mode="bilinear", align_corners=False)
    torch.testing.assert_close(out[..., :8, :8], residual[..., 8:, 8:].clamp(-1, 1))
    assert out[..., :8, 8:].abs().max() == 0  # no attention rows elsewhere → only the (zero) low-res base


def test_cra_hole_pixels_do_not_leak() -> None:
    image = torch.rand(1, 3, 32, 32) * 2 - 1
    known = _square_hole(32, 8, 8, 10)
    attention = torch.softmax(torch.randn(1, 4, 4), -1)
    low = torch.rand(1, 3, 16, 16) * 2 - 1
    other = torch.where(known.bool(), image, torch.rand_like(image))
    torch.testing.assert_close(
        contextual_residual_aggregation(image, known, low, attention, (2, 2)),
        contextual_residual_aggregation(other, known, low, attention, (2, 2)),
        rtol=0,
        atol=0,
    )


@pytest.mark.numerics
def test_bilinear_hole_support_is_exact() -> None:
    """The bilinear mask resize counts a hole wherever exact arithmetic gives a hole pixel any weight, and nowhere
    else: float resizing leaks ~1e-6 onto a neighbour at some integer sample positions (e.g. 14 → 12 at j = 11),
    which a threshold at 0 would turn into a hole that depends on the machine."""
    for size_in in range(2, 40):
        for size_out in range(1, size_in + 1):
            eye = torch.eye(size_in).view(size_in, 1, size_in, 1)  # sample i: a single hole pixel at row i
            known = 1.0 - eye
            got = hole_at_scale(known, (size_out, 1), "bilinear").view(size_in, size_out) > 0
            for j in range(size_out):
                position = Fraction(j * (size_in - 1), max(size_out - 1, 1))
                weighted = {math.floor(position), math.ceil(position)}
                assert {i for i in range(size_in) if got[i, j]} == weighted, (size_in, size_out, j)
            reference = F.interpolate(eye, size=(size_out, 1), mode="bilinear", align_corners=True)
            reference = reference.view(size_in, size_out)
            clear = (reference == 0) | (reference >= 1e-5)  # away from float fuzz: the resize itself decides
            assert torch.equal(got[clear], (reference > 0)[clear])
