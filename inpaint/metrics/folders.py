"""Result folders: pairing predictions, ground truth and masks by file name, and reading them as the protocol wants.

Files pair by their path relative to the folder *without the extension* (``a/img1.png`` ↔ ``a/img1.jpg``), so a
method that saved PNGs can be scored against JPEG ground truth. Every missing or extra file is an error that names
it — a silent skip would change N and with it FID.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from inpaint.data.image_io import read_known_mask, read_rgb
from inpaint.errors import MissingPathError, UserInputError

if TYPE_CHECKING:
    from inpaint.metrics.collection import InpaintingMetrics

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})


# Images and masks are read by the suite's one reader (re-exported here for the commands that pair folders).
__all__ = ["ImagePair", "PairingError", "list_images", "pair_folders", "read_known_mask", "read_rgb", "score_uint8",
           "write_png"]


class PairingError(UserInputError):
    """Folders whose file names do not match one to one."""


@dataclass(frozen=True)
class ImagePair:
    key: str  # relative path without extension, "/"-separated
    pred: Path
    gt: Path
    mask: Path | None = None


def list_images(folder: str | Path, what: str) -> dict[str, Path]:
    """``{relative stem: path}`` for every image file below ``folder`` (``what`` names the folder in errors)."""
    root = Path(folder)
    if not root.is_dir():
        raise MissingPathError(f"{what} folder {root} does not exist or is not a folder")
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
            key = path.relative_to(root).with_suffix("").as_posix()
            if key in found:
                raise PairingError(
                    f"{what} folder {root} holds two files named {key!r}: {found[key].name}, {path.name}"
                )
            found[key] = path
    if not found:
        raise MissingPathError(f"{what} folder {root} holds no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return found


def _check_same_names(reference: dict[str, Path], other: dict[str, Path], ref_what: str, what: str) -> None:
    missing = sorted(set(reference) - set(other))
    extra = sorted(set(other) - set(reference))
    problems = []
    if missing:
        shown = ", ".join(reference[k].name for k in missing[:10])
        problems.append(f"{len(missing)} {ref_what} file(s) have no {what} counterpart: {shown}")
    if extra:
        shown = ", ".join(other[k].name for k in extra[:10])
        problems.append(f"{len(extra)} {what} file(s) have no {ref_what} counterpart: {shown}")
    if problems:
        raise PairingError("; ".join(problems) + " (files pair by name without extension)")


def pair_folders(pred_dir: str | Path, gt_dir: str | Path, masks_dir: str | Path | None = None) -> list[ImagePair]:
    """Pair ``pred`` and ``gt`` (and ``masks``) files one to one by name; raise :class:`PairingError` otherwise."""
    gt = list_images(gt_dir, "ground-truth")
    pred = list_images(pred_dir, "prediction")
    _check_same_names(gt, pred, "ground-truth", "prediction")
    masks: dict[str, Path] = {}
    if masks_dir is not None:
        masks = list_images(masks_dir, "mask")
        _check_same_names(gt, masks, "ground-truth", "mask")
    return [ImagePair(key, pred[key], gt[key], masks.get(key)) for key in sorted(gt)]


def score_uint8(
    metrics: InpaintingMetrics,
    samples: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray, str | None]],
    batch_size: int = 16,
    device: str = "cpu",
) -> None:
    """Feed ``(ground truth, prediction, known mask, mask kind)`` samples — H×W×3 uint8 images, an H×W float mask
    with 1 = known — to ``metrics`` in batches of equal size (the one path of ``inpaint evaluate`` and of results
    scored by the reports), so a folder gives the same numbers whichever entry point reads it."""
    import torch

    from inpaint.conventions import from_uint8

    metrics.to(device)
    pending: list[tuple[np.ndarray, np.ndarray, np.ndarray, str | None]] = []

    def flush() -> None:
        if not pending:
            return
        target = from_uint8(torch.from_numpy(np.stack([p[0] for p in pending])).permute(0, 3, 1, 2)).to(device)
        output = from_uint8(torch.from_numpy(np.stack([p[1] for p in pending])).permute(0, 3, 1, 2)).to(device)
        known = torch.from_numpy(np.stack([p[2] for p in pending]))[:, None].to(device)
        metrics.update(target, output, known, mask_kind=[p[3] for p in pending])
        pending.clear()

    for gt, pred, known, kind in samples:
        if pending and (pending[0][0].shape != gt.shape or len(pending) >= batch_size):
            flush()
        pending.append((gt, pred, np.asarray(known, dtype=np.float32), kind))
    flush()


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Save an H×W×3 uint8 array as PNG (lossless; the protocol never writes JPEG)."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"output {path} must be a .png file (lossy formats change the metrics)")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected H×W×3 uint8, got {image.dtype} {image.shape}")
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path, format="PNG")
    return path
