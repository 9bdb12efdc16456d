"""Sums computed exactly and rounded once, so that their value does not depend on the CPU, GPU or thread count.

A float sum is only as good as its summation order: where its terms nearly cancel (an exact value of 1.7e-7 from
10,752 terms with Σ|x| = 172, as in the official TSGL balance-stream divisors), oneDNN's AVX2 and AVX-512 kernels,
the native conv and a GPU each return a different value, and even its sign differs. Where the code divides by such
a sum, the function itself then depends on the machine. The sums here are taken in integer arithmetic instead:

* every float is split into a few 2^B-wide fixed-point limbs (``x = Σ_l q_l · 2^e_l``, each q_l an int64; exact,
  since a float is an integer times a power of two);
* each limb is summed in int64 (exact: B is chosen so that no partial sum can overflow);
* the limbs of each result are joined as one Python integer and rounded once, to nearest with ties to even, into
  the target dtype — the correctly rounded exact value, whatever the hardware.
"""

from __future__ import annotations

import math

import torch

#: widest limb; a float64 holding a limb's integer must represent it exactly (53 bits)
_MAX_LIMB_BITS = 52


def _mul_pow2(x: torch.Tensor, exponent: int) -> torch.Tensor:
    """x · 2^exponent, exact (two steps, so that 2^exponent itself never overflows a float64)."""
    half = exponent // 2
    return x * (2.0**half) * (2.0 ** (exponent - half))


def fixed_point_limbs(x: torch.Tensor, terms: int) -> tuple[list[torch.Tensor], list[int]]:
    """Split a float tensor exactly into int64 limbs: ``x == Σ_l limbs[l] · 2^exponents[l]`` element-wise.

    ``terms`` is the largest number of elements that will be added up per limb; the limb width is chosen so that
    such a sum, and the four-term differences of its prefix sums, stay inside int64.
    """
    x = x.detach().to(torch.float64)  # exact for every float type torch has
    if not torch.isfinite(x).all():
        raise ValueError("fixed_point_limbs: the tensor holds inf or NaN, which have no exact sum")
    top = float(x.abs().max()) if x.numel() else 0.0
    if top == 0.0:
        return [], []
    bits = min(_MAX_LIMB_BITS, 60 - max(1, terms).bit_length())
    if bits < 8:
        raise ValueError(f"fixed_point_limbs: {terms} terms per sum are too many for int64 limbs")
    exponent = math.frexp(top)[1] - bits  # |x| < 2^(exponent + bits): the first limb holds |q| < 2^bits
    limbs, exponents, rest = [], [], x
    while bool(rest.any()):
        q = torch.trunc(_mul_pow2(rest, -exponent))  # an integer below 2^bits in magnitude: exact in float64
        rest = rest - _mul_pow2(q, exponent)  # the bits below 2^exponent: exact
        limbs.append(q.to(torch.int64))
        exponents.append(exponent)
        exponent -= bits
    return limbs, exponents


def round_to_dtype(mantissa: int, exponent: int, dtype: torch.dtype) -> float:
    """The value ``mantissa · 2^exponent`` rounded once to ``dtype`` (nearest, ties to even), as a Python float.

    The float returned holds the ``dtype`` value exactly (every float type has at most float64's precision), so
    ``torch.tensor(result, dtype=dtype)`` does not round again. Values past the dtype's range become ±inf there.
    """
    if mantissa == 0:
        return 0.0
    info = torch.finfo(dtype)
    precision = 1 - round(math.log2(info.eps))  # significand bits, the leading one included
    lowest_bit = round(math.log2(info.smallest_normal)) - (precision - 1)  # the subnormal step
    sign, magnitude = (-1, -mantissa) if mantissa < 0 else (1, mantissa)
    leading = magnitude.bit_length() - 1 + exponent
    keep_from = max(leading - (precision - 1), lowest_bit)
    drop = keep_from - exponent
    if drop > 0:
        kept, rest = divmod(magnitude, 1 << drop)
        half = 1 << (drop - 1)
        if rest > half or (rest == half and kept & 1):
            kept += 1
        magnitude, exponent = kept, keep_from
    if magnitude.bit_length() - 1 + exponent > math.frexp(info.max)[1] - 1:
        return sign * math.inf
    return sign * math.ldexp(magnitude, exponent)


def join_limbs(limb_sums: list[torch.Tensor], exponents: list[int], dtype: torch.dtype) -> torch.Tensor:
    """Σ_l limb_sums[l] · 2^exponents[l], element-wise, each element rounded once to ``dtype``."""
    if not limb_sums:
        raise ValueError("join_limbs needs at least one limb")
    shape = limb_sums[0].shape
    last = exponents[-1]
    columns = [s.flatten().tolist() for s in limb_sums]
    shifts = [e - last for e in exponents]
    values = [round_to_dtype(sum(q << shift for q, shift in zip(entry, shifts)), last, dtype)
              for entry in zip(*columns)]
    return torch.tensor(values, dtype=dtype).view(shape)


def _window_classes(size: int, kernel: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For a 'same' (padding k//2) stride-1 window over ``size`` positions: the distinct kernel-index ranges
    [start, stop) that fall inside the map (C×2), and for each position the index of its range."""
    pad = kernel // 2
    ranges = [(max(0, pad - p), min(kernel, size + pad - p)) for p in range(size)]
    distinct = sorted(set(ranges))
    which = torch.tensor([distinct.index(r) for r in ranges], dtype=torch.long)
    return torch.tensor(distinct, dtype=torch.long), which


def ones_conv_exact(kernel: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """``conv2d(ones(1, C_in, H, W), kernel, padding=k//2)[0]`` (C_out×H×W), exact and rounded once to the
    kernel's dtype.

    Every output is a sum of kernel entries over all input channels and the window rows/columns that fall inside
    the map; positions more than k//2 from every border share one window, so only a few distinct sums exist per
    output channel (at most k×k), and those are the ones computed.
    """
    if kernel.dim() != 4 or kernel.shape[-1] % 2 == 0 or kernel.shape[-2] % 2 == 0:
        raise ValueError(f"ones_conv_exact needs an odd-sized C_out×C_in×kh×kw kernel, got {tuple(kernel.shape)}")
    if not kernel.is_floating_point():
        raise ValueError(f"ones_conv_exact needs a float kernel, got {kernel.dtype}")
    c_out, c_in, kh, kw = kernel.shape
    height, width = grid
    rows, row_of = _window_classes(height, kh)
    cols, col_of = _window_classes(width, kw)
    limbs, exponents = fixed_point_limbs(kernel.cpu(), c_in * kh * kw)
    if not limbs:
        return torch.zeros(c_out, height, width, dtype=kernel.dtype, device=kernel.device)
    sums = []
    for q in limbs:
        per_tap = q.sum(dim=1)  # C_out×kh×kw, int64: exact
        prefix = torch.zeros(c_out, kh + 1, kw + 1, dtype=torch.int64)
        prefix[:, 1:, 1:] = per_tap.cumsum(1).cumsum(2)
        r0, r1 = rows[:, 0, None], rows[:, 1, None]
        c0, c1 = cols[None, :, 0], cols[None, :, 1]
        sums.append(prefix[:, r1, c1] - prefix[:, r0, c1] - prefix[:, r1, c0] + prefix[:, r0, c0])
    distinct = join_limbs(sums, exponents, kernel.dtype)  # C_out × row classes × column classes
    return distinct[:, row_of[:, None], col_of[None, :]].to(kernel.device)
