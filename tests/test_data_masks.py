"""Mask generators (ratio requests, seeding, scaling), mask folders, fixed eval lists and buckets."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inpaint.data.buckets import NVIDIA_BUCKETS, PAPER_BUCKETS, bucket_index, in_bucket
from inpaint.data.masks import (
    EVAL_MASKS_VERSION,
    MASK_KINDS,
    MaskFolder,
    MaskSampler,
    center_square_mask,
    fixed_eval_masks,
    generate_mask,
    hole_ratio_of,
)


@pytest.mark.parametrize("kind", MASK_KINDS)
def test_ratio_requests_land_in_bucket(kind):
    hits = total = 0
    for bucket in NVIDIA_BUCKETS:
        for i in range(12):
            mask = generate_mask(kind, 64, 64, np.random.default_rng([i, 17]), bucket)
            hits += in_bucket(hole_ratio_of(mask), bucket)
            total += 1
    assert hits / total >= 0.95


def test_ratio_requests_at_256_with_border_margin():
    margin = round(50 * 256 / 512)
    for bucket in NVIDIA_BUCKETS:
        for i in range(4):
            mask = generate_mask("irregular", 256, 256, np.random.default_rng(i), bucket, border_margin=True)
            assert in_bucket(hole_ratio_of(mask), bucket)
            ring = np.ones_like(mask, dtype=bool)
            ring[margin:-margin, margin:-margin] = False
            assert mask[ring].min() == 1.0  # no hole within the margin


@pytest.mark.parametrize("kind", MASK_KINDS)
def test_masks_are_seeded_binary_float(kind):
    first = generate_mask(kind, 64, 96, np.random.default_rng(5))
    again = generate_mask(kind, 64, 96, np.random.default_rng(5))
    assert first.dtype == np.float32 and first.shape == (64, 96)
    assert set(np.unique(first)) <= {0.0, 1.0} and 0 < hole_ratio_of(first) < 1
    assert np.array_equal(first, again)
    if kind != "center":
        others = [generate_mask(kind, 64, 96, np.random.default_rng(s)) for s in (6, 7)]
        assert any(not np.array_equal(first, other) for other in others)


def test_lama_masks_scale_with_resolution_and_respect_max_area():
    """Parameters are stated at 512 and scaled: the ratio distribution barely moves between 128 and 256."""
    for kind in ("thin", "medium", "thick"):
        means = []
        for size in (128, 256):
            ratios = [hole_ratio_of(generate_mask(kind, size, size, np.random.default_rng([s, 1]))) for s in range(60)]
            assert max(ratios) <= 0.5  # LaMa's max_tamper_area
            means.append(np.mean(ratios))
        assert abs(means[0] - means[1]) < 0.05, (kind, means)


def test_center_mask_ratio():
    mask = generate_mask("center", 64, 64, np.random.default_rng(0))
    assert hole_ratio_of(mask) == 0.25 and mask[32, 32] == 0 and mask[0, 0] == 1
    with pytest.raises(ValueError, match="no centred square"):
        generate_mask("center", 8, 8, np.random.default_rng(0), (0.5, 0.51))


@pytest.mark.parametrize(("ratio", "side", "top"), [
    # 64² = 4096 px; the side whose square is closest to ratio · 4096 (counted by hand):
    (0.15, 25, 19),  # 614.4 px asked: 25² = 625 (24² = 576 is 38.4 px further)
    (0.25, 32, 16),  # 1024 px: exact
    (0.35, 38, 13),  # 1433.6 px: 38² = 1444 (37² = 1369)
    (0.45, 43, 10),  # 1843.2 px: 43² = 1849 (42² = 1764)
    (0.55, 47, 8),   # 2252.8 px: 47² = 2209 is 43.8 px short, 48² = 2304 is 51.2 px over
])
def test_center_square_mask_has_the_closest_whole_pixel_area(ratio, side, top):
    mask = center_square_mask(64, 64, ratio)
    assert mask.dtype == np.float32 and set(np.unique(mask)) == {0.0, 1.0}
    assert int((mask == 0).sum()) == side * side and hole_ratio_of(mask) == side * side / 4096
    rows, cols = np.nonzero(mask == 0)  # one square, centred ((64 - side) // 2 before it)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (top, top + side - 1, top, top + side - 1)
    assert abs(side * side / 4096 - ratio) < 0.013


def test_center_square_mask_refuses_what_cannot_be_a_centred_square():
    with pytest.raises(ValueError, match="does not fit"):
        center_square_mask(32, 128, 0.5)  # 2048 px would need a 45-px side in a 32-px-high image
    with pytest.raises(ValueError, match="in \\(0, 1\\)"):
        center_square_mask(64, 64, 1.0)


def test_fixed_eval_masks_are_fixed_versioned_and_bucketed():
    masks = fixed_eval_masks("irregular", PAPER_BUCKETS, 3, 64, seed=0)
    again = fixed_eval_masks("irregular", PAPER_BUCKETS, 3, 64, seed=0)
    assert EVAL_MASKS_VERSION >= 1 and len(masks) == 12
    assert all(np.array_equal(a, b) for a, b in zip(masks, again))
    for i, mask in enumerate(masks):
        assert bucket_index(hole_ratio_of(mask), PAPER_BUCKETS) == i // 3
    other_seed = fixed_eval_masks("irregular", PAPER_BUCKETS, 3, 64, seed=1)
    assert not np.array_equal(masks[0], other_seed[0])
    # a bucket's masks do not depend on which other buckets are asked for
    alone = fixed_eval_masks("irregular", [PAPER_BUCKETS[2]], 3, 64, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(alone, masks[6:9]))
    assert len(fixed_eval_masks("thin", None, 4, [64, 96])) == 4


def _write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_mask_folder_polarity_resize_and_flip(tmp_path):
    pixels = np.zeros((100, 100), np.uint8)
    pixels[:, :30] = 255  # a white (= hole) band on the left, at another size than the crop
    _write(tmp_path / "a.png", pixels)
    folder = MaskFolder(tmp_path)
    mask = folder.load(0, 64, 64)
    assert mask.shape == (64, 64) and mask[:, 0].max() == 0 and mask[:, -1].min() == 1
    assert np.array_equal(folder.load(0, 64, 64, flip=True), mask[:, ::-1])
    assert np.array_equal(MaskFolder(tmp_path, "black").load(0, 64, 64), 1 - mask)


def test_mask_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        MaskFolder(tmp_path / "nope")
    (tmp_path / "notes.txt").write_text("not a mask")
    with pytest.raises(FileNotFoundError, match=r"no mask files found .*\.png"):
        MaskFolder(tmp_path)
    (tmp_path / "broken.png").write_text("this is text, not a PNG")
    folder = MaskFolder(tmp_path)
    with pytest.raises(ValueError, match="broken.png"):
        folder.load(0, 64, 64)


def test_eval_masks_from_folder(tmp_path):
    for i, width in enumerate((10, 20, 30, 40)):
        pixels = np.zeros((64, 64), np.uint8)
        pixels[:, :width] = 255
        _write(tmp_path / f"m{i}.png", pixels)
    masks = fixed_eval_masks(str(tmp_path), [(0.1, 0.2), (0.2, 0.4)], 1, 64)
    assert [round(hole_ratio_of(m), 3) for m in masks] == [0.156, 0.312]
    with pytest.raises(ValueError, match="has only 0 masks"):
        fixed_eval_masks(str(tmp_path), [(0.8, 0.9)], 1, 64)


def test_unknown_mask_kind():
    with pytest.raises(ValueError, match="unknown mask kind 'stripes'"):
        generate_mask("stripes", 64, 64, np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown mask kind"):
        MaskSampler("stripes")


def test_deepfill_masks_hold_their_box_and_strokes():
    """DeepFillv2's training masks: a box of 37.5–50 % of each side (96–128 px at 256) united with brush strokes."""
    ratios = []
    for seed in range(30):
        hole = 1 - generate_mask("deepfill", 256, 256, np.random.default_rng([seed, 3]))
        ratios.append(hole.mean())
        integral = np.pad(hole, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
        full = integral[96:, 96:] - integral[:-96, 96:] - integral[96:, :-96] + integral[:-96, :-96]
        assert full.max() == 96 * 96  # some 96×96 square is all hole: the box
        assert hole.sum() > 96 * 96  # and strokes beyond it
        assert hole.sum() < 256 * 256
    assert 0.2 < np.mean(ratios) < 0.6, np.mean(ratios)
