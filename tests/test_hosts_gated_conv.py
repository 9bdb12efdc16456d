"""Light-weight gated convolutions (HiFill): gate variants, parameter counts, initialisation."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from inpaint.models.generators.hifill import HiFillGenerator
from inpaint.nn.gated_conv import GatedUpConv2d, LightweightGatedConv2d


@pytest.mark.parametrize(
    ("gate", "gate_params"),
    [("full", 9 * 6 * 4 + 4), ("single", 9 * 6 + 1), ("pixel", 6 * 4 + 4), ("depthwise", (9 * 6 + 6) + (6 * 4 + 4))],
)
def test_gate_variants_parameter_counts_and_shapes(gate: str, gate_params: int) -> None:
    layer = LightweightGatedConv2d(6, 4, 3, stride=2, gate=gate)
    assert sum(p.numel() for p in layer.gate.parameters()) == gate_params
    assert layer(torch.randn(2, 6, 16, 16)).shape == (2, 4, 8, 8)


def test_output_is_sigmoid_gate_times_elu_feature() -> None:
    layer = LightweightGatedConv2d(3, 5, 3, dilation=2, gate="single")
    x = torch.randn(1, 3, 12, 12)
    feature = F.conv2d(x, layer.feature.weight, layer.feature.bias, padding=2, dilation=2)
    gate = F.conv2d(x, layer.gate.weight, layer.gate.bias, padding=2, dilation=2)
    torch.testing.assert_close(layer(x), torch.sigmoid(gate) * F.elu(feature))
    assert gate.shape[1] == 1  # one gate broadcast over all five channels


def test_up_layer_doubles_size_and_rejects_bad_options() -> None:
    assert GatedUpConv2d(4, 2)(torch.randn(1, 4, 5, 6)).shape == (1, 2, 10, 12)
    assert GatedUpConv2d(4, 2, gate="full", mode="nearest")(torch.randn(1, 4, 5, 6)).shape == (1, 2, 10, 12)
    with pytest.raises(ValueError, match="gate must be one of"):
        LightweightGatedConv2d(3, 3, gate="dense")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="activation must be"):
        LightweightGatedConv2d(3, 3, activation="gelu")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mode must be"):
        GatedUpConv2d(4, 2, mode="bicubic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="odd"):
        LightweightGatedConv2d(3, 3, 4)


def test_fan_in_init_keeps_signal_while_hifill_init_vanishes() -> None:
    """Why the default init deviates from HiFill's fixed std 0.05 (see docs/hosts.md)."""
    image = torch.rand(1, 3, 64, 64) * 2 - 1
    known = torch.ones(1, 1, 64, 64)
    known[..., 16:40, 20:44] = 0.0
    with torch.no_grad():
        default = HiFillGenerator(size="small")(image, known).image
        original = HiFillGenerator(size="small", init="hifill")(image, known).image
    assert default.std() > 0.05
    assert original.std() < 1e-3
