"""High-pass "global structure" of a feature map and its spectrogram (paper Figs. 8–10, 16, 20–21).

The paper extracts "global structure from the reconstructed texture" with an unnamed high-pass filter and shows a
spectrogram of it. Two high-passes are offered, both on the channel-mean map (:mod:`~inpaint.analysis.heatmap`):

* ``"gaussian"`` (default): h = m − G_σ * m, a Gaussian blur with σ = 1 (kernel radius ⌈3σ⌉, replicate padding,
  so levels as small as 2×2 work);
* ``"fft"``: the map's 2-D spectrum with every frequency of radius < ``cutoff`` · Nyquist set to 0, transformed back.

The spectrogram is the centred log-magnitude spectrum

    S(m) = log(1 + |fftshift(FFT2(m))|)

so a constant map is a single peak at the centre (the DC term) and energy away from the centre is detail.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F

HighPass = Literal["gaussian", "fft"]


def _check_maps(maps: torch.Tensor, name: str) -> None:
    if maps.dim() != 3:
        raise ValueError(f"{name}: expects maps B×H×W (e.g. channel_mean_map), got shape {tuple(maps.shape)}")


def gaussian_blur(maps: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """G_σ * m for B×H×W maps: separable Gaussian, radius ⌈3σ⌉, replicate padding, float64."""
    _check_maps(maps, "gaussian_blur")
    radius = max(1, math.ceil(3.0 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64, device=maps.device)
    taps = torch.exp(-0.5 * (offsets / sigma) ** 2)
    taps = taps / taps.sum()
    x = maps.double().unsqueeze(1)
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="replicate"), taps.view(1, 1, 1, -1))
    x = F.conv2d(F.pad(x, (0, 0, radius, radius), mode="replicate"), taps.view(1, 1, -1, 1))
    return x.squeeze(1)


def high_pass(maps: torch.Tensor, kind: HighPass = "gaussian", sigma: float = 1.0,
              cutoff: float = 0.25) -> torch.Tensor:
    """The detail of B×H×W maps: ``m − G_σ * m`` (``"gaussian"``) or the FFT high-pass above ``cutoff``·Nyquist."""
    _check_maps(maps, "high_pass")
    m = maps.detach().double()
    if kind == "gaussian":
        return m - gaussian_blur(m, sigma)
    if kind != "fft":
        raise ValueError(f"high_pass: kind must be 'gaussian' or 'fft', got {kind!r}")
    if not 0.0 < cutoff < 1.0:
        raise ValueError(f"high_pass: cutoff must lie in (0, 1) (a fraction of Nyquist), got {cutoff!r}")
    h, w = m.shape[-2:]
    fy = torch.fft.fftfreq(h, dtype=torch.float64, device=m.device).view(-1, 1) * 2  # in units of Nyquist
    fx = torch.fft.fftfreq(w, dtype=torch.float64, device=m.device).view(1, -1) * 2
    keep = (fy.square() + fx.square()) >= cutoff**2
    return torch.fft.ifft2(torch.fft.fft2(m) * keep).real


def log_spectrogram(maps: torch.Tensor) -> torch.Tensor:
    """S(m) = log(1 + |fftshift(FFT2(m))|) for B×H×W maps (float64): DC at the centre (H // 2, W // 2)."""
    _check_maps(maps, "log_spectrogram")
    spectrum = torch.fft.fftshift(torch.fft.fft2(maps.detach().double()), dim=(-2, -1))
    return torch.log1p(spectrum.abs())
