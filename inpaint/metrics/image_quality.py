"""Per-image PSNR, SSIM, L1, L2 (MSE) and relative L1 on uint8 images — the pixel metrics of the protocol.

Every function takes two ``uint8`` tensors B×C×H×W (the composite and the ground truth, each quantised once with
:func:`inpaint.conventions.to_uint8`) and returns one value **per image**, in float64. A set's score is the mean of
these per-image values; squared errors are never pooled across images (pooling gives a different, larger-image-
weighted number, see docs/evaluation.md, "Metrics"). The data range is fixed at 255
because the inputs are uint8; float inputs are refused so that no caller can slip in a [-1, 1] image and get an
inflated SSIM.

SSIM windows (name them in every table):

* ``"gaussian11"`` (default) — Wang et al. 2004: 11×11 Gaussian, σ = 1.5, population covariances; equals
  ``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
  data_range=255, channel_axis=-1)``;
* ``"uniform7"`` — scikit-image's default 7×7 uniform window with sample covariances (N/(N−1)); equals
  ``structural_similarity(data_range=255, channel_axis=-1)``.

Both average the SSIM map over the pixels whose window lies inside the image, then over the RGB channels.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torchmetrics import Metric

SSIMWindow = Literal["gaussian11", "uniform7"]
SSIM_WINDOWS: dict[str, str] = {
    "gaussian11": "Gaussian 11x11, sigma 1.5, population covariance",
    "uniform7": "uniform 7x7, sample covariance",
}
DATA_RANGE = 255.0
_SSIM_K1, _SSIM_K2 = 0.01, 0.03
_GAUSSIAN_SIGMA, _GAUSSIAN_TRUNCATE = 1.5, 3.5  # scipy's truncation → radius int(3.5·1.5 + 0.5) = 5 → 11 taps
_UNIFORM_SIZE = 7


def _check_pair(preds: torch.Tensor, target: torch.Tensor) -> None:
    for name, t in (("preds", preds), ("target", target)):
        if t.dtype != torch.uint8:
            raise TypeError(
                f"{name} must be uint8 (quantise with inpaint.conventions.to_uint8 first), got {t.dtype}"
            )
        if t.ndim != 4:
            raise ValueError(f"{name} must be B×C×H×W, got shape {tuple(t.shape)}")
    if preds.shape != target.shape:
        raise ValueError(f"preds and target shapes differ: {tuple(preds.shape)} vs {tuple(target.shape)}")


def psnr_per_image(preds: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """PSNR in dB of each image, ``10·log10(255² / MSE)`` with MSE over C×H×W (identical images → ``inf``)."""
    _check_pair(preds, target)
    mse = (preds.double() - target.double()).square().flatten(1).mean(dim=1)
    return 10.0 * torch.log10(DATA_RANGE**2 / mse)


def l1_per_image(preds: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error of each image on the [0, 1] scale (uint8 / 255), over C×H×W."""
    _check_pair(preds, target)
    return (preds.double() - target.double()).abs().flatten(1).mean(dim=1) / DATA_RANGE


def mse_per_image(preds: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error of each image on the [0, 1] scale (uint8 / 255), over C×H×W — seed 004's "L2".

    Same squared errors as :func:`psnr_per_image`: ``psnr = −10·log10(mse)`` image by image (the set means differ,
    since a mean of logs is not the log of a mean)."""
    _check_pair(preds, target)
    return (preds.double() - target.double()).square().flatten(1).mean(dim=1) / DATA_RANGE**2


def relative_l1_per_image(preds: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Relative L1 in percent of each image: ``100 · Σ|pred − gt| / Σ gt`` (Σ gt floored at 1 grey level)."""
    _check_pair(preds, target)
    error = (preds.double() - target.double()).abs().flatten(1).sum(dim=1)
    reference = target.double().flatten(1).sum(dim=1).clamp_min(1.0)  # an all-black GT would divide by 0
    return 100.0 * error / reference


def _ssim_taps(window: SSIMWindow, device: torch.device) -> tuple[torch.Tensor, float]:
    """1-D averaging taps of the (separable) window, float64, and the covariance normaliser."""
    if window == "gaussian11":
        radius = int(_GAUSSIAN_TRUNCATE * _GAUSSIAN_SIGMA + 0.5)
        x = torch.arange(-radius, radius + 1, dtype=torch.float64, device=device)
        taps = torch.exp(-0.5 * (x / _GAUSSIAN_SIGMA) ** 2)
        return taps / taps.sum(), 1.0
    if window == "uniform7":
        taps = torch.full((_UNIFORM_SIZE,), 1.0 / _UNIFORM_SIZE, dtype=torch.float64, device=device)
        n = _UNIFORM_SIZE**2
        return taps, n / (n - 1.0)
    raise ValueError(f"ssim window must be one of {sorted(SSIM_WINDOWS)}, got {window!r}")


def _valid_separable_filter(maps: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
    """Weighted local means over the last two dims at 'valid' positions: two 1-D float64 convolutions.

    Both SSIM windows are separable (scipy filters them the same way); two 1-D passes cost 2k instead of k²
    multiply-adds per pixel.
    """
    size = taps.numel()
    lead, (height, width) = maps.shape[:-2], maps.shape[-2:]
    flat = maps.reshape(-1, 1, height, width)
    flat = F.conv2d(flat, taps.view(1, 1, 1, size))
    flat = F.conv2d(flat, taps.view(1, 1, size, 1))
    return flat.reshape(*lead, *flat.shape[-2:])


def ssim_per_image(preds: torch.Tensor, target: torch.Tensor, window: SSIMWindow = "gaussian11") -> torch.Tensor:
    """Mean SSIM of each image (per channel, then averaged over channels), data range 255.

    Only window positions fully inside the image are averaged — the same pixels scikit-image keeps after its
    border crop — so no padding mode enters the result. Both windows are separable, so the local means are two
    1-D passes (as scipy filters them) over all five moment maps at once.
    """
    _check_pair(preds, target)
    taps, cov_norm = _ssim_taps(window, preds.device)
    size = taps.numel()
    if min(preds.shape[-2:]) < size:
        raise ValueError(f"SSIM window {window!r} needs images of at least {size}×{size}, got {tuple(preds.shape)}")
    x, y = preds.double(), target.double()
    mu_x, mu_y, xx, yy, xy = _valid_separable_filter(torch.stack([x, y, x * x, y * y, x * y]), taps)
    var_x = cov_norm * (xx - mu_x * mu_x)
    var_y = cov_norm * (yy - mu_y * mu_y)
    cov_xy = cov_norm * (xy - mu_x * mu_y)
    c1, c2 = (_SSIM_K1 * DATA_RANGE) ** 2, (_SSIM_K2 * DATA_RANGE) ** 2
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return ssim_map.flatten(2).mean(dim=2).mean(dim=1)


class _PerImageMean(Metric):
    """Mean over images of a per-image score; sum + count states reduce by summation across ranks."""

    is_differentiable = False
    full_state_update = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.add_state("total", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def score(self, preds: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        values = self.score(preds, target)
        self.total += values.sum()
        self.count += values.numel()

    def compute(self) -> torch.Tensor:
        if int(self.count) == 0:
            return torch.tensor(math.nan, dtype=torch.float64)
        return self.total / self.count


class PerImagePSNR(_PerImageMean):
    """Mean of per-image PSNR (dB) over uint8 images, data range 255."""

    higher_is_better = True

    def score(self, preds: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return psnr_per_image(preds, target)


class PerImageSSIM(_PerImageMean):
    """Mean of per-image SSIM over uint8 RGB images (window: ``"gaussian11"`` default or ``"uniform7"``)."""

    higher_is_better = True

    def __init__(self, window: SSIMWindow = "gaussian11", **kwargs) -> None:
        if window not in SSIM_WINDOWS:
            raise ValueError(f"ssim window must be one of {sorted(SSIM_WINDOWS)}, got {window!r}")
        super().__init__(**kwargs)
        self.window = window

    def score(self, preds: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return ssim_per_image(preds, target, self.window)


class PerImageL1(_PerImageMean):
    """Mean of per-image mean absolute error on the [0, 1] scale."""

    higher_is_better = False

    def score(self, preds: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return l1_per_image(preds, target)


class PerImageRelativeL1(_PerImageMean):
    """Mean of per-image relative L1 in percent."""

    higher_is_better = False

    def score(self, preds: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return relative_l1_per_image(preds, target)
