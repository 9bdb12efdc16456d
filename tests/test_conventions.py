import numpy as np
import pytest
import torch

from inpaint.conventions import composite, from_uint8, hole_ratio, mask_from_array, to_uint8


def test_composite_never_alters_known_pixels():
    gt = torch.rand(2, 3, 16, 16) * 2 - 1
    out = torch.full_like(gt, float("nan"))  # even NaN in the output must not reach a known pixel
    mask = (torch.rand(2, 1, 16, 16) > 0.5).float()
    comp = composite(gt, out, mask)
    known = mask.expand_as(gt).bool()
    assert torch.equal(comp[known], gt[known])
    assert torch.isnan(comp[~known]).all()


def test_to_uint8_rounds_and_clips():
    x = torch.tensor([-2.0, -1.0, 0.0, 1.0, 3.0, 2 * (100.4 / 255) - 1, 2 * (100.6 / 255) - 1])
    assert to_uint8(x).tolist() == [0, 0, 128, 255, 255, 100, 101]


def test_uint8_round_trip_is_exact():
    u = torch.arange(256, dtype=torch.uint8)
    assert torch.equal(to_uint8(from_uint8(u)), u)


def test_mask_file_white_is_hole_by_default():
    pixels = np.array([[0, 255], [128, 127]], dtype=np.uint8)
    known = mask_from_array(pixels)
    assert known.tolist() == [[1.0, 0.0], [0.0, 1.0]]  # > 127 is a hole, 127 is not
    assert mask_from_array(pixels, hole_value="black").tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_mask_file_rgb_by_luminance_and_8bit_only():
    rgb = np.zeros((2, 2, 3), dtype=np.uint8)
    rgb[0, 0] = (255, 255, 255)
    rgb[0, 1] = (255, 0, 0)  # pure red: luminance 76 → dark, not a hole (the same answer in every command)
    rgb[1, 0] = (128, 128, 128)  # luminance 128 → bright
    rgb[1, 1] = (0, 255, 0)  # pure green: luminance 150 → bright
    assert mask_from_array(rgb).tolist() == [[0.0, 1.0], [0.0, 0.0]]
    gray = np.arange(256, dtype=np.uint8).reshape(16, 16)
    assert np.array_equal(mask_from_array(np.repeat(gray[..., None], 3, axis=2)), mask_from_array(gray))
    with pytest.raises(TypeError, match="8-bit"):  # 16-bit files are converted by the image reader first
        mask_from_array(np.array([[65535, 0]], dtype=np.uint16))
    with pytest.raises(ValueError, match="hole_value"):
        mask_from_array(rgb, hole_value="grey")


def test_hole_ratio():
    mask = torch.ones(2, 1, 4, 4)
    mask[0, :, :2] = 0
    assert hole_ratio(mask).tolist() == [0.5, 0.0]


def test_known_mask_has_one_threshold_for_every_user():
    from inpaint.conventions import KNOWN_THRESHOLD, is_known, known_mask

    mask = torch.tensor([0.0, 0.25, 0.5, 0.5001, 1.0]).view(1, 1, 1, 5)
    assert KNOWN_THRESHOLD == 0.5
    assert known_mask(mask).flatten().tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]  # 0.5 itself is a hole
    assert known_mask(mask, torch.float64).dtype == torch.float64
    assert known_mask(mask.bool()).dtype == torch.float32
    gt, out = torch.ones(1, 3, 1, 5), -torch.ones(1, 3, 1, 5)
    assert torch.equal(composite(gt, out, mask)[0, 0, 0] > 0, is_known(mask).flatten())  # composite agrees
    assert hole_ratio(mask).tolist() == pytest.approx([0.6])
