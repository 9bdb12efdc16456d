"""Dataset layouts: how a stored photo becomes a training / evaluation crop (the authors' loader: docs/data.md).

A layout splits the geometry in two steps so that a precomputed smoothed image can follow the crop exactly:

1. ``canonical(image)`` — deterministic per file (resize / centre crop), computed once; the smoothing cache
   stores the smoothed *canonical* image;
2. ``window(shape, rng)`` — where the H×W crop lies in it: random at train time (plus a random flip), fixed centre
   at evaluation. The same window and flip are applied to the image and to its smoothed copy.

Presets:

* ``plain``   — shorter side resized to the crop size, then random / centre crop (any folder of photos);
* ``celeba``  — centre crop to the target aspect ratio, resize to H×W (aligned faces; the window is the whole image);
* ``places2`` / ``psv`` — native resolution, random crop at train, fixed centre crop at eval (images smaller than
  the crop are first resized up so their shorter side fits).
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from inpaint.errors import UserInputError

LayoutName = Literal["plain", "celeba", "places2", "psv"]
LAYOUTS: tuple[str, ...] = ("plain", "celeba", "places2", "psv")


def check_layout(layout: str) -> None:
    if layout not in LAYOUTS:
        raise UserInputError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")


def resize(image: np.ndarray, height: int, width: int, labels: bool = False) -> np.ndarray:
    """Area interpolation when shrinking (no aliasing), bicubic when enlarging; uint8 stays uint8. ``labels``: a
    class-index map, resized with nearest neighbour (half-pixel centres) so that no index is invented."""
    if image.shape[:2] == (height, width):
        return image
    shrinking = height * width < image.shape[0] * image.shape[1]
    method = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    if labels:
        method = cv2.INTER_NEAREST_EXACT
    return cv2.resize(image, (width, height), interpolation=method)


def resize_to_cover(image: np.ndarray, height: int, width: int, labels: bool = False) -> np.ndarray:
    """Scale so that the image covers height×width with its aspect ratio kept (one side fits exactly)."""
    src_h, src_w = image.shape[:2]
    factor = max(height / src_h, width / src_w)
    return resize(image, max(height, round(src_h * factor)), max(width, round(src_w * factor)), labels)


def centre_crop_aspect(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """The largest centred crop with the aspect ratio height:width."""
    src_h, src_w = image.shape[:2]
    crop_h = min(src_h, round(src_w * height / width))
    crop_w = min(src_w, round(src_h * width / height))
    top, left = (src_h - crop_h) // 2, (src_w - crop_w) // 2
    return image[top : top + crop_h, left : left + crop_w]


def canonical(image: np.ndarray, layout: str, height: int, width: int, labels: bool = False) -> np.ndarray:
    """Step 1: the deterministic per-file geometry of ``layout`` for an H×W crop (``labels``: of a class-index map,
    resized with nearest neighbour)."""
    check_layout(layout)
    if layout == "celeba":
        return resize(centre_crop_aspect(image, height, width), height, width, labels)
    if layout == "plain":
        return resize_to_cover(image, height, width, labels)
    if image.shape[0] < height or image.shape[1] < width:  # places2 / psv keep native size when large enough
        return resize_to_cover(image, height, width, labels)
    return image


def window(shape: tuple[int, ...], height: int, width: int, rng: np.random.Generator | None) -> tuple[int, int]:
    """Step 2: top-left corner of the crop; random with ``rng``, centred without."""
    spare_h, spare_w = shape[0] - height, shape[1] - width
    if spare_h < 0 or spare_w < 0:
        raise UserInputError(f"canonical image {shape[:2]} is smaller than the crop {height}×{width}")
    if rng is None:
        return spare_h // 2, spare_w // 2
    return int(rng.integers(spare_h + 1)), int(rng.integers(spare_w + 1))


def crop(image: np.ndarray, corner: tuple[int, int], height: int, width: int, flip: bool) -> np.ndarray:
    top, left = corner
    patch = image[top : top + height, left : left + width]
    return np.ascontiguousarray(patch[:, ::-1] if flip else patch)


def cache_policy(layout: str, height: int, width: int) -> str:
    """The resolution policy part of a smoothing-cache key: the canonical image depends on layout and crop size."""
    check_layout(layout)
    return f"{layout}-{height}x{width}"
