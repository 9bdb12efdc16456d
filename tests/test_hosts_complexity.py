"""Parameter and multiply-add counts of the native hosts at paper widths (TSGL Table III; docs/hosts.md).

MACs come from :mod:`inpaint.models.complexity` (``FlopCounterMode``; 1 MAC = 2 FLOP), on the meta device.
Only convolutions and matrix products are counted: FFTs, BatchNorm, activations and interpolation are not.
A transposed convolution is counted at its input positions (its true number of multiply-adds).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from inpaint.models.complexity import count_parameters, generator_macs
from inpaint.models.generators.hifill import HiFillGenerator
from inpaint.models.generators.lama import LaMaGenerator
from inpaint.models.generators.pennet import PENNetGenerator


def count_params_macs(build: Callable[[], nn.Module], resolution: int) -> dict[str, float]:
    """{"params", "macs", "by_part"} of ``build()`` for one resolution² input, counted on ``meta`` (no compute)."""
    with torch.device("meta"):
        model = build()
        image = torch.zeros(1, 3, resolution, resolution)
        inputs = {"image": image, "mask": torch.ones(1, 1, resolution, resolution)}
    macs, by_part = generator_macs(model, inputs, depth=1)
    return {"params": float(count_parameters(model).total), "macs": float(macs), "by_part": by_part}


@pytest.mark.parametrize(
    ("build", "resolution", "params", "gmacs"),
    [
        # docs/hosts.md, "Size and cost": PEN-Net 10,231,538 / 25.66 G at 256²; HiFill 2,722,791 / 35.89 G at 512²;
        # LaMa-Fourier 27,048,835 / 127.32 G at 512²
        (lambda: PENNetGenerator(size="paper"), 256, 10_231_538, 25.66),
        (lambda: HiFillGenerator(size="paper"), 512, 2_722_791, 35.89),
        (lambda: LaMaGenerator(size="paper"), 512, 27_048_835, 127.32),
    ],
    ids=["pennet-256", "hifill-512", "lama-512"],
)
def test_paper_profile_sizes(build: Callable[[], nn.Module], resolution: int, params: int, gmacs: float) -> None:
    counts = count_params_macs(build, resolution)
    assert counts["params"] == params
    assert counts["macs"] / 1e9 == pytest.approx(gmacs, abs=0.01)


def test_lama_within_five_percent_of_table_iii() -> None:
    assert count_params_macs(lambda: LaMaGenerator(size="paper"), 512)["params"] == pytest.approx(27.0e6, rel=0.05)


def test_big_lama_parameter_count() -> None:
    with torch.device("meta"):
        big = LaMaGenerator(size="paper", n_blocks=18)
    assert sum(p.numel() for p in big.parameters()) == 50_975_875  # Table III: 51.0 M
