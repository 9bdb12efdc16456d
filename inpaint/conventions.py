"""The suite's tensor conventions, in one place, so that every adapter converts at its boundary.

* image tensors: float RGB in [-1, 1];
* mask tensors: float {0, 1}, 1 = known pixel, 0 = hole; a float mask is binarised once, above 0.5
  (:func:`known_mask`), wherever code needs a strict known/hole decision;
* mask *files*: white = hole by default (NVIDIA / LaMa), binarised at luminance > 127 (never dithered);
* metric images: the composite, mapped once to uint8 with round(clip((x + 1) / 2) · 255);
* structure priors (TSGL's X_S, Table VIII): a named prior is C maps in [0, 1] of the full, unmasked image; the
  generator builds X_S = (prior⊙M, M) with C + 1 channels. ``canny_gray`` (the default) travels as the batch's
  ``edge`` and ``gray``, every other prior as ``structure`` (B×C×H×W) with its name in ``structure_prior``.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import torch

from inpaint.errors import UserInputError

HoleValue = Literal["white", "black"]  # which colour of a mask file marks the hole
MASK_FILE_THRESHOLD = 127  # mask *file* luminance (0–255): above is bright (white)
KNOWN_THRESHOLD = 0.5  # mask *tensor* values: above is known

#: structure priors of Table VIII (docs/data.md "Structure priors"); ``canny_gray`` is the paper's (the default)
StructurePrior = Literal["canny_gray", "lowres_rgb", "sobel_x", "sobel_y", "segmentation"]
STRUCTURE_PRIORS: tuple[str, ...] = get_args(StructurePrior)
DEFAULT_STRUCTURE_PRIOR = "canny_gray"
#: C, the prior's channels (X_S has C + 1 with the mask)
STRUCTURE_PRIOR_CHANNELS: dict[str, int] = {
    "canny_gray": 2, "lowres_rgb": 3, "sobel_x": 3, "sobel_y": 3, "segmentation": 3,
}


def check_structure_prior(name: str) -> str:
    """``name`` if it is a structure prior, else a :class:`UserInputError` listing them."""
    if name not in STRUCTURE_PRIORS:
        raise UserInputError(f"unknown structure_prior {name!r}; choose one of {', '.join(STRUCTURE_PRIORS)}")
    return name


def structure_target_channels(name: str) -> int:
    """Channels the auxiliary structure decoder D_S predicts for prior ``name``: the edge map alone for
    ``canny_gray`` (Eq. 14, the paper and the authors' code), the whole prior for the others."""
    return 1 if check_structure_prior(name) == "canny_gray" else STRUCTURE_PRIOR_CHANNELS[name]


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


def mask_luminance(pixels: np.ndarray) -> np.ndarray:
    """Luminance (ITU-R 601: ``(299·R + 587·G + 114·B + 500) // 1000``) of an 8-bit RGB H×W×3 array, as uint8;
    an H×W (or H×W×1) array is its own luminance. Exact integer arithmetic: a gray value v gives v."""
    arr = np.asarray(pixels)
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    if arr.dtype != np.uint8:
        raise TypeError(f"mask pixels must be the reader's 8-bit view (uint8), got {arr.dtype}; read mask files with "
                        "inpaint.data.image_io.read_known_mask")
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        return arr
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise ValueError(f"mask pixels must be H×W or H×W×3, got shape {arr.shape}")
    weighted = arr.astype(np.uint32) @ np.array([299, 587, 114], dtype=np.uint32)
    return ((weighted + 500) // 1000).astype(np.uint8)


def mask_from_array(pixels: np.ndarray, hole_value: HoleValue = "white") -> np.ndarray:
    """Binarise a mask file's 8-bit pixels (H×W gray or H×W×3 RGB, as the image reader returns them) into the
    {0,1} known-mask — the one rule of every command.

    A pixel is bright when its luminance (:func:`mask_luminance`) exceeds :data:`MASK_FILE_THRESHOLD` (127);
    ``hole_value="white"`` (default) means bright pixels mark the hole, as in the NVIDIA irregular-mask set and
    LaMa; ``"black"`` flips that. A pure-red pixel (luminance 76) is therefore dark. Returns float32 H×W, 1 = known.
    """
    if hole_value not in get_args(HoleValue):
        raise UserInputError(f"hole_value must be 'white' or 'black', got {hole_value!r}")
    bright = mask_luminance(pixels) > MASK_FILE_THRESHOLD
    hole = bright if hole_value == "white" else ~bright
    return (~hole).astype(np.float32)
