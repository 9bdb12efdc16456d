"""The structure priors of Table VIII: what the structure branch sees instead of (or as) Canny + gray.

Every prior is C maps in [0, 1] of the full, unmasked image (``inpaint.conventions``); the generator masks them and
appends M, so X_S = (prior⊙M, M). All are computed from the [0, 1] RGB crop:

* ``canny_gray`` (C = 2, the paper's and the default): (edge, gray) of :mod:`inpaint.data.preprocess`. The data
  module keeps handing it over as the batch's ``edge`` and ``gray``, exactly as before this option existed.
* ``lowres_rgb`` (C = 3): the image shrunk by 8 in each direction (block means, i.e. area interpolation; 256 → 32
  as the paper, 64 → 8 at 64²) and enlarged back with bilinear interpolation (half-pixel centres), in float64.
* ``sobel_x`` / ``sobel_y`` (C = 3): the unnormalised 3×3 Sobel derivative of each RGB channel along x (columns,
  kernel [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]) or y (its transpose), mirrored border without repeating the edge pixel
  (OpenCV's default, reflect-101). On a [0, 1] channel it lies in [-4, 4]; the map is 0.5 + g/8, so 0.5 = flat.
* ``segmentation`` (C = 3): the class-index map of an ADE20K-style annotation coloured with :data:`PALETTE` / 255.

The auxiliary decoder D_S predicts the edge map for ``canny_gray`` (Eq. 14) and the whole prior otherwise
(:func:`inpaint.conventions.structure_target_channels`); docs/data.md says why.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from inpaint.conventions import check_structure_prior
from inpaint.data.image_io import list_image_files
from inpaint.data.preprocess import EdgeBackend, structure_priors
from inpaint.errors import MissingPathError, UserInputError

#: the low-resolution RGB prior's shrink factor (the paper's 256 → 32)
LOWRES_FACTOR = 8
#: |Sobel| on a [0, 1] channel is at most 4; the map is 0.5 + g / SOBEL_SCALE
SOBEL_SCALE = 8.0
#: ADE20K layout: a root with these two folders, annotations mirroring images with a .png suffix
ADE_IMAGES, ADE_ANNOTATIONS = "images", "annotations"


def _palette() -> np.ndarray:
    """256 distinct colours: the bits of the class index spread over R, G and B from the most significant bit down
    (index 0 = black, 1 = dark red, 2 = dark green, …), the usual segmentation palette construction."""
    palette = np.zeros((256, 3), dtype=np.uint8)
    for index in range(256):
        value, rgb = index, [0, 0, 0]
        for bit in range(8):
            for channel in range(3):
                rgb[channel] |= ((value >> channel) & 1) << (7 - bit)
            value >>= 3
        palette[index] = rgb
    return palette


PALETTE: np.ndarray = _palette()


def sobel_gradient(image01: np.ndarray, axis: str) -> np.ndarray:
    """H×W×C (or H×W) float in [0, 1] → the unnormalised 3×3 Sobel derivative along ``x`` or ``y``, float32, same
    shape, reflect-101 border."""
    if axis not in ("x", "y"):
        raise ValueError(f"sobel axis must be 'x' or 'y', got {axis!r}")
    arr = np.asarray(image01, dtype=np.float64)
    flat = arr.ndim == 2
    if flat:
        arr = arr[..., None]
    padded = np.pad(arr, ((1, 1), (1, 1), (0, 0)), mode="reflect")
    h, w = arr.shape[:2]
    if axis == "y":  # the x derivative of the transposed image
        padded = padded.transpose(1, 0, 2)
        h, w = w, h
    diff = padded[:, 2 : w + 2] - padded[:, 0:w]  # central difference along x, every padded row
    grad = diff[0:h] + 2.0 * diff[1 : h + 1] + diff[2 : h + 2]  # [1, 2, 1] smoothing across
    if axis == "y":
        grad = grad.transpose(1, 0, 2)
    grad = grad.astype(np.float32)
    return grad[..., 0] if flat else grad


def sobel_map(image01: np.ndarray, axis: str) -> np.ndarray:
    """The ``sobel_x`` / ``sobel_y`` prior: H×W×3 in [0, 1], 0.5 + g/8 (0.5 = no gradient)."""
    grad = sobel_gradient(image01, axis).astype(np.float64)
    return (0.5 + grad / SOBEL_SCALE).astype(np.float32)


def lowres_rgb(image01: np.ndarray, factor: int = LOWRES_FACTOR) -> np.ndarray:
    """The ``lowres_rgb`` prior: H×W×3 in [0, 1] shrunk ``factor``× (area) and enlarged back (bilinear), float32."""
    arr = torch.from_numpy(np.ascontiguousarray(image01, dtype=np.float64)).permute(2, 0, 1)[None]
    h, w = arr.shape[-2:]
    small = F.interpolate(arr, size=(max(1, h // factor), max(1, w // factor)), mode="area")
    big = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
    return big[0].permute(1, 2, 0).numpy().astype(np.float32)


def segmentation_colours(labels: np.ndarray) -> np.ndarray:
    """H×W class indices → the ``segmentation`` prior, H×W×3 float32 in [0, 1] (:data:`PALETTE`; indices above 255
    wrap around)."""
    index = np.asarray(labels).astype(np.int64) % 256
    return PALETTE[index].astype(np.float32) / 255.0


def structure_maps(
    image01: np.ndarray,
    prior: str,
    labels: np.ndarray | None = None,
    edge_backend: EdgeBackend = "skimage",
    legacy_edge_wrap: bool = False,
) -> np.ndarray:
    """The prior ``prior`` of an H×W×3 [0, 1] image as C×H×W float32 in [0, 1] (``labels``: the class-index map,
    needed by ``segmentation``). ``canny_gray`` gives (edge, gray) as the data module's ``edge`` and ``gray``."""
    check_structure_prior(prior)
    if prior == "canny_gray":
        if edge_backend == "kornia":
            raise UserInputError("structure_maps computes canny_gray on the CPU; use edge_backend skimage or opencv")
        gray, edge = structure_priors(image01, edge_backend, legacy_edge_wrap)
        assert edge is not None
        return np.stack([edge, gray]).astype(np.float32)
    if prior == "segmentation":
        if labels is None:
            raise UserInputError(segmentation_unavailable("this image has no class-index map"))
        if labels.shape != image01.shape[:2]:
            raise ValueError(f"class-index map {labels.shape} and image {image01.shape[:2]} differ in size")
        maps = segmentation_colours(labels)
    elif prior == "lowres_rgb":
        maps = lowres_rgb(image01)
    else:
        maps = sobel_map(image01, prior[-1])
    return np.ascontiguousarray(maps.transpose(2, 0, 1))


# ------------------------------------------------------------------------------------------ ADE20K layout -------


def segmentation_unavailable(why: str) -> str:
    """The one-line refusal of ``structure_prior='segmentation'`` without maps (a study shows it as n/a)."""
    return (f"structure_prior='segmentation' needs segmentation maps: {why}; use source='folder' with a data_root "
            f"holding {ADE_IMAGES}/ and {ADE_ANNOTATIONS}/ (ADE20K layout, class-index PNGs)")


def is_ade20k_root(root: str | Path) -> bool:
    """Whether ``root`` has the ADE20K layout: an ``images/`` and an ``annotations/`` folder."""
    root = Path(root)
    return (root / ADE_IMAGES).is_dir() and (root / ADE_ANNOTATIONS).is_dir()


def ade20k_splits(root: str | Path) -> dict[str, list[Path]] | None:
    """ADE20K's own split folders ``images/training`` and ``images/validation`` as train and val = test, or ``None``
    when ``images/`` has no ``training/`` folder (then the usual split discovery applies to ``images/``)."""
    images = Path(root) / ADE_IMAGES
    if not (images / "training").is_dir():
        return None
    train = list_image_files(images / "training", "training images")
    if not (images / "validation").is_dir():
        raise MissingPathError(f"{str(images)!r} has training/ but no validation/ folder (ADE20K layout)")
    held = list_image_files(images / "validation", "validation images")
    return {"train": train, "val": held, "test": held}


def annotation_path(image: Path, images_root: Path, annotations_root: Path) -> Path:
    """Where the class-index map of ``image`` lies: the same relative path under ``annotations/``, suffix .png."""
    return (annotations_root / image.relative_to(images_root)).with_suffix(".png")


def read_label_map(path: Path) -> np.ndarray:
    """A class-index PNG (one 8- or 16-bit channel, or a palette image's indices) as H×W uint16."""
    if not path.is_file():
        raise MissingPathError(f"no segmentation map {str(path)!r} for its image (ADE20K layout: annotations/ mirrors "
                               "images/, .png)")
    with Image.open(path) as img:
        if img.mode not in ("L", "P", "I", "I;16"):
            raise UserInputError(f"segmentation map {str(path)!r} has mode {img.mode}; expected one channel of class "
                                 "indices (ADE20K SceneParsing annotations)")
        labels = np.asarray(img)
    return labels.astype(np.uint16)


__all__ = [
    "LOWRES_FACTOR", "PALETTE", "ade20k_splits", "annotation_path", "is_ade20k_root", "lowres_rgb", "read_label_map",
    "segmentation_colours", "segmentation_unavailable", "sobel_gradient", "sobel_map", "structure_maps",
]
