"""Table VII's structure-image operators: exact values on hand-made fixtures and skimage as reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.feature import canny

from inpaint.report.structure_images import (
    global_structure_image,
    local_residual_structure_image,
    structure_image,
)


def test_local_residual_on_a_hand_computed_ramp() -> None:
    row = torch.tensor([0.0, 0.2, 0.4, 0.6])
    image = row.expand(1, 3, 2, 4).clone()
    # down: 2×2 means 0.1, 0.5; bilinear up (half-pixel centres, clamped ends): 0.1, 0.2, 0.4, 0.5
    expected = torch.tensor([-0.1, 0.0, 0.0, 0.1]).expand(1, 3, 2, 4)
    assert torch.allclose(local_residual_structure_image(image), expected, atol=1e-6)


def test_local_residual_of_a_constant_image_is_zero() -> None:
    image = torch.full((2, 3, 8, 8), 0.3)
    assert torch.equal(local_residual_structure_image(image, factor=4), torch.zeros_like(image))


def test_global_structure_matches_skimage_canny() -> None:
    image = torch.full((1, 3, 32, 32), -1.0)
    image[..., 8:24, 8:24] = 1.0  # a white square on black
    edges = global_structure_image(image)
    gray = np.zeros((32, 32))
    gray[8:24, 8:24] = 1.0  # BT.709 weights sum to 1: the gray of (1, 1, 1) is 1
    assert edges.shape == (1, 1, 32, 32)
    assert np.array_equal(edges[0, 0].numpy() > 0.5, canny(gray, sigma=2.0))
    assert edges.sum() > 0 and torch.equal(structure_image(image, "global"), edges)


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="B×3×H×W"):
        local_residual_structure_image(torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="not divisible by factor 3"):
        local_residual_structure_image(torch.zeros(1, 3, 8, 8), factor=3)
    with pytest.raises(ValueError, match="factor must be an integer"):
        local_residual_structure_image(torch.zeros(1, 3, 8, 8), factor=1)
    with pytest.raises(ValueError, match="kind must be one of"):
        structure_image(torch.zeros(1, 3, 8, 8), "texture")  # type: ignore[arg-type]
