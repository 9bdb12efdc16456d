"""Procedural test images: clear structure (shapes with sharp edges) and texture (stripes, checks, noise).

Deterministic for a given ``numpy.random.Generator`` and cheap (a few ms at 256²), so tests and smoke runs need no
data at all. Edges of the shapes give the Canny prior something to find; textured fills give the smoother
something to remove.
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def _pattern(rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    """An H×W×3 float fill in [0, 1]: solid, stripes, checks or noise between two random colours."""
    colour_a, colour_b = rng.uniform(0, 1, 3), rng.uniform(0, 1, 3)
    kind = int(rng.integers(4))
    if kind == 0:
        weight = np.zeros_like(xx)
    elif kind == 1:
        angle, period = rng.uniform(0, math.pi), rng.uniform(4, 16)
        weight = 0.5 + 0.5 * np.sin(2 * math.pi * (xx * math.cos(angle) + yy * math.sin(angle)) / period)
    elif kind == 2:
        cell = int(rng.integers(4, 12))
        weight = ((yy // cell + xx // cell) % 2).astype(np.float64)
    else:
        weight = rng.uniform(0, 1, xx.shape)
    return colour_a * (1 - weight[..., None]) + colour_b * weight[..., None]


def synthetic_image(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """One H×W×3 uint8 image: a shaded background and 3–6 textured shapes (rectangles, discs, triangles)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    start, end = rng.uniform(0, 1, 3), rng.uniform(0, 1, 3)
    ramp = (xx / max(width - 1, 1))[..., None]
    image = start * (1 - ramp) + end * ramp + rng.normal(0, 0.02, (height, width, 3))
    side = min(height, width)
    for _ in range(int(rng.integers(3, 7))):
        shape = np.zeros((height, width), np.uint8)
        cx, cy = int(rng.integers(width)), int(rng.integers(height))
        size = int(rng.uniform(0.12, 0.35) * side) + 2
        kind = int(rng.integers(3))
        if kind == 0:
            cv2.rectangle(shape, (cx - size, cy - size // 2), (cx + size, cy + size // 2), 1, -1)
        elif kind == 1:
            cv2.circle(shape, (cx, cy), size, 1, -1)
        else:
            corners = np.array([[cx + size * math.cos(a), cy + size * math.sin(a)]
                                for a in rng.uniform(0, 2 * math.pi, 3)], np.int32)
            cv2.fillPoly(shape, [corners], 1)
        inside = shape.astype(bool)
        image[inside] = _pattern(rng, yy, xx)[inside]
    return np.clip(np.round(image * 255), 0, 255).astype(np.uint8)
