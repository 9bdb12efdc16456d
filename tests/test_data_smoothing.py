"""L0 smoothing against OpenCV-contrib's l0Smooth (golden fixture) and by its properties; RTV by its properties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from inpaint.data.smoothing import L0_BOUNDARIES, l0_smooth, rtv_smooth, single_thread, smooth_image


@pytest.fixture(autouse=True)
def _one_thread():
    """Small FFTs do not gain from threads; on 2 shared cores two threads made them many times slower."""
    with single_thread():
        yield


GOLDEN = Path(__file__).parent / "fixtures" / "l0" / "golden.npz"
FLOAT_TOLERANCE = 5e-4  # max abs error on [0, 1] images, float64 compute (measured: 1.8e-4)
FLOAT32_TOLERANCE = 1e-2  # float32: OpenCV's borders make the mean drift ∝ beta, amplifying rounding (3.8e-3–6.9e-3)


def _case(name: str) -> tuple[torch.Tensor, np.ndarray, bool]:
    golden = np.load(GOLDEN)
    source, expected = golden[f"{name}_input"], golden[f"{name}_output"]
    is_uint8 = source.dtype == np.uint8
    image = source.astype(np.float64) / 255.0 if is_uint8 else source.astype(np.float64)
    if image.ndim == 2:
        image, expected = image[..., None], expected[..., None]
    return torch.from_numpy(image).permute(2, 0, 1), expected, is_uint8


@pytest.mark.parametrize("name", ["rgb32", "gray48x40"])
def test_l0_matches_opencv_golden_float(name):
    image, expected, _ = _case(name)
    golden = np.load(GOLDEN)
    assert float(golden["lambda"]) == 0.02 and float(golden["kappa"]) == 2.0
    out = l0_smooth(image, lam=0.02, kappa=2.0, boundary="opencv").permute(1, 2, 0).numpy()
    assert np.abs(out - expected).max() < FLOAT_TOLERANCE
    out32 = l0_smooth(image.float(), boundary="opencv").permute(1, 2, 0).numpy()
    assert np.abs(out32 - expected).max() < FLOAT32_TOLERANCE


def test_l0_matches_opencv_golden_uint8():
    """OpenCV scales uint8 input by 1/255 and rounds the output back: we agree to one grey level."""
    image, expected, is_uint8 = _case("rgb40x48_uint8")
    assert is_uint8
    out = l0_smooth(image, boundary="opencv").permute(1, 2, 0).numpy()
    out_u8 = np.clip(np.round(out * 255), 0, 255)
    diff = np.abs(out_u8 - expected.astype(np.float64))
    assert diff.max() <= 1 and (diff == 0).mean() > 0.9


def test_other_boundaries_are_not_opencv():
    """The golden test can fail: the circular variant is measurably different from OpenCV."""
    image, expected, _ = _case("rgb32")
    out = l0_smooth(image, boundary="circular").permute(1, 2, 0).numpy()
    assert np.abs(out - expected).max() > 0.05


@pytest.mark.parametrize("boundary", L0_BOUNDARIES)
def test_l0_constant_image_unchanged(boundary):
    constant = torch.full((2, 3, 16, 20), 0.37, dtype=torch.float64)
    assert torch.allclose(l0_smooth(constant, boundary=boundary), constant, atol=1e-9)


def _nonzero_gradients(image: torch.Tensor) -> int:
    dx = (image[..., :, 1:] - image[..., :, :-1]).abs().sum(dim=-3) > 1e-3
    dy = (image[..., 1:, :] - image[..., :-1, :]).abs().sum(dim=-3) > 1e-3
    return int(dx.sum() + dy.sum())


def test_l0_gradient_sparsity_grows_with_lambda():
    rng = np.random.default_rng(0)
    image = torch.from_numpy(np.clip(rng.normal(0.5, 0.1, (3, 32, 32)), 0, 1))
    counts = [_nonzero_gradients(l0_smooth(image, lam=lam, boundary="symmetric")) for lam in (0.002, 0.02, 0.2)]
    assert _nonzero_gradients(image) > counts[0] > counts[1] > counts[2]


def test_l0_symmetric_keeps_mean_opencv_drifts():
    """Why the pipeline defaults to the mirrored boundary: OpenCV's borders shift the image mean."""
    image, _, _ = _case("rgb32")
    mean = image.mean().item()
    assert abs(l0_smooth(image, boundary="symmetric").mean().item() - mean) < 0.01
    assert abs(l0_smooth(image, boundary="opencv").mean().item() - mean) > 0.05


def test_dct_used_by_the_symmetric_solver_matches_scipy():
    import scipy.fft

    from inpaint.data.smoothing import _dct_1d, _idct_1d

    for n in (7, 8):
        x = torch.rand(2, 3, n, dtype=torch.float64)
        reference = torch.from_numpy(scipy.fft.dct(x.numpy(), type=2, axis=-1)) / 2  # scipy's DCT-II is 2× ours
        assert torch.allclose(_dct_1d(x, -1), reference, atol=1e-12)
        assert torch.allclose(_idct_1d(_dct_1d(x, -2), -2), x, atol=1e-12)


def test_l0_batched_equals_per_image_and_runs_at_16x3x256():
    rng = np.random.default_rng(1)
    batch = torch.from_numpy(rng.uniform(0, 1, (3, 3, 24, 28)))
    together = l0_smooth(batch, boundary="symmetric")
    for i in range(3):
        assert torch.allclose(together[i], l0_smooth(batch[i], boundary="symmetric"), atol=1e-10)
    big = torch.rand(16, 3, 256, 256)
    out = l0_smooth(big, kappa=8.0)  # the full batch shape, with fewer beta steps to keep the test short
    assert out.shape == big.shape and out.dtype == torch.float32 and torch.isfinite(out).all()


def test_l0_rejects_bad_input():
    with pytest.raises(ValueError, match="shape"):
        l0_smooth(torch.rand(8, 8))
    with pytest.raises(ValueError, match="boundary"):
        l0_smooth(torch.rand(3, 8, 8), boundary="reflect")
    with pytest.raises(ValueError, match="lam"):
        l0_smooth(torch.rand(3, 8, 8), lam=-1.0)


def test_rtv_constant_unchanged_and_texture_removed_edges_kept():
    constant = np.full((20, 24, 3), 0.6)
    assert np.allclose(rtv_smooth(constant), constant, atol=1e-9)
    rng = np.random.default_rng(0)
    step = np.where(np.arange(40)[None, :, None] < 20, 0.2, 0.8) * np.ones((32, 40, 3))
    textured = np.clip(step + 0.05 * np.sign(rng.normal(size=step.shape)), 0, 1)
    smooth = rtv_smooth(textured)
    inside = smooth[:, 3:17].std() + smooth[:, 23:37].std()
    assert inside < 0.25 * (textured[:, 3:17].std() + textured[:, 23:37].std())  # texture gone
    assert smooth[:, 23:37].mean() - smooth[:, 3:17].mean() > 0.5  # the step survives


def test_smooth_image_dispatch():
    image = np.random.default_rng(0).uniform(0, 1, (16, 16, 3)).astype(np.float32)
    assert np.array_equal(smooth_image(image, "none"), image)
    for method in ("l0", "rtv"):
        out = smooth_image(image, method)
        assert out.shape == image.shape and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    with pytest.raises(ValueError, match="unknown smoothing 'bilateral'"):
        smooth_image(image, "bilateral")
