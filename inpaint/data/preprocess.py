"""Structure priors of TSGL: the gray image and its Canny edge map (paper §III-A, the structure input X_S).

Both are computed from the **[0, 1] image** and left unmasked; the generator multiplies them by the mask.
The official code computed them from a [-1, 1] tensor pushed through uint8, which wraps negative values
(``legacy_wrap_image`` reproduces that bug for matching the released checkpoints; off by default).

Canny backends:

* ``skimage`` — ``skimage.feature.canny(gray, sigma=2)`` with its default thresholds 0.1 / 0.2: the official prior.
* ``opencv`` — fast approximation: Gaussian σ = 2 (kernel truncated at 4σ like skimage), the blurred gray quantised to
  uint8, then ``cv2.Canny`` with the skimage thresholds × 255 (25.5 / 51) and the L2 gradient norm. Both use the
  unnormalised 3×3 Sobel, so the thresholds carry over; borders and the uint8 rounding differ.
* ``kornia`` — ``kornia.filters.canny`` on a B×1×H×W tensor (batched, on the tensor's device), same σ and
  thresholds (kornia ≥ 0.8 uses the unnormalised Sobel as well).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch

from inpaint.errors import UserInputError

EdgeBackend = Literal["skimage", "opencv", "kornia"]
EDGE_BACKENDS: tuple[str, ...] = ("skimage", "opencv", "kornia")
CANNY_SIGMA = 2.0
CANNY_LOW, CANNY_HIGH = 0.1, 0.2  # skimage's defaults for float images
GRAY_WEIGHTS = (0.2125, 0.7154, 0.0721)  # skimage.color.rgb2gray (ITU-R BT.709 luma)


def check_edge_backend(backend: str) -> None:
    if backend not in EDGE_BACKENDS:
        raise UserInputError(f"unknown edge backend {backend!r}; choose one of {', '.join(EDGE_BACKENDS)}")


def rgb_to_gray(image01: np.ndarray) -> np.ndarray:
    """H×W×3 float in [0, 1] → H×W float32 gray with skimage's rgb2gray weights."""
    weights = np.asarray(GRAY_WEIGHTS, dtype=np.float64)
    return (np.asarray(image01, dtype=np.float64) @ weights).astype(np.float32)


def gray_tensor(image01: torch.Tensor) -> torch.Tensor:
    """B×3×H×W in [0, 1] → B×1×H×W gray, the same weights (for on-device use)."""
    weights = torch.tensor(GRAY_WEIGHTS, dtype=image01.dtype, device=image01.device).view(1, 3, 1, 1)
    return (image01 * weights).sum(dim=1, keepdim=True)


def canny_edges(gray01: np.ndarray, backend: EdgeBackend = "skimage", sigma: float = CANNY_SIGMA) -> np.ndarray:
    """H×W gray in [0, 1] → H×W bool edge map with the chosen backend (``kornia`` runs on a 1-image batch)."""
    check_edge_backend(backend)
    gray = np.asarray(gray01, dtype=np.float64)
    if backend == "skimage":
        from skimage.feature import canny

        return canny(gray, sigma=sigma)
    if backend == "opencv":
        return _canny_opencv(gray, sigma)
    return canny_tensor(torch.from_numpy(gray).float()[None, None], sigma)[0, 0].numpy() > 0.5


def _canny_opencv(gray: np.ndarray, sigma: float) -> np.ndarray:
    import cv2

    size = 2 * math.ceil(4 * sigma) + 1
    blurred = cv2.GaussianBlur(gray, (size, size), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)
    quantised = np.clip(np.round(blurred * 255.0), 0, 255).astype(np.uint8)
    edges = cv2.Canny(quantised, CANNY_LOW * 255.0, CANNY_HIGH * 255.0, apertureSize=3, L2gradient=True)
    return edges > 0


def canny_tensor(gray01: torch.Tensor, sigma: float = CANNY_SIGMA) -> torch.Tensor:
    """Batched Canny with kornia: B×1×H×W gray in [0, 1] → B×1×H×W float {0, 1} on the same device."""
    import kornia

    if gray01.dim() != 4 or gray01.shape[1] != 1:
        raise ValueError(f"canny_tensor expects B×1×H×W gray, got shape {tuple(gray01.shape)}")
    size = 2 * math.ceil(4 * sigma) + 1
    _, edges = kornia.filters.canny(
        gray01.float(), low_threshold=CANNY_LOW, high_threshold=CANNY_HIGH, kernel_size=size, sigma=(sigma, sigma)
    )
    return (edges > 0).to(gray01.dtype if gray01.is_floating_point() else torch.float32)


def legacy_wrap_image(image01: np.ndarray) -> np.ndarray:
    """Reproduce the official loaders' uint8 wrap-around of a [-1, 1] tensor (docs/data.md), as H×W×3 uint8.

    The official loader normalised to [-1, 1] (``(v − 0.5) / 0.5`` in float32) and then let ``ToPILImage`` do
    ``x · 255`` cast to uint8: the cast truncates towards zero and negative values wrap modulo 256. The measured
    saw-tooth: v = 0 → 1, 0.4 → 206, 0.5 → 0, 1 → 255.
    """
    normalised = (np.asarray(image01, dtype=np.float32) - np.float32(0.5)) / np.float32(0.5)
    scaled = normalised * np.float32(255.0)
    return np.mod(np.trunc(scaled).astype(np.int64), 256).astype(np.uint8)


def structure_priors(
    image01: np.ndarray, backend: EdgeBackend = "skimage", legacy_edge_wrap: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """(gray H×W float32 in [0, 1], edge H×W float32 {0,1} or ``None`` for ``kornia``, computed batched later)."""
    check_edge_backend(backend)
    source = legacy_wrap_image(image01).astype(np.float64) / 255.0 if legacy_edge_wrap else image01
    gray = rgb_to_gray(source)
    if backend == "kornia":
        return gray, None
    return gray, canny_edges(gray, backend).astype(np.float32)
