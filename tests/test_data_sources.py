"""Image sources: robust reading, folder splits and layouts, the embedded and synthetic sources."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PIL import Image

from inpaint.data import layouts
from inpaint.data.datasets import (
    EMBEDDED_EVAL_PHOTOS,
    EMBEDDED_TRAIN_PHOTOS,
    EmbeddedImages,
    FolderImages,
    SyntheticImages,
    discover_splits,
    embedded_photo,
)
from inpaint.data.image_io import CorruptImageError, list_image_files, read_rgb
from inpaint.data.synthetic import synthetic_image


def test_conversions_to_rgb_uint8(tmp_path):
    gray = np.arange(64, dtype=np.uint8).reshape(8, 8)
    Image.fromarray(gray).save(tmp_path / "gray.png")
    assert np.array_equal(read_rgb(tmp_path / "gray.png"), np.repeat(gray[..., None], 3, axis=2))

    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:2, ..., 3] = 255  # top half opaque red, bottom half transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    white = read_rgb(tmp_path / "rgba.png")
    assert white[0, 0].tolist() == [200, 0, 0] and white[3, 0].tolist() == [255, 255, 255]
    assert read_rgb(tmp_path / "rgba.png", alpha="drop")[3, 0].tolist() == [200, 0, 0]

    sixteen = (np.arange(16, dtype=np.uint16).reshape(4, 4) * 4369)  # 0 … 65535
    Image.fromarray(sixteen).save(tmp_path / "deep.png")
    assert np.array_equal(read_rgb(tmp_path / "deep.png")[..., 0], np.round(sixteen / 257).astype(np.uint8))

    palette = Image.fromarray(np.array([[0, 1], [1, 0]], np.uint8), "P")
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    palette.save(tmp_path / "palette.png")
    assert read_rgb(tmp_path / "palette.png")[0, 1].tolist() == [0, 0, 255]


def test_corrupt_and_truncated_files_name_the_file(tmp_path):
    (tmp_path / "fake.jpg").write_bytes(b"definitely not a jpeg")
    with pytest.raises(CorruptImageError, match="fake.jpg"):
        read_rgb(tmp_path / "fake.jpg")
    Image.fromarray(synthetic_image(np.random.default_rng(0), 64, 64)).save(tmp_path / "whole.png")
    data = (tmp_path / "whole.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptImageError, match=r"cut\.png.*(truncated|corrupt)"):
        read_rgb(tmp_path / "cut.png")


def test_folder_listing_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list_image_files(tmp_path / "missing")
    (tmp_path / "readme.md").write_text("no images here")
    with pytest.raises(FileNotFoundError, match=r"no images found under .*searched recursively.*\.webp"):
        list_image_files(tmp_path)


def _photos(folder, count, size=(48, 80)):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.fromarray(synthetic_image(np.random.default_rng(i), *size)).save(folder / f"p{i:02d}.png")


def test_discover_splits(tmp_path):
    _photos(tmp_path / "a" / "train", 3)
    _photos(tmp_path / "a" / "test", 2)
    splits = discover_splits(tmp_path / "a")
    assert len(splits["train"]) == 3 and len(splits["test"]) == 2 and splits["val"] == splits["test"]
    _photos(tmp_path / "b" / "nested", 40)
    splits = discover_splits(tmp_path / "b")
    assert set(splits["train"]).isdisjoint(splits["val"]) and len(splits["train"]) + len(splits["val"]) == 40
    (tmp_path / "b" / "train.txt").write_text("nested/p00.png\nnested/p01.png\n")
    (tmp_path / "b" / "val.txt").write_text("nested/p02.png\n")
    splits = discover_splits(tmp_path / "b")
    assert [p.name for p in splits["train"]] == ["p00.png", "p01.png"] and splits["test"] == splits["val"]


@pytest.mark.parametrize("layout", layouts.LAYOUTS)
def test_layouts_crop_to_size(tmp_path, layout):
    _photos(tmp_path, 1, size=(50, 90))
    images = FolderImages(list_image_files(tmp_path), tmp_path, layout, 32, 32)
    train = images.load(0, np.random.default_rng(0))
    evaluation = images.load(0, None)
    assert train.rgb.shape == evaluation.rgb.shape == (32, 32, 3) and train.id == "p00"
    assert np.array_equal(evaluation.rgb, images.load(0, None).rgb)  # eval crops are fixed


def test_skip_corrupt_counts(tmp_path):
    _photos(tmp_path, 2)
    (tmp_path / "bad.png").write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="skipped 1 corrupt"):
        images = FolderImages(list_image_files(tmp_path), tmp_path, "plain", 32, 32, skip_corrupt=True)
    assert len(images) == 2 and images.skipped[0][0].name == "bad.png"
    strict = FolderImages(list_image_files(tmp_path), tmp_path, "plain", 32, 32)
    with pytest.raises(CorruptImageError, match="bad.png"):
        strict.load(0, None)


def test_embedded_yields_2000_distinct_training_crops_offline(monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise OSError("network access attempted in an offline test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    embedded_photo.cache_clear()
    source = EmbeddedImages(64, 64, seed=0)
    digests = {hashlib.sha1(source.train_crop(np.random.default_rng([0, 0, i]), i).rgb.tobytes()).digest()
               for i in range(2000)}
    assert len(digests) >= 2000
    assert set(EMBEDDED_TRAIN_PHOTOS).isdisjoint(EMBEDDED_EVAL_PHOTOS)


def test_embedded_eval_crops_are_fixed_and_held_out():
    first = [EmbeddedImages(64, 64, seed=0).eval_crop(i) for i in range(4)]
    second = [EmbeddedImages(64, 64, seed=0).eval_crop(i) for i in range(4)]
    assert all(np.array_equal(a.rgb, b.rgb) and a.id == b.id for a, b in zip(first, second))
    assert all(crop.id.split("_")[0] in EMBEDDED_EVAL_PHOTOS for crop in first)
    assert len({crop.rgb.tobytes() for crop in first}) == 4


def test_synthetic_is_deterministic_and_structured():
    source = SyntheticImages(64, 64)
    a = source.train_crop(np.random.default_rng(1), 0).rgb
    assert np.array_equal(a, source.train_crop(np.random.default_rng(1), 0).rgb)
    assert not np.array_equal(a, source.train_crop(np.random.default_rng(2), 0).rgb)
    assert a.dtype == np.uint8 and a.shape == (64, 64, 3) and a.std() > 10
