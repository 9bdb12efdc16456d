"""Seed 003's priority mask update (Eq. 5–8) on hand-made 8×8 inputs, and the partial conv's pluggable rule.

Fixtures use small integer (or dyadic) values, so every Sobel sum, S and q is exact and no priority comparison sits
near δ·q_max unless both sides are exact small integers.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from inpaint.nn.partial_conv import ConvGeometry, PartialConv2d, mask_window, vanilla_mask_update
from inpaint.nn.priority_mask import PriorityMaskUpdate, contextual_residue, contour_striking

pytestmark = pytest.mark.numerics  # thresholds on priorities: decisions must not depend on the kernels

SAME3 = ConvGeometry(3, 1, 1)


def _left_known() -> torch.Tensor:
    """Known columns 0–3, hole columns 4–7: a straight vertical border; the border pixels are column 4."""
    mask = torch.zeros(1, 1, 8, 8)
    mask[..., :4] = 1.0
    return mask


def _horizontal_edge(low: float = 1.0, high: float = 3.0) -> torch.Tensor:
    """Rows 0–3 = low, rows 4–7 = high: its isophote runs horizontally, across the vertical mask border."""
    x = torch.full((1, 2, 8, 8), low)
    x[..., 4:, :] = high
    return x


def _vertical_edge() -> torch.Tensor:
    """Columns 0–1 = 1, columns 2–7 = 3: its isophote runs vertically, along the mask border."""
    x = torch.full((1, 2, 8, 8), 3.0)
    x[..., :2] = 1.0
    return x


def test_contour_priority_peaks_where_the_isophote_crosses_the_border() -> None:
    mask = _left_known()
    rule = PriorityMaskUpdate("contour", delta=0.5)
    q = rule.priority(_horizontal_edge(), mask, SAME3)
    # border pixel (r, 4): n = (-1, 0) and n·∇X^⊥ = g_y of X⊙M = X[r+1, 3] - X[r-1, 3] (only column 3 is known);
    # S = 3 inside, 2 in the corner rows (zero padding). The step between rows 3 and 4 gives ρ = 2 at rows 3 and 4.
    expected = torch.zeros(1, 1, 8, 8, dtype=torch.float64)
    expected[0, 0, 3, 4] = expected[0, 0, 4, 4] = 3 * 2.0
    assert torch.equal(q, expected)
    window = rule(_horizontal_edge(), mask, SAME3)
    grown = mask.clone()
    grown[0, 0, 3:5, 4] = 1.0  # only the two crossing pixels are filled; the rest of the border stays a hole
    assert torch.equal(window.mask, grown)


def test_an_edge_parallel_to_the_border_gives_no_priority_and_falls_back_to_the_vanilla_rule() -> None:
    mask = _left_known()
    rule = PriorityMaskUpdate("contour", delta=0.5)
    assert torch.equal(rule.priority(_vertical_edge(), mask, SAME3), torch.zeros(1, 1, 8, 8, dtype=torch.float64))
    # q_max = 0: 0 ≥ δ·0 fills the whole border, exactly the vanilla mask
    assert torch.equal(rule(_vertical_edge(), mask, SAME3).mask, mask_window(mask, 3, 1, 1).mask)


def test_threshold_keeps_border_pixels_below_delta_qmax_as_holes() -> None:
    mask = _left_known()
    x = torch.zeros(1, 1, 8, 8)
    x[..., 2:, :] = 1.0  # a weak step between rows 1 and 2 (ρ = 1 at rows 1, 2)
    x[..., 6:, :] = 5.0  # a strong step between rows 5 and 6 (ρ = 4 at rows 5, 6)
    q = PriorityMaskUpdate("contour").priority(x, mask, SAME3)[0, 0, :, 4]
    assert q.tolist() == [0.0, 3.0, 3.0, 0.0, 0.0, 12.0, 12.0, 0.0]
    strict = PriorityMaskUpdate("contour", delta=0.5)(x, mask, SAME3).mask[0, 0, :, 4]  # threshold 6
    assert strict.tolist() == [0, 0, 0, 0, 0, 1, 1, 0]
    loose = PriorityMaskUpdate("contour", delta=0.2)(x, mask, SAME3).mask[0, 0, :, 4]  # threshold 2.4
    assert loose.tolist() == [0, 1, 1, 0, 0, 1, 1, 0]
    everything = PriorityMaskUpdate("contour", delta=0.0)(x, mask, SAME3).mask
    assert torch.equal(everything, mask_window(mask, 3, 1, 1).mask)


def test_qmax_is_per_image() -> None:
    mask = _left_known().repeat(2, 1, 1, 1)
    x = torch.cat([_horizontal_edge(1.0, 3.0), _horizontal_edge(0.25, 0.75)])  # the second 4× weaker (dyadic)
    q = PriorityMaskUpdate("contour").priority(x, mask, SAME3)
    assert q[0, 0, 3, 4].item() == 6.0 and q[1, 0, 3, 4].item() == 1.5
    new = PriorityMaskUpdate("contour")(x, mask, SAME3).mask
    assert torch.equal(new[0], new[1])  # a batch-wide q_max would leave the weak image's border all holes


def _residue_reference(x: torch.Tensor) -> torch.Tensor:
    """X − U·D·X·Dᵀ·Uᵀ for an 8×8 map, with the 1-D ×½ (pair means) and ×2 (bilinear, half-pixel centres, edge
    clamp) matrices written out by hand."""
    down = torch.zeros(4, 8, dtype=torch.float64)
    for i in range(4):
        down[i, 2 * i] = down[i, 2 * i + 1] = 0.5
    up = torch.zeros(8, 4, dtype=torch.float64)
    for i in range(8):
        source = min(max((i + 0.5) / 2 - 0.5, 0.0), 3.0)
        lo = int(source)
        hi = min(lo + 1, 3)
        up[i, lo] += 1 - (source - lo)
        up[i, hi] += source - lo
    resample = up @ down
    return x - resample @ x @ resample.t()


def _sobel_reference(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(g_x, g_y) of an H×W map by explicit sums, replicate padding."""
    h, w = x.shape
    gx, gy = torch.zeros_like(x), torch.zeros_like(x)
    weights = {-1: 1.0, 0: 2.0, 1: 1.0}
    for r in range(h):
        for c in range(w):
            def at(i: int, j: int) -> float:
                return float(x[min(max(i, 0), h - 1), min(max(j, 0), w - 1)])
            gx[r, c] = sum(wt * (at(r + d, c + 1) - at(r + d, c - 1)) for d, wt in weights.items())
            gy[r, c] = sum(wt * (at(r + 1, c + d) - at(r - 1, c + d)) for d, wt in weights.items())
    return gx, gy


def test_residue_priority_against_a_float64_reference() -> None:
    mask = _left_known()
    x = _horizontal_edge()
    x[..., 1::2, :2] += 1.0  # some texture on the known side, so the residue is not just the step
    features = (x.double() * mask.double()).mean(dim=1)[0]
    residue = _residue_reference(features)
    assert torch.allclose(contextual_residue(features[None, None])[0, 0], residue, rtol=0, atol=1e-12)
    gx, gy = _sobel_reference(residue)
    mx, my = _sobel_reference(mask[0, 0].double())
    norm = (mx ** 2 + my ** 2).sqrt()
    rho = torch.where(norm > 0, (-mx * gy + my * gx).abs() / norm.clamp(min=1e-30), torch.zeros_like(norm))
    count = F.conv2d(mask.double(), torch.ones(1, 1, 3, 3, dtype=torch.float64), padding=1)[0, 0]
    border = (mask[0, 0] == 0) & (count > 0)
    expected = torch.where(border, count * rho, torch.zeros_like(rho))
    q = PriorityMaskUpdate("residue").priority(x, mask, SAME3)[0, 0]
    assert torch.allclose(q, expected, rtol=0, atol=1e-12)
    # the residue turns the step into a ±½ dipole at rows 3 / 4, whose gradient peaks on either side of it; all
    # values are dyadic, hence exact
    assert q[:, 4].tolist() == [0.0, 0.0, 1.875, 0.375, 0.375, 1.875, 0.0, 0.0]
    assert not torch.equal(q, PriorityMaskUpdate("contour").priority(x, mask, SAME3)[0, 0])


def test_contour_striking_needs_a_normal() -> None:
    mask = torch.ones(1, 1, 5, 5, dtype=torch.float64)
    mask[..., :, 2] = 0.0  # a one-pixel column hole: Sobel of the mask cancels on it (known on both sides)
    features = torch.arange(25.0, dtype=torch.float64).view(1, 1, 5, 5)
    assert torch.equal(contour_striking(features, mask)[..., 2], torch.zeros(1, 1, 5, dtype=torch.float64))


def _irregular_mask() -> torch.Tensor:
    mask = torch.ones(2, 1, 8, 8)
    mask[0, :, 2:7, 1:6] = 0.0
    mask[0, :, 4, 0] = 0.0
    mask[1, :, :, 5:] = 0.0
    mask[1, :, 0:3, 2:5] = 0.0
    return mask


def test_rho_none_is_the_vanilla_rule_plus_the_threshold() -> None:
    mask = _irregular_mask()
    x = torch.randn(2, 3, 8, 8)
    vanilla = mask_window(mask, 3, 1, 1)
    count = F.conv2d(mask, torch.ones(1, 1, 3, 3), padding=1)  # integers
    new_border = (vanilla.mask > 0.5) & (mask < 0.5)
    s_max = torch.where(new_border, count, torch.zeros_like(count)).amax(dim=(1, 2, 3), keepdim=True)
    expected = ((mask > 0.5) | (new_border & (2 * count >= s_max))).float()  # S ≥ 0.5·S_max in integers
    assert bool((expected < vanilla.mask).any())  # the threshold really withholds some border pixels
    window = PriorityMaskUpdate("none", delta=0.5)(x, mask, SAME3)
    assert torch.equal(window.mask, expected)
    assert torch.equal(window.ratio, vanilla.ratio * expected)  # Ω/S where filled, 0 where withheld
    loose = PriorityMaskUpdate("none", delta=0.0)(x, mask, SAME3)
    assert torch.equal(loose.mask, vanilla.mask) and torch.equal(loose.ratio, vanilla.ratio)


def test_partial_conv_default_rule_is_unchanged_bit_for_bit() -> None:
    torch.manual_seed(0)
    mask, x = _irregular_mask(), torch.randn(2, 3, 8, 8)
    layer = PartialConv2d(3, 4, 3, 1, 1, bias=True)
    y, new_mask = layer(x, mask)
    # the pre-hook formula: Eq. 1 on the masked input, bias only where the new mask is 1
    window = mask_window(mask, 3, 1, 1)
    reference = F.conv2d(x * mask, layer.conv.weight, None, 1, 1) * window.ratio
    reference = reference + layer.conv.bias.view(1, -1, 1, 1) * window.mask
    assert torch.equal(y, reference) and torch.equal(new_mask, window.mask)
    for rule in (vanilla_mask_update, PriorityMaskUpdate("none", delta=0.0), PriorityMaskUpdate("contour", 0.0)):
        hooked = PartialConv2d(3, 4, 3, 1, 1, bias=True, mask_update=rule)
        hooked.load_state_dict(layer.state_dict())
        y2, m2 = hooked(x, mask)
        assert torch.equal(y2, y) and torch.equal(m2, new_mask)


def test_partial_conv_with_the_priority_rule() -> None:
    torch.manual_seed(0)
    mask = _left_known()
    x = _horizontal_edge().requires_grad_(True)
    layer = PartialConv2d(2, 3, 3, 1, 1, bias=True, mask_update=PriorityMaskUpdate("contour"))
    y, new_mask = layer(x, mask)
    expected = mask.clone()
    expected[0, 0, 3:5, 4] = 1.0
    assert torch.equal(new_mask, expected) and not new_mask.requires_grad
    assert torch.equal(y * (1 - expected), torch.zeros_like(y))  # withheld border pixels output 0, bias included
    plain = PartialConv2d(2, 3, 3, 1, 1, bias=True)
    plain.load_state_dict(layer.state_dict())
    y_vanilla, _ = plain(x, mask)
    assert torch.equal(y * expected, y_vanilla * expected)  # filled pixels: the same Eq. 1 value
    y.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert "PriorityMaskUpdate(rho='contour', delta=0.5)" in repr(layer)


def test_no_border_and_no_known_pixel() -> None:
    rule = PriorityMaskUpdate("contour")
    x = torch.randn(1, 2, 6, 6)
    full = rule(x, torch.ones(1, 1, 6, 6), SAME3)
    assert torch.equal(full.mask, torch.ones(1, 1, 6, 6))
    empty = rule(x, torch.zeros(1, 1, 6, 6), SAME3)
    assert torch.equal(empty.mask, torch.zeros(1, 1, 6, 6)) and torch.equal(empty.ratio, torch.zeros(1, 1, 6, 6))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="rho must be one of"):
        PriorityMaskUpdate("gradient")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="delta"):
        PriorityMaskUpdate(delta=1.5)
    with pytest.raises(ValueError, match="stride-1"):
        PriorityMaskUpdate()(torch.zeros(1, 1, 8, 8), _left_known(), ConvGeometry(3, 2, 1))
    with pytest.raises(ValueError, match="B×1×H×W"):
        PriorityMaskUpdate()(torch.zeros(1, 2, 8, 8), _left_known().repeat(1, 2, 1, 1), SAME3)
    with pytest.raises(ValueError, match="pass x"):
        PartialConv2d(1, 1, 3, 1, 1, mask_update=PriorityMaskUpdate()).window(_left_known())
