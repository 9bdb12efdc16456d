"""The partial-conv residual block (seed 003's branch unit): mask growth, the residual path, holes kept at zero,
the pluggable mask rule and the plain-conv ablation mode, against references written with F.conv2d."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from inpaint.nn.partial_conv import ConvGeometry, mask_window
from inpaint.nn.pconv_residual import PConvBasicBlock
from inpaint.nn.priority_mask import PriorityMaskUpdate

pytestmark = pytest.mark.numerics


def _mask() -> torch.Tensor:
    mask = torch.ones(2, 1, 10, 10)
    mask[0, :, 2:9, 3:8] = 0.0
    mask[0, :, 5, 5] = 1.0  # an isolated known pixel: its hole neighbours see S = 1, far below the border's best
    mask[1, :, :, 4:] = 0.0
    return mask


def _block(channels: int = 3, **kwargs) -> PConvBasicBlock:
    torch.manual_seed(0)
    block = PConvBasicBlock(channels, **kwargs)
    with torch.no_grad():  # non-trivial BN statistics and affine terms, used in eval mode
        for norm in (block.norm1, block.norm2):
            norm.running_mean.uniform_(-0.5, 0.5)
            norm.running_var.uniform_(0.5, 2.0)
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.uniform_(-0.5, 0.5)
    return block.eval()


def test_mask_grows_by_two_vanilla_steps_and_holes_stay_zero() -> None:
    block, mask = _block(), _mask()
    x = torch.randn(2, 3, 10, 10) * mask
    y, new_mask = block(x, mask)
    expected = mask_window(mask_window(mask, 3, 1, 1).mask, 3, 1, 1).mask
    assert torch.equal(new_mask, expected) and bool((expected > mask).any())
    assert torch.equal(y * (1 - expected), torch.zeros_like(y))  # BN's shift never lands in the remaining hole


def test_hole_values_never_reach_the_output() -> None:
    block, mask = _block(), _mask()
    x = torch.randn(2, 3, 10, 10)
    scrambled = torch.where(mask.bool(), x, torch.randn_like(x) * 100)
    assert torch.equal(block(x, mask)[0], block(scrambled, mask)[0])


def test_against_a_reference_composition() -> None:
    block, mask = _block(), _mask()
    x = torch.randn(2, 3, 10, 10)

    def pconv(h: torch.Tensor, m: torch.Tensor, weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        count = F.conv2d(m, torch.ones(1, 1, 3, 3), padding=1)
        new = (count > 0).float()
        return F.conv2d(h * m, weight, padding=1) * 9 / count.clamp(min=1) * new, new

    def bn(h: torch.Tensor, norm: torch.nn.BatchNorm2d) -> torch.Tensor:
        return F.batch_norm(h, norm.running_mean, norm.running_var, norm.weight, norm.bias, False, 0.0, norm.eps)

    h, m1 = pconv(x, mask, block.conv1.conv.weight)
    h, m2 = pconv(F.relu(bn(h, block.norm1)), m1, block.conv2.conv.weight)
    reference = F.relu(bn(h, block.norm2) + x * mask) * m2
    y, _ = block(x, mask)
    assert torch.allclose(y, reference, atol=1e-5)


def test_residual_path_alone() -> None:
    block, mask = _block(), _mask()
    with torch.no_grad():
        block.conv2.conv.weight.zero_()
        block.norm2.running_mean.zero_(), block.norm2.running_var.fill_(1.0 - block.norm2.eps)
        block.norm2.weight.fill_(1.0), block.norm2.bias.zero_()
    x = torch.randn(2, 3, 10, 10)
    y, new_mask = block(x, mask)
    assert torch.equal(y, F.relu(x * mask) * new_mask)  # conv branch silent: ReLU of the masked input


def test_the_mask_rule_is_pluggable() -> None:
    rule = PriorityMaskUpdate("none", delta=0.5)
    block, mask = _block(mask_update=rule), _mask()
    x = torch.randn(2, 3, 10, 10) * mask
    _, new_mask = block(x, mask)
    geometry = ConvGeometry(3, 1, 1)
    once = rule(x, mask, geometry).mask
    expected = rule(x, once, geometry).mask  # ρ ≡ 1: the second step's choice does not depend on the features
    assert torch.equal(new_mask, expected)
    assert bool((expected < mask_window(mask_window(mask, 3, 1, 1).mask, 3, 1, 1).mask).any())


def test_plain_mode_is_hrnets_basic_block() -> None:
    block, mask = _block(partial=False), _mask()
    x = torch.randn(2, 3, 10, 10)
    y, new_mask = block(x, mask)

    def bn(h: torch.Tensor, norm: torch.nn.BatchNorm2d) -> torch.Tensor:
        return F.batch_norm(h, norm.running_mean, norm.running_var, norm.weight, norm.bias, False, 0.0, norm.eps)

    h = F.relu(bn(F.conv2d(x, block.conv1.conv.weight, padding=1), block.norm1))
    reference = F.relu(bn(F.conv2d(h, block.conv2.conv.weight, padding=1), block.norm2) + x)
    assert torch.allclose(y, reference, atol=1e-5) and torch.equal(new_mask, torch.ones_like(mask))
    assert block.conv1.conv.bias is None and block.conv1.mask_update is None
