"""Every file class and fault of docs/files.md, one parametrised case per row, through every command's reading path.

Each image row is read by the reader itself, by the training data (``FolderImages`` at the file's own size, so the
crop is the whole image), by ``inpaint evaluate`` (its pair loader, or its ``main`` for refusals) and by ``inpaint
predict`` (a composite whose known pixels must equal the reader's 8-bit RGB view bit for bit, or its ``main`` for
refusals: exit 2, one line naming the file, no output). Each mask row is read by the training mask folder,
``evaluate`` and ``predict`` and must give the same known-mask everywhere.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
import torch
from PIL import Image, ImageOps
from torch import nn

from inpaint.commands import evaluate as evaluate_cmd
from inpaint.commands import predict as predict_cmd
from inpaint.data import image_io
from inpaint.data.datasets import FolderImages
from inpaint.data.image_io import (
    CorruptImageError,
    ImageReadWarning,
    ImageTooLargeError,
    MaskWarning,
    UnsupportedImageError,
    read_known_mask,
    read_rgb,
)
from inpaint.data.masks import MaskFolder
from inpaint.inference import Predictor
from inpaint.metrics.folders import ImagePair
from inpaint.models.interface import GeneratorOutput

H, W = 12, 16
RNG = np.random.default_rng(18)
RGB8 = RNG.integers(0, 256, (H, W, 3), dtype=np.uint8)
GRAY8 = RNG.integers(0, 256, (H, W), dtype=np.uint8)
# 16-bit values where round(v/257) and the high byte (v >> 8) differ, plus both ends of the range
DEEP = np.array([0, 65535, 65280, 32767, 32896, 128, 383, 384, 385, 1000, 50000, 12345], np.uint16)
GRAY16 = np.resize(DEEP, (H, W)).astype(np.uint16)
RGB16 = np.stack([GRAY16, GRAY16[::-1], np.roll(GRAY16, 3, axis=1)], axis=-1)
UNIT = RNG.random((H, W)).astype(np.float32)
UNIT[0, 0], UNIT[0, 1] = 0.0, 1.0


def _round257(values: np.ndarray) -> np.ndarray:
    return np.round(values.astype(np.float64) / 257.0).astype(np.uint8)


def _rgb(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray[..., None], 3, axis=2)


def _on_white(rgba: np.ndarray) -> np.ndarray:
    a = rgba[..., 3:].astype(np.float64) / 255.0
    return np.round(rgba[..., :3] * a + 255.0 * (1.0 - a)).astype(np.uint8)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares width×height (a decompression bomb needs no more to be refused)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


# ------------------------------------------------------------------------------------------------ image rows -----


@dataclass(frozen=True)
class Row:
    id: str
    write: Callable[[Path], None]  # writes the file at the given path
    suffix: str = ".png"
    expect: Callable[[Path], np.ndarray] | None = None  # the reader's 8-bit RGB view, computed independently
    error: tuple[type[Exception], str] | None = None  # refused: error type and a regex of its message
    note: str | None = None  # regex of the one ImageReadWarning the file gives
    env: dict[str, str] | None = None


def _save(array: np.ndarray, mode: str | None = None, **kwargs) -> Callable[[Path], None]:
    return lambda path: Image.fromarray(array, mode).save(path, **kwargs) if mode else Image.fromarray(array).save(
        path, **kwargs
    )


def _palette(transparent: bool) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        image = Image.fromarray((GRAY8 % 4).astype(np.uint8), "P")
        image.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30] + [0] * 756)
        image.save(path, transparency=3) if transparent else image.save(path)

    return write


PALETTE = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]], np.uint8)
RGBA = np.dstack([RGB8, np.resize(np.array([0, 64, 128, 255], np.uint8), (H, W))])
LA = np.dstack([GRAY8, np.resize(np.array([255, 0, 200], np.uint8), (H, W))])


def _oriented(path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    Image.fromarray(RGB8).save(path, exif=exif)


FRAME0 = _rgb((GRAY8 // 64 * 64).astype(np.uint8))  # four grey levels: a GIF stores them exactly


def _animated(path: Path) -> None:
    frames = [Image.fromarray(FRAME0)] + [Image.fromarray(np.full((H, W, 3), v, np.uint8)) for v in (200, 90)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)


def _cmyk(path: Path) -> None:
    Image.fromarray(RGB8).convert("CMYK").save(path, format="JPEG", quality=95)


def _truncated(path: Path) -> None:
    buffer = io.BytesIO()
    Image.fromarray(RGB8).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])


def _nan_tiff(path: Path) -> None:
    values = UNIT.copy()
    values[3, 4] = np.nan
    tifffile.imwrite(path, values)


IMAGE_ROWS = [
    Row("rgb-8bit", _save(RGB8), expect=lambda p: cv2.imread(str(p), cv2.IMREAD_COLOR)[..., ::-1]),
    Row("gray-8bit", _save(GRAY8), expect=lambda p: _rgb(GRAY8)),
    Row("bilevel", _save(GRAY8 > 127), expect=lambda p: _rgb(np.where(GRAY8 > 127, 255, 0).astype(np.uint8))),
    Row("palette", _palette(False), expect=lambda p: PALETTE[GRAY8 % 4]),
    Row("palette-transparent", _palette(True), expect=lambda p: np.where((GRAY8 % 4 == 3)[..., None], 255,
                                                                          PALETTE[GRAY8 % 4]).astype(np.uint8),
        note="transparent pixels"),
    Row("cmyk-jpeg", _cmyk, ".jpg", expect=lambda p: np.asarray(Image.open(p).convert("RGB"))),
    Row("gray-16bit-png", _save(GRAY16), expect=lambda p: _rgb(_round257(GRAY16))),
    Row("rgb-16bit-png", lambda p: cv2.imwrite(str(p), RGB16[..., ::-1]), expect=lambda p: _round257(RGB16)),
    Row("rgb-16bit-tiff", lambda p: tifffile.imwrite(p, RGB16, photometric="rgb"), ".tif",
        expect=lambda p: _round257(RGB16)),
    Row("gray-float-tiff", lambda p: tifffile.imwrite(p, UNIT), ".tif",
        expect=lambda p: _rgb(np.round(UNIT.astype(np.float64) * 255).astype(np.uint8))),
    Row("rgb-float-tiff", lambda p: tifffile.imwrite(p, _rgb(UNIT), photometric="rgb"), ".tif",
        expect=lambda p: _rgb(np.round(UNIT.astype(np.float64) * 255).astype(np.uint8))),
    Row("float-out-of-range", lambda p: tifffile.imwrite(p, UNIT * 255), ".tif",
        error=(UnsupportedImageError, r"float pixels in \[0, 255\]")),
    Row("float-nan", _nan_tiff, ".tif", error=(UnsupportedImageError, "1 NaN or infinite")),
    Row("int32", lambda p: tifffile.imwrite(p, GRAY16.astype(np.int32)), ".tif",
        error=(UnsupportedImageError, "32-bit integer")),
    Row("rgba", _save(RGBA, "RGBA"), expect=lambda p: _on_white(RGBA), note="composited on white"),
    Row("gray-alpha", _save(LA, "LA"), expect=lambda p: _on_white(np.dstack([_rgb(GRAY8), LA[..., 1]])),
        note="composited on white"),
    Row("exif-orientation", _oriented, expect=lambda p: np.rot90(RGB8, -1)),
    Row("animated-gif", _animated, ".gif", expect=lambda p: FRAME0, note="3 frames"),
    Row("multipage-tiff", lambda p: tifffile.imwrite(p, np.stack([GRAY8, 255 - GRAY8])), ".tif",
        expect=lambda p: _rgb(GRAY8), note="2 frames/pages"),
    Row("pixel-guard", _save(RGB8), error=(ImageTooLargeError, "16×12 = 192 pixels"),
        env={"INPAINT_MAX_IMAGE_PIXELS": "100"}),
    Row("decompression-bomb", lambda p: p.write_bytes(_png_header_only(100_000, 100_000)),
        error=(ImageTooLargeError, "100000×100000")),
    Row("corrupt", lambda p: p.write_bytes(b"not an image at all"), error=(CorruptImageError, "cannot decode")),
    Row("truncated", _truncated, error=(CorruptImageError, "truncated|corrupt")),
    Row("empty", lambda p: p.write_bytes(b""), error=(CorruptImageError, "empty")),
]


class MeanFill(nn.Module):
    size_multiple = 8
    priors: tuple[str, ...] = ()

    def forward(self, image, mask, **_):
        mean = (image * mask).sum(dim=(2, 3), keepdim=True) / mask.sum(dim=(2, 3), keepdim=True).clamp_min(1)
        return GeneratorOutput(image=mean.expand_as(image).contiguous())


class BlackFill(nn.Module):
    size_multiple = 8
    priors: tuple[str, ...] = ()

    def forward(self, image, mask, **_):
        return GeneratorOutput(image=torch.full_like(image, -1.0))


@pytest.fixture(autouse=True)
def _fresh_notes():
    image_io.reset_notes()
    yield
    image_io.reset_notes()


def _hole_mask(path: Path, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    mask[shape[0] // 3 : 2 * shape[0] // 3, shape[1] // 3 : 2 * shape[1] // 3] = 255
    Image.fromarray(mask).save(path)
    return mask <= 127  # known


def _one_line_error(capsys, name: str) -> str:
    err = capsys.readouterr().err.strip()
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and name in errors[0] and "Traceback" not in err, err
    return errors[0]


@pytest.mark.parametrize("row", IMAGE_ROWS, ids=[r.id for r in IMAGE_ROWS])
def test_image_file_class(row: Row, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "images"
    folder.mkdir()
    path = folder / f"img{row.suffix}"
    row.write(path)
    for key, value in (row.env or {}).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(predict_cmd, "load_model", lambda ckpt, device: (MeanFill(), {}))

    if row.error is not None:
        kind, pattern = row.error
        with pytest.raises(kind, match=pattern) as caught:
            read_rgb(path)
        assert str(path) in str(caught.value)
        with pytest.raises(kind, match=pattern):  # fit / data
            FolderImages([path], folder, "places2", H, W).load(0, None)
        with pytest.warns(UserWarning, match="skipped 1"):  # data.skip_corrupt=true skips it with a count
            with pytest.raises(FileNotFoundError, match="every image"):
                FolderImages([path], folder, "places2", H, W, skip_corrupt=True)
        rc = evaluate_cmd.main(["--pred", str(folder), "--gt", str(folder), "--no-fid", "--no-raw",
                                "--lpips-net", "none"])  # fmt: skip
        assert rc == 2
        _one_line_error(capsys, str(path))
        _hole_mask(tmp_path / "mask.png", (H, W))
        out = tmp_path / "out.png"
        rc = predict_cmd.main(["--ckpt", "x", "--image", str(path), "--mask", str(tmp_path / "mask.png"),
                               "--out", str(out)])  # fmt: skip
        assert rc == 2 and not out.exists()
        _one_line_error(capsys, str(path))
        return

    assert row.expect is not None
    expected = row.expect(path)
    if row.note:
        with pytest.warns(ImageReadWarning, match=row.note):
            got = read_rgb(path)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ImageReadWarning)
            got = read_rgb(path)
    assert got.dtype == np.uint8 and got.shape == expected.shape and np.array_equal(got, expected)
    h, w = expected.shape[:2]
    crop = FolderImages([path], folder, "places2", h, w).load(0, None)  # fit / data: the same view
    assert np.array_equal(crop.rgb, expected)
    gt, pred, _ = evaluate_cmd._load_pair(ImagePair("img", path, path, None), "white")  # evaluate
    assert np.array_equal(gt, expected) and np.array_equal(pred, expected)
    known = _hole_mask(tmp_path / "mask.png", (h, w))  # predict: known pixels are the reader's view, bit for bit
    predict_cmd.predict_file(Predictor(MeanFill()), path, tmp_path / "mask.png", tmp_path / "out.png")
    out = cv2.imread(str(tmp_path / "out.png"), cv2.IMREAD_COLOR)[..., ::-1]
    assert out.shape == expected.shape
    assert np.array_equal(out[known], expected[known])
    assert not np.array_equal(out[~known], expected[~known])  # the hole was filled


def test_rgb8_known_pixels_equal_the_file_bytes(tmp_path):
    """For an 8-bit RGB PNG the known pixels of predict's output are the file's own bytes (read without Pillow)."""
    Image.fromarray(RGB8).save(tmp_path / "in.png")
    known = _hole_mask(tmp_path / "mask.png", (H, W))
    for strategy in ("resize", "crop", "original"):
        predictor = Predictor(MeanFill(), resolution=8, strategy=strategy, crop_margin=2)
        predict_cmd.predict_file(predictor, tmp_path / "in.png", tmp_path / "mask.png", tmp_path / "out.png")
        out = cv2.imread(str(tmp_path / "out.png"), cv2.IMREAD_UNCHANGED)[..., ::-1]
        assert np.array_equal(out[known], RGB8[known]), strategy


def test_exif_orientation_matches_pillow_for_all_eight_values(tmp_path):
    for value in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = value
        Image.fromarray(RGB8).save(tmp_path / f"o{value}.png", exif=exif)
        reference = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / f"o{value}.png")).convert("RGB"))
        assert np.array_equal(read_rgb(tmp_path / f"o{value}.png"), reference), value


def test_alpha_drop_is_one_option_of_every_command(tmp_path):
    Image.fromarray(RGBA, "RGBA").save(tmp_path / "in.png")
    with pytest.warns(ImageReadWarning, match="dropped"):
        assert np.array_equal(read_rgb(tmp_path / "in.png", alpha="drop"), RGB8)
    known = _hole_mask(tmp_path / "mask.png", (H, W))
    predict_cmd.predict_file(Predictor(MeanFill()), tmp_path / "in.png", tmp_path / "mask.png", tmp_path / "o.png",
                             alpha="drop")  # fmt: skip
    assert np.array_equal(np.asarray(Image.open(tmp_path / "o.png"))[known], RGB8[known])
    gt, _, _ = evaluate_cmd._load_pair(ImagePair("in", tmp_path / "in.png", tmp_path / "in.png"), "white", "drop")
    assert np.array_equal(gt, RGB8)


# ------------------------------------------------------------------------------------------------- mask rows -----


@dataclass(frozen=True)
class MaskRow:
    id: str
    write: Callable[[Path], None]
    hole: np.ndarray  # expected hole map (True = hole), white = hole polarity
    note: str | None = None  # regex of the MaskWarning (or ImageReadWarning) it gives


BOX = np.zeros((H, W), bool)
BOX[3:9, 4:12] = True
GREY_EDGE = np.where(BOX, 255, 0).astype(np.uint8)
GREY_EDGE[2, 4:12], GREY_EDGE[9, 4:12] = 100, 200  # anti-aliased rows: 100 → known, 200 → hole
RED_AND_WHITE = np.zeros((H, W, 3), np.uint8)
RED_AND_WHITE[BOX] = (255, 255, 255)
RED_AND_WHITE[:, :2] = (255, 0, 0)  # pure red: luminance 76, dark → known in every command
MOSTLY = np.ones((H, W), bool)
MOSTLY[5:7, 6:10] = False

MASK_ROWS = [
    MaskRow("binary-gray", _save(np.where(BOX, 255, 0).astype(np.uint8)), BOX),
    MaskRow("rgb-pure-red-is-dark", _save(RED_AND_WHITE), BOX, note="grey levels"),
    MaskRow("16-bit", _save(np.where(BOX, 65535, 0).astype(np.uint16)), BOX),
    MaskRow("rgba-transparent-is-white", _save(np.dstack([np.zeros((H, W, 3), np.uint8),
                                                          np.where(BOX, 0, 255).astype(np.uint8)]), "RGBA"), BOX,
            note="composited on white"),
    MaskRow("non-binary", _save(GREY_EDGE), BOX | (GREY_EDGE == 200), note="grey levels"),
    MaskRow("no-hole", _save(np.zeros((H, W), np.uint8)), np.zeros((H, W), bool), note="no hole"),
    MaskRow("all-hole", _save(np.full((H, W), 255, np.uint8)), np.ones((H, W), bool), note="all hole"),
    MaskRow("inverted", _save(np.where(MOSTLY, 255, 0).astype(np.uint8)), MOSTLY, note="inverted"),
]


@pytest.mark.parametrize("row", MASK_ROWS, ids=[r.id for r in MASK_ROWS])
def test_mask_file_class(row: MaskRow, tmp_path):
    folder = tmp_path / "masks"
    folder.mkdir()
    path = folder / "m.png"
    row.write(path)
    expected_known = (~row.hole).astype(np.float32)
    if row.note:
        with pytest.warns((MaskWarning, ImageReadWarning), match=row.note):
            known = read_known_mask(path)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error", MaskWarning)
            known = read_known_mask(path)
    assert np.array_equal(known, expected_known)
    assert np.array_equal(MaskFolder(folder).load(0, H, W), expected_known)  # fit / data
    white = np.full((H, W, 3), 255, np.uint8)
    Image.fromarray(white).save(tmp_path / "img.png")
    _, _, eval_known = evaluate_cmd._load_pair(ImagePair("m", tmp_path / "img.png", tmp_path / "img.png", path),
                                               "white")  # fmt: skip
    assert np.array_equal(eval_known, expected_known)  # evaluate
    predict_cmd.predict_file(Predictor(BlackFill(), strategy="original"), tmp_path / "img.png", path,
                             tmp_path / "out.png")  # fmt: skip
    filled = np.asarray(Image.open(tmp_path / "out.png"))[..., 0] == 0  # predict: black exactly where the hole is
    assert np.array_equal(filled, row.hole)


def test_mask_of_another_size(tmp_path, monkeypatch, capsys):
    """Training resizes a folder mask (nearest neighbour); evaluate and predict refuse it, naming both sizes."""
    folder = tmp_path / "masks"
    folder.mkdir()
    big = np.kron(np.where(BOX, 255, 0).astype(np.uint8), np.ones((2, 2), np.uint8))
    Image.fromarray(big).save(folder / "img.png")
    assert np.array_equal(MaskFolder(folder).load(0, H, W), (~BOX).astype(np.float32))
    images = tmp_path / "images"
    images.mkdir()
    Image.fromarray(RGB8).save(images / "img.png")
    monkeypatch.setattr(predict_cmd, "load_model", lambda ckpt, device: (MeanFill(), {}))
    rc = predict_cmd.main(["--ckpt", "x", "--image", str(images / "img.png"), "--mask", str(folder / "img.png"),
                           "--out", str(tmp_path / "out.png")])  # fmt: skip
    assert rc == 2 and "32×24" in _one_line_error(capsys, "img.png")
    rc = evaluate_cmd.main(["--pred", str(images), "--gt", str(images), "--masks", str(folder), "--no-fid",
                            "--no-raw", "--lpips-net", "none"])  # fmt: skip
    assert rc == 2 and "32×24" in _one_line_error(capsys, "img.png")
