"""Image, mask and ground truth at 1/``factor`` of their size, the way the Pyramid Generator (seed 002) builds its
levels and its per-level losses see them.

* a known-mask block is known when more than half of its pixels are (so every level keeps the hole ratio up to the
  rounding of boundary blocks); the comparison cannot depend on summation order: a block's mean is an integer count
  over f², and rounding moves no such quotient across one half (a block exactly half known is a hole);
* the masked input image: the mean of each block's *known* pixels (0 where a block has none), so no hole pixel
  reaches any level;
* the ground truth a level is scored against: the plain block mean (area downsampling).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def downscale_known(known: torch.Tensor, factor: int) -> torch.Tensor:
    """A {0, 1} known-mask at 1/``factor``: a cell is known when more than half of its block is known."""
    if factor == 1:
        return known
    return (F.avg_pool2d(known, factor) > 0.5).to(known.dtype)


def downscale_image(masked: torch.Tensor, known: torch.Tensor, factor: int) -> torch.Tensor:
    """The mean of the *known* pixels of each block (0 where a block has none): hole pixels never leak in."""
    if factor == 1:
        return masked
    weight = F.avg_pool2d(known, factor)
    return torch.where(weight > 0, F.avg_pool2d(masked * known, factor) / weight.clamp_min(1e-12), 0.0)


def downscale_target(image: torch.Tensor, factor: int) -> torch.Tensor:
    """The ground truth I_n of a level: every block's mean (area downsampling)."""
    return image if factor == 1 else F.avg_pool2d(image, factor)


def level_factor(full: torch.Size | tuple[int, ...], level: torch.Size | tuple[int, ...]) -> int:
    """The integer factor between a full-size H×W and a level's h×w; a clear error when there is none."""
    (height, width), (h, w) = tuple(full)[-2:], tuple(level)[-2:]
    factor = height // h if h else 0
    if factor < 1 or h * factor != height or w * factor != width:
        raise ValueError(f"a pyramid level of size {h}×{w} is not the {height}×{width} image divided by an integer")
    return factor
