"""A tiny generated ADE20K-layout folder (images/ + annotations/ of class-index PNGs) for the segmentation prior."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def labels_of(rgb: np.ndarray) -> np.ndarray:
    """The generated folder's ground truth: class 3 where red dominates, 7 where green does, else 0."""
    labels = np.zeros(rgb.shape[:2], np.uint8)
    labels[rgb[..., 0] > rgb[..., 1]] = 3
    labels[rgb[..., 1] > rgb[..., 0]] = 7
    return labels


def ade_folder(root: Path, size: int = 48, counts: dict[str, int] | None = None) -> Path:
    """A tiny ADE20K-like folder: images/{training,validation}/*.png and annotations/…/*.png (class indices)."""
    rng = np.random.default_rng(0)
    for split, count in (counts or {"training": 3, "validation": 2}).items():
        (root / "images" / split).mkdir(parents=True)
        (root / "annotations" / split).mkdir(parents=True)
        for i in range(count):
            rgb = np.zeros((size, size, 3), np.uint8)
            for _ in range(3):  # red and green rectangles on black
                top, left = rng.integers(0, size - 8, 2)
                rgb[top : top + 16, left : left + 16, int(rng.integers(2))] = 200
            name = f"ADE_{split}_{i:08d}"
            Image.fromarray(rgb).save(root / "images" / split / f"{name}.png")  # lossless, so labels can be checked
            Image.fromarray(labels_of(rgb), mode="L").save(root / "annotations" / split / f"{name}.png")
    return root
