"""The suite's tensor conventions, in one place, so that every adapter converts at its boundary.

* image tensors: float RGB in [-1, 1];
* mask tensors: float {0, 1}, 1 = known pixel, 0 = hole; a float mask is binarised once, above 0.5
  (:func:`known_mask`), wherever code needs a strict known/hole decision;
* mask *files*: white = hole by default (NVIDIA / LaMa), binarised at 127 (never dithered);
* metric images: the composite, mapped once to uint8 with round(clip((x + 1) / 2) · 255).
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import torch

from inpaint.errors import UserInputError

HoleValue = Literal["white", "black"]  # which colour of a mask file marks the hole
MASK_FILE_THRESHOLD = 127  # mask *file* pixels (0–255 scale): brighter is white
KNOWN_THRESHOLD = 0.5  # mask *tensor* values: above is known


def is_known(mask: torch.Tensor) -> torch.Tensor:
    """Boolean form of a mask tensor: True where the pixel is known (value above :data:`KNOWN_THRESHOLD`)."""
    return mask > KNOWN_THRESHOLD


def known_mask(mask: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """A mask tensor binarised to exactly {0, 1} (1 = known), as ``dtype`` (default: the mask's own float type).

    Resized or blended masks hold values between 0 and 1; every network and metric decides known/hole with
    this one rule, so a pixel is never known to one part of the suite and a hole to another.
    """
    if dtype is None:
        dtype = mask.dtype if mask.is_floating_point() else torch.float32
    return is_known(mask).to(dtype)


def composite(ground_truth: torch.Tensor, output: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Known pixels from the ground truth, hole pixels from the output: ``gt·M + out·(1-M)``.

    Written with ``torch.where`` so a known pixel is copied bit-exactly (no ``x·1 + y·0`` rounding and no NaN
    leaking in from the output).
    """
    return torch.where(is_known(mask), ground_truth, output)


def to_unit(image: torch.Tensor) -> torch.Tensor:
    """[-1, 1] → [0, 1]."""
    return (image + 1.0) / 2.0


def from_unit(image: torch.Tensor) -> torch.Tensor:
    """[0, 1] → [-1, 1]."""
    return image * 2.0 - 1.0


def to_uint8(image: torch.Tensor) -> torch.Tensor:
    """[-1, 1] float → uint8 with round(clip((x + 1) / 2) · 255); the single quantisation step before metrics."""
    return torch.round(to_unit(image.detach().float()).clamp(0.0, 1.0) * 255.0).to(torch.uint8)


def from_uint8(image: torch.Tensor) -> torch.Tensor:
    """uint8 → float in [-1, 1]."""
    return from_unit(image.float() / 255.0)


def hole_ratio(mask: torch.Tensor) -> torch.Tensor:
    """Fraction of hole pixels per sample of a B×1×H×W mask (float32, as the batches carry it)."""
    return 1.0 - known_mask(mask, torch.float32).flatten(1).mean(dim=1)


def mask_from_array(pixels: np.ndarray, hole_value: HoleValue = "white") -> np.ndarray:
    """Binarise a mask file's pixels (H×W, or H×W×C of any integer/float range) into the {0,1} known-mask.

    ``hole_value="white"`` (default) means bright pixels (> 127 on a 0–255 scale) mark the hole, as in the
    NVIDIA irregular-mask set and LaMa; ``"black"`` flips that. Returns float32 H×W with 1 = known.
    """
    if hole_value not in get_args(HoleValue):
        raise UserInputError(f"hole_value must be 'white' or 'black', got {hole_value!r}")
    arr = np.asarray(pixels)
    if arr.ndim == 3:
        arr = arr[..., :3].max(axis=-1) if arr.shape[-1] >= 3 else arr[..., 0]
    if arr.dtype == np.uint16:
        arr = arr / 257.0
    elif arr.dtype.kind == "f":
        arr = arr * 255.0 if arr.max(initial=0.0) <= 1.0 else arr
    bright = arr > MASK_FILE_THRESHOLD
    hole = bright if hole_value == "white" else ~bright
    return (~hole).astype(np.float32)
