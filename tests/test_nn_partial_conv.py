"""Partial convolution (paper Eq. 1–2): hand-computed 4×4 case, all-ones reduction, mask layouts."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from inpaint.nn.partial_conv import PartialConv2d, mask_window

pytestmark = pytest.mark.numerics  # mask windows and thresholds: exact on every kernel family


def _layer(bias: float = 0.5) -> PartialConv2d:
    layer = PartialConv2d(1, 1, 3, stride=1, padding=1, bias=True)
    with torch.no_grad():
        layer.conv.weight.fill_(1.0)
        layer.conv.bias.fill_(bias)
    return layer


def test_hand_computed_4x4() -> None:
    x = torch.arange(1.0, 17.0).view(1, 1, 4, 4)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1.0]]).view(1, 1, 4, 4)
    y, new_mask = _layer()(x, mask)
    # known pixels: (0,0)=1, (0,1)=2, (1,0)=5, (1,1)=6, (3,3)=16; all-ones 3×3 weights, zero padding, sum(1)=9
    # out(0,0): window rows -1..1, cols -1..1 -> known {1,2,5,6}: 14 * 9/4 + 0.5
    assert y[0, 0, 0, 0].item() == pytest.approx(14 * 9 / 4 + 0.5)
    # out(1,2): rows 0..2, cols 1..3 -> known {2, 6}: 8 * 9/2 + 0.5
    assert y[0, 0, 1, 2].item() == pytest.approx(8 * 9 / 2 + 0.5)
    # out(2,2): rows 1..3, cols 1..3 -> known {6, 16}: 22 * 9/2 + 0.5
    assert y[0, 0, 2, 2].item() == pytest.approx(22 * 9 / 2 + 0.5)
    # out(0,3): rows -1..1, cols 2..4 -> no known pixel: 0 and mask 0 (Eq. 1 "otherwise", Eq. 2)
    assert y[0, 0, 0, 3].item() == 0.0
    assert new_mask[0, 0, 0, 3].item() == 0.0
    expected_mask = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 0], [1, 1, 1, 1], [0, 0, 1, 1.0]])
    assert torch.equal(new_mask[0, 0], expected_mask)


def test_all_ones_mask_is_plain_conv() -> None:
    torch.manual_seed(0)
    layer = PartialConv2d(3, 5, 3, stride=1, padding=0, bias=True)  # no padding: every window is full
    x = torch.randn(2, 3, 8, 8)
    y, new_mask = layer(x, torch.ones(2, 1, 8, 8))
    assert torch.allclose(y, F.conv2d(x, layer.conv.weight, layer.conv.bias), atol=1e-5)
    assert torch.all(new_mask == 1)


def test_all_ones_with_padding_rescales_borders() -> None:
    layer = _layer(bias=0.0)
    y, _ = layer(torch.ones(1, 1, 4, 4), torch.ones(1, 1, 4, 4))
    # a constant image stays constant under the 9/sum rescaling: every output is 9
    assert torch.allclose(y, torch.full_like(y, 9.0))


def test_multi_channel_equal_channels_matches_single_channel() -> None:
    mask = (torch.rand(2, 1, 9, 9) > 0.5).float()
    single = mask_window(mask, 5, 2, 2)
    multi = mask_window(mask.expand(-1, 3, -1, -1), 5, 2, 2)
    assert torch.allclose(single.ratio, multi.ratio)
    assert torch.equal(single.mask, multi.mask)


def test_multi_channel_ratio_counts_all_entries() -> None:
    mask = torch.zeros(1, 2, 3, 3)
    mask[0, 0, 1, 1] = 1.0  # 1 of 2·9 entries known
    window = mask_window(mask, 3, 1, 0)
    assert window.ratio.item() == pytest.approx(18.0)
    assert window.mask.item() == 1.0


def test_official_ordering_scales_after_activation() -> None:
    layer = PartialConv2d(1, 1, 3, padding=1, bias=True, activation=torch.nn.ReLU(), mask_input=False,
                          ratio_position="after_activation")
    with torch.no_grad():
        layer.conv.weight.fill_(1.0)
        layer.conv.bias.fill_(-1.0)
    x = torch.ones(1, 1, 3, 3)
    mask = torch.zeros(1, 1, 3, 3)
    mask[0, 0, 1, 1] = 1.0
    y, _ = layer(x, mask)
    # centre: relu(9 - 1) * 9/1 ; the input is not masked in this mode
    assert y[0, 0, 1, 1].item() == pytest.approx(72.0)


def test_bad_ratio_position() -> None:
    with pytest.raises(ValueError, match="ratio_position"):
        PartialConv2d(1, 1, 3, ratio_position="sometimes")  # type: ignore[arg-type]
