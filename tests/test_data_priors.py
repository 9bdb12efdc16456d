"""Gray and Canny priors: computed on the [0, 1] image, equal to scikit-image's; the legacy wrap reproduced."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.color import rgb2gray
from skimage.feature import canny

from inpaint.data.preprocess import (
    canny_edges,
    canny_tensor,
    gray_tensor,
    legacy_wrap_image,
    rgb_to_gray,
    structure_priors,
)
from inpaint.data.synthetic import synthetic_image


@pytest.fixture
def image01() -> np.ndarray:
    return synthetic_image(np.random.default_rng(3), 64, 64).astype(np.float32) / 255.0


def test_gray_uses_skimage_weights(image01):
    assert np.abs(rgb_to_gray(image01) - rgb2gray(image01)).max() < 1e-6
    batch = torch.from_numpy(image01).permute(2, 0, 1)[None]
    assert torch.allclose(gray_tensor(batch)[0, 0], torch.from_numpy(rgb2gray(image01)).float(), atol=1e-6)


def test_edge_prior_equals_skimage_canny_on_unit_image(image01):
    gray, edge = structure_priors(image01, "skimage")
    expected = canny(rgb2gray(image01), sigma=2.0)
    assert edge.dtype == np.float32 and set(np.unique(edge)) <= {0.0, 1.0}
    assert np.array_equal(edge.astype(bool), expected)
    assert expected.sum() > 50  # the fixture has edges to find
    assert np.allclose(gray, rgb2gray(image01), atol=1e-6)


@pytest.mark.parametrize("backend", ["opencv", "kornia"])
def test_fast_backends_agree_with_skimage(image01, backend):
    reference = canny(rgb2gray(image01), sigma=2.0)
    edges = canny_edges(rgb_to_gray(image01), backend)
    assert edges.dtype == bool and edges.shape == reference.shape
    iou = (edges & reference).sum() / (edges | reference).sum()
    assert iou > 0.6, f"{backend} edges overlap skimage's by IoU {iou:.2f}"


def test_kornia_is_batched():
    gray = torch.rand(3, 1, 32, 32)
    edges = canny_tensor(gray)
    assert edges.shape == gray.shape and set(edges.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(edges[1:2], canny_tensor(gray[1:2]))


def test_kornia_prior_is_deferred(image01):
    gray, edge = structure_priors(image01, "kornia")
    assert edge is None and gray.shape == image01.shape[:2]


def test_legacy_wrap_saw_tooth_values():
    """The authors' loaders: (v − 0.5)/0.5 · 255 cast to uint8 truncates and wraps: 0→1, 0.4→206, 0.5→0, 1→255."""
    values = np.array([0.0, 0.4, 0.5, 1.0], dtype=np.float32)
    assert legacy_wrap_image(values).tolist() == [1, 206, 0, 255]
    # For every uint8 pixel value it equals what torch's cast does to the official [-1, 1] tensor here.
    unit = torch.arange(256, dtype=torch.float32) / 255
    official = (((unit - 0.5) / 0.5) * 255).to(torch.int64).remainder(256).to(torch.uint8)
    assert np.array_equal(legacy_wrap_image(unit.numpy()), official.numpy())


def test_legacy_edge_wrap_changes_priors(image01):
    gray, edge = structure_priors(image01, "skimage", legacy_edge_wrap=True)
    wrapped = legacy_wrap_image(image01)
    assert np.allclose(gray, rgb2gray(wrapped), atol=1e-6)
    assert np.array_equal(edge.astype(bool), canny(rgb2gray(wrapped), sigma=2.0))
    assert not np.array_equal(edge, structure_priors(image01, "skimage")[1])


def test_unknown_edge_backend():
    with pytest.raises(ValueError, match="unknown edge backend 'sobel'.*skimage, opencv, kornia"):
        canny_edges(np.zeros((8, 8)), "sobel")
