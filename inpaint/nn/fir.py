"""Anti-aliased stride-2 downsampling: a [1, 3, 3, 1] FIR low-pass before the strided conv (StyleGAN2 style).

The authors' texture branch (MAT's ``Conv2dLayer`` with ``down=2``) does not sample a 3×3 stride-2 conv directly:
it zero-pads the input by 2, blurs it with the normalised separable filter [1, 3, 3, 1] ⊗ [1, 3, 3, 1] / 64, and
then applies the 3×3 conv with stride 2 and *no* padding. The output has the same size as the plain
``Conv2d(3, stride=2, padding=1)``, but every output pixel sees a low-passed 6×6 footprint instead of an aliased
3×3 one. Used by the texture head's downsampler and the four patch-merging convs when
``encoder_options.antialias`` is set (docs/deviations.md).
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

#: the binomial taps of the official resample filter (normalised to sum 1 in 2-D)
FIR_TAPS: tuple[int, ...] = (1, 3, 3, 1)


@functools.lru_cache(maxsize=16)
def _filter_2d(device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    taps = torch.tensor(FIR_TAPS, dtype=torch.float64)
    kernel = torch.outer(taps, taps) / taps.sum() ** 2  # 1/64 · [1,3,3,1]ᵀ[1,3,3,1]; exact in every float type
    with torch.inference_mode(False):
        return kernel.to(device=device, dtype=dtype)[None, None]


def fir_blur(x: torch.Tensor, pad: int = 2) -> torch.Tensor:
    """Zero-pad every side by ``pad`` and apply the 4×4 FIR low-pass depthwise (H+2·pad−3 output rows)."""
    c = x.shape[1]
    kernel = _filter_2d(x.device, x.dtype).expand(c, 1, -1, -1)
    return F.conv2d(F.pad(x, (pad, pad, pad, pad)), kernel, groups=c)


def blurred_strided_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: int = 2,
                         padding: int = 1) -> torch.Tensor:
    """The anti-aliased version of ``F.conv2d(x, weight, bias, stride, padding)`` for an odd k×k kernel.

    The blur pads by ``padding + 1`` (2 for the 3×3 convs), so the output size equals the plain conv's.
    """
    return F.conv2d(fir_blur(x, padding + 1), weight, bias, stride=stride)
