"""Exact sums rounded once (inpaint.nn.exact_sum): the balance-stream divisors must not depend on the CPU.

References: ``F.conv2d`` where it is exact (integer-valued kernels), Python's ``fractions.Fraction`` (exact rational
arithmetic) for ill-conditioned sums, and hand-made rounding cases.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from inpaint.nn.balance import DividedConv2d, divisor_map
from inpaint.nn.exact_sum import fixed_point_limbs, ones_conv_exact, round_to_dtype

pytestmark = pytest.mark.numerics


def _nearest(exact: Fraction, dtype: type[np.floating]) -> float:
    """The float of ``dtype`` nearest to ``exact`` (ties to even), found by comparing neighbours exactly."""
    guess = dtype(float(exact))  # within one step of the answer
    candidates = [np.nextafter(guess, dtype(-np.inf)), guess, np.nextafter(guess, dtype(np.inf))]
    best = min(abs(Fraction(float(c)) - exact) for c in candidates)
    tied = [c for c in candidates if abs(Fraction(float(c)) - exact) == best]
    if len(tied) > 1:  # a tie: the one with an even significand
        bits = {np.float32: np.uint32, np.float64: np.uint64}[dtype]
        tied = [c for c in tied if int(np.array(c, dtype=dtype).view(bits)) % 2 == 0]
    return float(tied[0])


@pytest.mark.parametrize("onednn", [True, False], ids=["onednn", "native"])
@pytest.mark.parametrize(("c_out", "c_in", "k", "grid"), [
    (4, 3, 3, (5, 6)), (8, 16, 7, (32, 32)), (5, 2, 5, (9, 1)), (3, 4, 7, (3, 2)), (2, 3, 1, (4, 4)),
])
def test_integer_kernels_match_conv2d_bit_for_bit(c_out: int, c_in: int, k: int, grid: tuple[int, int],
                                                  onednn: bool) -> None:
    """With integer-valued kernels every float conv is exact: the window geometry must equal conv2d's, border and
    maps smaller than the kernel included."""
    kernel = torch.randint(-50, 51, (c_out, c_in, k, k)).float() * 2.0**-10
    with torch.backends.mkldnn.flags(enabled=onednn):
        expected = F.conv2d(torch.ones(1, c_in, *grid), kernel, padding=k // 2)[0]
    got = ones_conv_exact(kernel, grid)
    assert got.dtype == torch.float32 and got.shape == expected.shape
    assert torch.equal(got, expected)


def _cancelling_kernel(target: float) -> torch.Tensor:
    """A 2×256×7×7 N(0, 0.02) kernel whose output channel 0 sums (full window) to about ``target``: one entry is set
    to minus the exact sum of the others, plus ``target`` (Σ|K| ≈ 200, so the condition number is ≈ 1e9)."""
    g = torch.Generator().manual_seed(7)
    kernel = torch.randn(2, 256, 7, 7, generator=g) * 0.02
    rest = sum(Fraction(v) for v in kernel[0].flatten().tolist()) - Fraction(kernel[0, 0, 3, 3].item())
    kernel[0, 0, 3, 3] = float(-rest + Fraction(target))
    return kernel


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_nearly_cancelling_sum_is_the_correctly_rounded_exact_value(dtype: torch.dtype) -> None:
    kernel = _cancelling_kernel(1.72e-7).to(dtype)
    grid = (32, 32)
    got = ones_conv_exact(kernel, grid)
    np_type = np.float32 if dtype == torch.float32 else np.float64
    pad = 3
    for y, x in [(16, 16), (0, 0), (31, 5), (2, 30)]:  # the interior and three border windows
        window = kernel[0, :, max(0, pad - y):min(7, 32 + pad - y), max(0, pad - x):min(7, 32 + pad - x)]
        values = window.flatten().tolist()
        exact = sum(Fraction(v) for v in values)
        assert float(got[0, y, x]) == _nearest(exact, np_type), (y, x)
    interior = sum(Fraction(v) for v in kernel[0].flatten().tolist())
    assert 0 < interior < Fraction(1, 10**6) and float(got[0, 16, 16]) > 0  # the near-pole keeps its sign
    assert math.fsum(kernel[0].flatten().tolist()) == float(interior)  # fsum agrees (its own rounding is exact here)


def test_the_result_does_not_depend_on_the_summation_order() -> None:
    """Permuting input channels or kernel taps reorders every float sum; the exact sum does not change."""
    kernel = _cancelling_kernel(1.72e-7)
    base = ones_conv_exact(kernel, (32, 32))
    permuted = kernel[:, torch.randperm(256, generator=torch.Generator().manual_seed(3))]
    assert torch.equal(ones_conv_exact(permuted, (32, 32)), base)
    # and the divisor map of the balance module is this exact function
    assert torch.equal(divisor_map(kernel, (32, 32)), base)


@pytest.mark.parametrize(("mantissa", "exponent", "dtype", "expected"), [
    (2**24 + 1, 0, torch.float32, 2.0**24),  # a tie: to the even neighbour (down)
    (2**24 + 3, 0, torch.float32, 2.0**24 + 4),  # a tie: to the even neighbour (up)
    (2**25 + 3, -1, torch.float32, 2.0**24 + 2),  # above the tie: up
    (-(2**53 + 1), 0, torch.float64, -(2.0**53)),  # float64 ties, negative
    (1, -150, torch.float32, 0.0),  # half the smallest subnormal: ties to even = 0
    (3, -151, torch.float32, 2.0**-149),  # 0.75 of the smallest subnormal: up
    (5, -151, torch.float32, 2.0**-149),  # 1.25 of it: down
    (1, 128, torch.float32, math.inf),  # past the float32 range
    (2**24 - 1, 104, torch.float32, (2**24 - 1) * 2.0**104),  # float32 max stays finite
    (0, -5, torch.float32, 0.0),
])
def test_round_to_dtype_by_hand(mantissa: int, exponent: int, dtype: torch.dtype, expected: float) -> None:
    assert round_to_dtype(mantissa, exponent, dtype) == expected


def test_limbs_hold_every_float_exactly() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4000, generator=g) * torch.pow(2.0, torch.randint(-140, 20, (4000,), generator=g).float())
    x[:3] = torch.tensor([0.0, 2.0**-149, -3.0 * 2.0**-149])  # zero and subnormals
    limbs, exponents = fixed_point_limbs(x, terms=4000)
    assert all(limb.dtype == torch.int64 for limb in limbs)
    for i in range(0, 4000, 37):
        joined = sum(Fraction(int(limb[i])) * Fraction(2) ** e for limb, e in zip(limbs, exponents))
        assert joined == Fraction(x[i].item())
    with pytest.raises(ValueError, match="inf or NaN"):
        fixed_point_limbs(torch.tensor([1.0, math.nan]), terms=2)


def test_divided_conv_divides_by_its_exact_map() -> None:
    conv = DividedConv2d(8, 5, grid=(6, 6))
    x = torch.randn(2, 8, 6, 6)
    expected = F.conv2d(x, conv.weight, padding=2) / conv.divisor
    torch.testing.assert_close(conv(x), expected, rtol=0, atol=0)
