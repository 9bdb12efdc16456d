"""Per-image PSNR / SSIM / L1 / relative L1 against scikit-image and hand-computed values.

Tolerance: 1e-9 absolute — both sides compute in float64 on the same uint8 pixels; the measured gap is ~1e-15.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from inpaint.metrics.image_quality import (
    PerImageL1,
    PerImagePSNR,
    PerImageRelativeL1,
    PerImageSSIM,
    l1_per_image,
    mse_per_image,
    psnr_per_image,
    relative_l1_per_image,
    ssim_per_image,
)

ATOL = 1e-9
SKIMAGE_SSIM = {
    "gaussian11": dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False),
    "uniform7": dict(),  # scikit-image's defaults: 7×7 uniform, sample covariance
}


def _pair(rng: np.random.Generator, batch: int, noise: list[float], h: int = 24, w: int = 31):
    target = rng.integers(0, 256, size=(batch, 3, h, w), dtype=np.uint8)
    preds = np.stack([np.clip(t + rng.normal(0, s, t.shape), 0, 255).round().astype(np.uint8)
                      for t, s in zip(target, noise)])  # fmt: skip
    return torch.from_numpy(preds), torch.from_numpy(target)


def _hwc(t: torch.Tensor) -> np.ndarray:
    return t.permute(1, 2, 0).numpy()


@pytest.mark.parametrize("window", ["gaussian11", "uniform7"])
def test_ssim_equals_skimage_per_image(rng, window):
    preds, target = _pair(rng, 3, [3.0, 20.0, 60.0])
    ours = ssim_per_image(preds, target, window)
    reference = [structural_similarity(_hwc(p), _hwc(t), data_range=255, channel_axis=-1, **SKIMAGE_SSIM[window])
                 for p, t in zip(preds, target)]  # fmt: skip
    assert ours.dtype == torch.float64
    np.testing.assert_allclose(ours.numpy(), reference, rtol=0, atol=ATOL)


def test_psnr_equals_skimage_per_image(rng):
    preds, target = _pair(rng, 3, [3.0, 20.0, 60.0])
    reference = [peak_signal_noise_ratio(_hwc(t), _hwc(p), data_range=255) for p, t in zip(preds, target)]
    np.testing.assert_allclose(psnr_per_image(preds, target).numpy(), reference, rtol=0, atol=ATOL)


def test_set_scores_average_per_image_not_pooled_mse(rng):
    """Two images of very different quality: the per-image mean differs from the pooled-MSE PSNR by several dB."""
    preds, target = _pair(rng, 2, [1.0, 40.0])
    psnr = PerImagePSNR()
    ssim = PerImageSSIM()
    for i in range(2):  # two updates, as two batches would arrive
        psnr.update(preds[i : i + 1], target[i : i + 1])
        ssim.update(preds[i : i + 1], target[i : i + 1])
    per_image = [peak_signal_noise_ratio(_hwc(t), _hwc(p), data_range=255) for p, t in zip(preds, target)]
    pooled_mse = np.mean((preds.numpy().astype(np.float64) - target.numpy()) ** 2)
    pooled = 10 * math.log10(255**2 / pooled_mse)
    assert float(psnr.compute()) == pytest.approx(np.mean(per_image), abs=ATOL)
    assert abs(float(psnr.compute()) - pooled) > 3.0  # the trap this protocol avoids
    ssim_ref = [structural_similarity(_hwc(p), _hwc(t), data_range=255, channel_axis=-1, **SKIMAGE_SSIM["gaussian11"])
                for p, t in zip(preds, target)]  # fmt: skip
    assert float(ssim.compute()) == pytest.approx(np.mean(ssim_ref), abs=ATOL)


def test_l1_and_relative_l1_hand_computed():
    target = torch.full((2, 3, 2, 2), 100, dtype=torch.uint8)
    preds = target.clone()
    preds[0] += 10  # every pixel off by 10 grey levels
    preds[1, 0, 0, 0] = 200  # one value off by 100 out of 12
    np.testing.assert_allclose(l1_per_image(preds, target).numpy(), [10 / 255, 100 / 12 / 255], atol=1e-15)
    np.testing.assert_allclose(relative_l1_per_image(preds, target).numpy(), [10.0, 100 * 100 / 1200], atol=1e-12)
    l1, rel = PerImageL1(), PerImageRelativeL1()
    l1.update(preds, target)
    rel.update(preds, target)
    assert float(l1.compute()) == pytest.approx((10 / 255 + 100 / 12 / 255) / 2, abs=1e-15)
    assert float(rel.compute()) == pytest.approx((10.0 + 100 / 12) / 2, abs=1e-12)


def test_mse_hand_computed_and_consistent_with_psnr(rng):
    target = torch.full((2, 3, 2, 2), 100, dtype=torch.uint8)
    preds = target.clone()
    preds[0] += 51  # every value off by 51 = 0.2 of the range
    preds[1, 0, 0, 0] = 0  # one value off by 100 out of 12
    np.testing.assert_allclose(mse_per_image(preds, target).numpy(), [0.04, 100**2 / 12 / 255**2], rtol=1e-15)
    a = torch.from_numpy(rng.integers(0, 256, (3, 3, 16, 16), dtype=np.uint8))
    b = torch.from_numpy(rng.integers(0, 256, (3, 3, 16, 16), dtype=np.uint8))
    np.testing.assert_allclose(-10 * torch.log10(mse_per_image(a, b)).numpy(), psnr_per_image(a, b).numpy(),
                               rtol=1e-12)


def test_identical_images():
    image = torch.randint(0, 256, (1, 3, 16, 16), dtype=torch.uint8)
    assert float(ssim_per_image(image, image)) == pytest.approx(1.0, abs=1e-12)
    assert math.isinf(float(psnr_per_image(image, image)))  # as skimage: no cap is invented
    assert float(l1_per_image(image, image)) == 0.0
    assert float(mse_per_image(image, image)) == 0.0


def test_refuses_float_and_mismatched_inputs():
    image = torch.randint(0, 256, (1, 3, 16, 16), dtype=torch.uint8)
    with pytest.raises(TypeError, match="uint8"):
        psnr_per_image(image.float() / 127.5 - 1, image)
    with pytest.raises(ValueError, match="shapes differ"):
        ssim_per_image(image, image[..., :15])
    with pytest.raises(ValueError, match="at least 11"):
        ssim_per_image(image[..., :8, :8], image[..., :8, :8])
    with pytest.raises(ValueError, match="window"):
        PerImageSSIM(window="gaussian7")
