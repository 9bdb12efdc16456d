"""The suite's one image reader: any supported file → H×W×3 uint8 RGB, with errors that name the file.

Training data, ``inpaint evaluate``, ``inpaint predict``, mask folders and ``inpaint prepare`` all read files through
:func:`read_rgb` (images) and :func:`read_known_mask` (masks), so a file means the same thing everywhere. The policy
(a table of every file class and fault is in docs/files.md):

* **depth**: 8-bit as is; 16-bit → ``round(v / 257)`` (exact rounding, never clipped; 16-bit colour PNG/TIFF is
  decoded at full depth, not truncated to its high byte); float (TIFF) → ``round(v · 255)`` when every value lies in
  [0, 1], any other range is refused, and a NaN or infinite value is refused; 32-bit integer pixels are refused
  (no agreed range); bilevel → 0 / 255;
* **colour**: gray → replicated to RGB; palette → its colours; CMYK / YCbCr / LAB → RGB (Pillow's conversion);
* **alpha** (RGBA, LA, palette or gray/RGB with a transparent colour): composited on white (``alpha="white"``,
  the default everywhere: a transparent background reads as a viewer shows it) or dropped (``alpha="drop"``);
  a file with transparent pixels gets one note per process;
* **orientation**: the EXIF orientation tag is applied (the pixels are turned the way a viewer shows them);
* **animated / multi-page** files (GIF, APNG, WebP, multi-page TIFF): the first frame, with one note per process;
* **size**: more than :func:`max_image_pixels` pixels (header size, checked before decoding) is refused —
  a decompression bomb costs nothing; ``INPAINT_MAX_IMAGE_PIXELS`` raises the limit;
* corrupt, truncated, empty and non-image files raise :class:`CorruptImageError`.

Masks are read by the same reader (same conversions, same alpha policy) and binarised by one rule,
:func:`inpaint.conventions.mask_from_array`: a pixel is *bright* when its luminance
``(299·R + 587·G + 114·B + 500) // 1000`` exceeds 127; bright = hole unless ``hole_value="black"``. A mask with grey
levels, one without a hole, one that is all hole or mostly hole (likely inverted) warns (:class:`MaskWarning`).
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, UnidentifiedImageError

from inpaint.conventions import HoleValue, mask_from_array, mask_luminance
from inpaint.errors import MissingPathError, NotAFolderError, UserInputError

IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
AlphaPolicy = Literal["white", "drop"]
ALPHA_POLICIES: tuple[str, ...] = ("white", "drop")
#: Default pixel-count guard: Pillow's own decompression-bomb warning level (about 89.5 megapixels).
DEFAULT_MAX_IMAGE_PIXELS = 89_478_485
MAX_PIXELS_ENV = "INPAINT_MAX_IMAGE_PIXELS"
#: A mask with more hole than this is probably inverted (white/black polarity) and warns.
MOSTLY_HOLE_RATIO = 0.75
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


class UnreadableImageError(UserInputError):
    """A file that the reader does not turn into pixels (the message names the file and the reason)."""


class CorruptImageError(UnreadableImageError):
    """A file that has an image extension but cannot be decoded completely (corrupt, truncated, empty, not an image)."""


class UnsupportedImageError(UnreadableImageError):
    """A decodable file whose pixels the policy refuses (float outside [0, 1], NaN / inf, 32-bit integers, …)."""


class ImageTooLargeError(UnreadableImageError):
    """A file whose header declares more pixels than :func:`max_image_pixels` (e.g. a decompression bomb)."""


class ImageReadWarning(UserWarning):
    """A file was read with a conversion worth knowing about (alpha composited, first frame of an animation)."""


class MaskWarning(UserWarning):
    """A mask file that is probably not what was meant (grey levels, no hole, all hole, inverted polarity)."""


_noted: set[str] = set()


def _note_once(kind: str, message: str, category: type[Warning] = ImageReadWarning) -> None:
    """Warn about ``kind`` once per process (naming the first file), so a folder of such files prints one line."""
    if kind in _noted:
        return
    _noted.add(kind)
    warnings.warn(f"{message} (further files of this kind are not reported)", category, stacklevel=3)


def reset_notes() -> None:
    """Forget which notes were given (tests, or a long-lived process that reads a new folder)."""
    _noted.clear()


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


def max_image_pixels() -> int:
    """The pixel-count guard: ``$INPAINT_MAX_IMAGE_PIXELS`` when set, else :data:`DEFAULT_MAX_IMAGE_PIXELS`."""
    value = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not value:
        return DEFAULT_MAX_IMAGE_PIXELS
    try:
        limit = int(float(value))
    except ValueError:
        raise UserInputError(f"{MAX_PIXELS_ENV}={value!r} is not a number of pixels") from None
    if limit < 1:
        raise UserInputError(f"{MAX_PIXELS_ENV} must be positive, got {value!r}")
    return limit


def _check_pixel_count(width: int, height: int, name: str | Path) -> None:
    limit = max_image_pixels()
    if width * height > limit:
        raise ImageTooLargeError(
            f"image file {str(name)!r} declares {width}×{height} = {width * height:,} pixels, more than the "
            f"{limit:,} the reader accepts (a decompression bomb, or a very large photo: set {MAX_PIXELS_ENV} "
            "to raise the limit)"
        )


def _corrupt(name: str | Path, err: BaseException) -> CorruptImageError:
    reason = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    return CorruptImageError(
        f"cannot decode image file {str(name)!r} ({reason}); it is corrupt, truncated or not an image — replace "
        "or delete it (a training image folder can skip such files with data.skip_corrupt=true)"
    )


# ------------------------------------------------------------------------------------------------ decoding -------


def orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation value (1–8) to an H×W(×C) array, as Pillow's ``ImageOps.exif_transpose`` does."""
    if orientation == 2:
        return array[:, ::-1]
    if orientation == 3:
        return array[::-1, ::-1]
    if orientation == 4:
        return array[::-1]
    if orientation == 5:
        return array.swapaxes(0, 1)
    if orientation == 6:
        return np.rot90(array, -1)
    if orientation == 7:
        return array.swapaxes(0, 1)[::-1, ::-1]
    if orientation == 8:
        return np.rot90(array, 1)
    return array


def _raw_mode(image: Image.Image) -> str:
    """The decoder's raw mode of the first tile (e.g. ``RGB;16B`` for a 16-bit colour PNG)."""
    if not image.tile:
        return ""
    args = image.tile[0].args
    return str(args[0] if isinstance(args, tuple) and args else args)


def _open_pil(data: bytes, name: str | Path) -> Image.Image | None:
    """Open (header only) with Pillow; None for a TIFF that Pillow cannot identify (float colour, float64, …)."""
    previous = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = None  # this reader applies its own guard (a clear error instead of Pillow's)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except UnidentifiedImageError as err:
        if data[:4] in _TIFF_MAGIC:
            return None
        raise _corrupt(name, err) from err
    except (OSError, SyntaxError, ValueError, TypeError, IndexError, struct.error, Image.DecompressionBombError) as err:
        raise _corrupt(name, err) from err
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _exif_orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
        return int(value) if int(value) in range(1, 9) else 1
    except Exception:  # a broken EXIF block does not make the pixels unreadable
        return 1


def _pil_pixels(image: Image.Image, data: bytes, name: str | Path, raw_mode: str) -> tuple[np.ndarray, str]:
    """(pixels in their own dtype, layout ``L`` / ``LA`` / ``RGB`` / ``RGBA``) of an opened Pillow image."""
    mode = image.mode
    if mode in ("RGB", "RGBA") and ";16" in raw_mode:
        return _deep_colour(data, name, mode)
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, TypeError, IndexError, EOFError, struct.error) as err:
        raise _corrupt(name, err) from err
    has_key = "transparency" in image.info
    try:
        if mode == "P" or mode == "PA":
            image = image.convert("RGBA" if (has_key or mode == "PA") else "RGB")
        elif mode == "1":
            image = image.convert("L")
        elif mode in ("L", "RGB") and has_key:
            image = image.convert("RGBA")
        elif mode == "La":
            image = image.convert("LA")
        elif mode == "RGBa":
            image = image.convert("RGBA")
        elif mode in ("RGBX", "CMYK", "YCbCr", "LAB", "HSV"):
            image = image.convert("RGB")
    except (OSError, ValueError) as err:
        raise _corrupt(name, err) from err
    mode = image.mode
    if mode in ("L", "F") or mode.startswith("I;16"):
        array = np.asarray(image)
        if mode.startswith("I;16"):
            array = array.astype(np.uint16)
        return array, "L"
    if mode in ("LA", "RGB", "RGBA"):
        return np.asarray(image), mode
    if mode == "I":
        raise UnsupportedImageError(
            f"image file {str(name)!r} has 32-bit integer pixels, which have no agreed range; save it as an 8- or "
            "16-bit image"
        )
    raise UnsupportedImageError(f"image file {str(name)!r} has pixel mode {mode!r}, which the reader does not convert")


def _deep_colour(data: bytes, name: str | Path, mode: str) -> tuple[np.ndarray, str]:
    """16-bit colour PNG / TIFF at full depth (Pillow would keep only the high byte of each channel)."""
    import cv2

    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None or array.ndim != 3 or array.shape[2] not in (3, 4):
        raise UnsupportedImageError(f"image file {str(name)!r}: cannot decode its 16-bit {mode} pixels")
    array = array[..., [2, 1, 0, 3][: array.shape[2]]]  # OpenCV's BGR(A) → RGB(A)
    return array, "RGBA" if array.shape[2] == 4 else "RGB"


def _tiff_pixels(data: bytes, name: str | Path) -> tuple[np.ndarray, str, int, int]:
    """(pixels, layout, orientation, page count) of a TIFF that Pillow cannot decode (float colour, float64, …)."""
    import tifffile

    try:
        with tifffile.TiffFile(io.BytesIO(data)) as tif:
            page = tif.pages[0]
            _check_pixel_count(int(page.imagewidth), int(page.imagelength), name)
            photometric = int(page.photometric)
            if photometric not in (1, 2):  # MINISBLACK, RGB
                raise UnsupportedImageError(
                    f"image file {str(name)!r} is a TIFF with photometric interpretation {page.photometric.name}, "
                    "which the reader does not convert; save it as gray or RGB"
                )
            array = page.asarray()
            axes = page.axes
            tag = page.tags.get(274)
            orientation = int(tag.value) if tag is not None and int(tag.value) in range(1, 9) else 1
            pages = len(tif.pages)
    except UnreadableImageError:
        raise
    except Exception as err:  # tifffile raises many types for broken files
        raise _corrupt(name, err) from err
    if "S" in axes and axes.index("S") < axes.index("Y"):
        array = np.moveaxis(array, axes.index("S"), -1)
    array = np.squeeze(array)
    if array.ndim == 2:
        return array, "L", orientation, pages
    if array.ndim == 3 and array.shape[2] in (2, 3, 4):
        return array, {2: "LA", 3: "RGB", 4: "RGBA"}[array.shape[2]], orientation, pages
    raise UnsupportedImageError(f"image file {str(name)!r} holds a TIFF of shape {array.shape}, not one image")


def to_uint8(array: np.ndarray, name: str | Path) -> np.ndarray:
    """Pixels of any supported depth → uint8, by the policy of the module docstring (refusals name the file)."""
    if array.dtype == np.uint8:
        return array
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    if array.dtype == np.uint16:
        return ((array.astype(np.uint32) + 128) // 257).astype(np.uint8)  # = round(v / 257), exactly
    if array.dtype.kind == "f":
        finite = np.isfinite(array)
        if not finite.all():
            bad = int(array.size - np.count_nonzero(finite))
            raise UnsupportedImageError(
                f"image file {str(name)!r} has {bad} NaN or infinite pixel value(s); the reader refuses them "
                "rather than guess a colour"
            )
        low, high = float(array.min(initial=0.0)), float(array.max(initial=0.0))
        if low < 0.0 or high > 1.0:
            raise UnsupportedImageError(
                f"image file {str(name)!r} has float pixels in [{low:g}, {high:g}]; the reader takes float images "
                "in [0, 1] only (scaled by 255) — rescale it or save it as an 8- or 16-bit image"
            )
        return np.round(array.astype(np.float64) * 255.0).astype(np.uint8)
    raise UnsupportedImageError(
        f"image file {str(name)!r} has {array.dtype} pixels, which have no agreed range; save it as 8- or 16-bit"
    )


def decode_rgb(data: bytes, name: str | Path, alpha: AlphaPolicy = "white") -> np.ndarray:
    """Decode a file's bytes into H×W×3 uint8 RGB by the reader's policy (``name`` is used in messages)."""
    if alpha not in ALPHA_POLICIES:
        raise UserInputError(f"alpha must be 'white' or 'drop', got {alpha!r}")
    if not data:
        raise CorruptImageError(f"image file {str(name)!r} is empty (0 bytes); replace or delete it")
    image = _open_pil(data, name)
    if image is None:
        array, layout, orientation, frames = _tiff_pixels(data, name)
    else:
        _check_pixel_count(image.width, image.height, name)
        raw_mode = _raw_mode(image)  # before anything that loads the pixels (Pillow's PNG getexif() does)
        frames = int(getattr(image, "n_frames", 1) or 1)
        orientation = _exif_orientation(image)
        if frames > 1:
            image.seek(0)
        array, layout = _pil_pixels(image, data, name, raw_mode)
    if frames > 1:
        _note_once("frames", f"image file {str(name)!r} has {frames} frames/pages; the first one is read")
    array = to_uint8(np.asarray(array), name)
    if array.ndim == 2:
        array = array[..., None]
    if layout in ("LA", "RGBA"):
        color, opacity = array[..., :-1], array[..., -1:]
        if (opacity < 255).any():
            what = "composited on white" if alpha == "white" else "dropped (alpha='drop')"
            _note_once(f"alpha-{alpha}", f"image file {str(name)!r} has transparent pixels; its alpha is {what}")
            if alpha == "white":
                weight = opacity.astype(np.float32) / 255.0
                color = np.round(color * weight + 255.0 * (1.0 - weight)).astype(np.uint8)
        array = color
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    return np.ascontiguousarray(orient(array[..., :3], orientation))


def image_size(path: str | Path) -> tuple[int, int]:
    """(height, width) of an image file from its header alone — milliseconds even for a huge file; the pixel-count
    guard applies. The EXIF orientation is not applied (it may swap the two; the pixel count and the longer side,
    which planning needs, stay the same)."""
    data = read_file_bytes(Path(path))
    if not data:
        raise CorruptImageError(f"image file {str(path)!r} is empty (0 bytes); replace or delete it")
    image = _open_pil(data, path)
    if image is None:
        import tifffile

        try:
            with tifffile.TiffFile(io.BytesIO(data)) as tif:
                height, width = int(tif.pages[0].imagelength), int(tif.pages[0].imagewidth)
        except Exception as err:
            raise _corrupt(path, err) from err
        _check_pixel_count(width, height, path)
        return height, width
    _check_pixel_count(image.width, image.height, path)
    return image.height, image.width


def read_rgb(path: str | Path, alpha: AlphaPolicy = "white") -> np.ndarray:
    """Read one image file as H×W×3 uint8 RGB (the reader's policy: module docstring and docs/files.md)."""
    return decode_rgb(read_file_bytes(Path(path)), path, alpha)


# ------------------------------------------------------------------------------------------------- masks ---------


def check_mask(known: np.ndarray, luminance: np.ndarray, name: str | Path, hole_value: HoleValue) -> None:
    """Warn (once per process and kind) about masks that are probably not what was meant."""
    levels = np.unique(luminance)
    if not np.isin(levels, (0, 255)).all():
        _note_once("mask-grey", f"mask file {str(name)!r} has {len(levels)} grey levels (anti-aliased or lossy?); it "
                   "is binarised at luminance > 127", MaskWarning)
    ratio = 1.0 - float(known.mean()) if known.size else 0.0
    flip = "black" if hole_value == "white" else "white"
    if ratio == 0.0:
        _note_once("mask-none", f"mask file {str(name)!r} has no hole ({hole_value} = hole): nothing is filled",
                   MaskWarning)
    elif ratio == 1.0:
        _note_once("mask-all", f"mask file {str(name)!r} is all hole ({hole_value} = hole): no pixel is known; "
                   f"inverted? the other polarity is mask_hole_value {flip}", MaskWarning)
    elif ratio > MOSTLY_HOLE_RATIO:
        _note_once("mask-most", f"mask file {str(name)!r} is {ratio:.0%} hole ({hole_value} = hole); inverted? the "
                   f"other polarity is mask_hole_value {flip}", MaskWarning)


def read_known_mask(path: str | Path, hole_value: HoleValue = "white", alpha: AlphaPolicy = "white",
                    warn: bool = True) -> np.ndarray:  # fmt: skip
    """A mask file as the suite's H×W float32 known-mask (1 = known), read by :func:`read_rgb` and binarised by
    :func:`inpaint.conventions.mask_from_array` — the one rule of training, evaluation and predict."""
    rgb = read_rgb(path, alpha)
    known = mask_from_array(rgb, hole_value)
    if warn:
        check_mask(known, mask_luminance(rgb), path, hole_value)
    return known


def find_corrupt(paths: Iterable[Path], alpha: AlphaPolicy = "white") -> list[tuple[Path, str]]:
    """Try to read every file; return (path, reason) for those the reader refuses."""
    bad: list[tuple[Path, str]] = []
    for path in paths:
        try:
            read_rgb(path, alpha)
        except UnreadableImageError as err:
            bad.append((Path(path), str(err)))
    return bad
