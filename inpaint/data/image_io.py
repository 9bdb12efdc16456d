"""Robust image reading: any common file → H×W×3 uint8 RGB, with errors that name the file.

Conversions (documented in docs/data.md): gray → replicated to RGB; RGBA / LA / palette with transparency →
composited on white (``alpha="white"``, default: transparent backgrounds become white, as a viewer shows them) or the
alpha channel dropped (``alpha="drop"``); 16-bit → 8-bit by rounding v/257; 32-bit integer / float → scaled from
their range; palette → its RGB colours. Truncated or undecodable files raise :class:`CorruptImageError`.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, UnidentifiedImageError

from inpaint.errors import MissingPathError, NotAFolderError, UserInputError

IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
AlphaPolicy = Literal["white", "drop"]


class CorruptImageError(UserInputError):
    """A file that has an image extension but cannot be decoded completely."""


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def list_image_files(root: Path, what: str = "images") -> list[Path]:
    """All image files under ``root`` (recursive, sorted); clear errors for a missing or empty folder."""
    root = Path(root)
    if not root.exists():
        raise MissingPathError(f"{what} folder {str(root)!r} does not exist; check the path (data_root / mask folder)")
    if not root.is_dir():
        raise NotAFolderError(f"{what} path {str(root)!r} is a file, expected a folder of images")
    # Hidden folders (e.g. the smoothing cache ``.inpaint_cache``) and hidden files are never data.
    files = sorted(
        p for p in root.rglob("*")
        if p.is_file() and is_image_file(p) and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    if not files:
        raise MissingPathError(
            f"no {what} found under {str(root)!r} (searched recursively for {', '.join(IMAGE_EXTENSIONS)}, "
            "case-insensitive); put image files there or point the path at the right folder"
        )
    return files


def read_file_bytes(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise CorruptImageError(f"cannot read image file {str(path)!r}: {err}") from err


def content_hash(data: bytes) -> str:
    """SHA-256 of a file's bytes: the cache key part that follows the content, not the name."""
    return hashlib.sha256(data).hexdigest()


def decode_image(data: bytes, name: str | Path) -> Image.Image:
    """Decode the whole image (so truncation is detected now, not later in a worker)."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise CorruptImageError(
            f"cannot decode image file {str(name)!r} ({type(err).__name__}: {err}); it is corrupt, truncated or not "
            "an image — replace or delete it, or pass skip_corrupt=True to skip such files"
        ) from err
    return image


def _scale_to_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    if array.dtype == np.uint16:
        return np.round(array / 257.0).astype(np.uint8)
    if array.dtype.kind in "iu":
        top = 65535.0 if array.max(initial=0) > 255 else 255.0
        return np.clip(np.round(array / top * 255.0), 0, 255).astype(np.uint8)
    top = 1.0 if array.max(initial=0.0) <= 1.0 else 255.0  # float images: [0, 1] or [0, 255]
    return np.clip(np.round(array / top * 255.0), 0, 255).astype(np.uint8)


def pil_to_rgb_array(image: Image.Image, alpha: AlphaPolicy = "white") -> np.ndarray:
    """Any PIL image → H×W×3 uint8 RGB, following the conversions in the module docstring."""
    if alpha not in ("white", "drop"):
        raise UserInputError(f"alpha must be 'white' or 'drop', got {alpha!r}")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode in ("1", "L", "LA", "RGB", "RGBA", "CMYK", "YCbCr", "PA", "La", "RGBa"):
        if image.mode in ("CMYK", "YCbCr"):
            image = image.convert("RGB")
        elif image.mode in ("PA", "La", "RGBa"):
            image = image.convert("RGBA")
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[..., None]
    array = _scale_to_uint8(array)
    channels = array.shape[2]
    if channels in (2, 4):
        color, opacity = array[..., :-1], array[..., -1:]
        if alpha == "white":
            weight = opacity.astype(np.float32) / 255.0
            color = np.round(color * weight + 255.0 * (1.0 - weight)).astype(np.uint8)
        array = color
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    return np.ascontiguousarray(array[..., :3])


def read_rgb(path: Path, alpha: AlphaPolicy = "white") -> np.ndarray:
    """Read one image file as H×W×3 uint8 RGB."""
    return pil_to_rgb_array(decode_image(read_file_bytes(path), path), alpha)


def read_mask_pixels(path: Path) -> np.ndarray:
    """Read a mask file's raw pixels (H×W, any bit depth) for :func:`inpaint.conventions.mask_from_array`."""
    image = decode_image(read_file_bytes(path), path)
    if image.mode in ("1", "P", "LA", "PA", "CMYK", "YCbCr"):
        image = image.convert("L")
    array = np.asarray(image)
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    return array


def find_corrupt(paths: Iterable[Path]) -> list[tuple[Path, str]]:
    """Try to decode every file; return (path, reason) for those that fail."""
    bad: list[tuple[Path, str]] = []
    for path in paths:
        try:
            decode_image(read_file_bytes(path), path)
        except CorruptImageError as err:
            bad.append((Path(path), str(err)))
    return bad
