"""Fast Fourier Convolution blocks (LaMa): numpy FFT reference, exact sinusoid fixtures, global receptive field."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inpaint.nn.ffc import FFC, FFCResidualBlock, FourierUnit, SpectralTransform, split_channels


def _identity_fourier_unit(channels: int) -> FourierUnit:
    """A Fourier unit whose 1×1 conv is the identity and whose BN (eval, fresh stats) is the identity."""
    unit = FourierUnit(channels).eval()
    with torch.no_grad():
        unit.conv.weight.copy_(torch.eye(2 * channels)[:, :, None, None])
    return unit


def test_split_channels_matches_lama() -> None:
    assert split_channels(512, 0.75) == (128, 384)
    assert split_channels(64, 0.0) == (64, 0)
    with pytest.raises(ValueError, match="global_ratio"):
        split_channels(8, 1.5)


@pytest.mark.parametrize("size", [(8, 8), (12, 10), (9, 7)])
def test_fourier_unit_preserves_shape(size: tuple[int, int]) -> None:
    x = torch.randn(2, 3, *size)
    assert FourierUnit(3)(x).shape == x.shape
    assert SpectralTransform(6, 8)(torch.randn(2, 6, *size)).shape == (2, 8, *size)


def test_fourier_unit_constant_and_sinusoids_by_hand() -> None:
    """Identity weights: the unit is irfft2(ReLU(rfft2(x))) on the (Re, Im) channels.

    A positive constant (only a positive DC term) and a cosine (positive real coefficient) pass unchanged; a
    sine has a negative imaginary coefficient at its positive frequency, which the ReLU removes → output 0.
    """
    unit = _identity_fourier_unit(1)
    h, w = 8, 16
    xs = torch.arange(w, dtype=torch.float32)
    constant = torch.full((1, 1, h, w), 0.7)
    cosine = torch.cos(2 * torch.pi * 3 * xs / w).expand(1, 1, h, w)
    sine = torch.sin(2 * torch.pi * 3 * xs / w).expand(1, 1, h, w)
    with torch.no_grad():
        torch.testing.assert_close(unit(constant), constant, atol=1e-5, rtol=0)
        torch.testing.assert_close(unit(cosine), cosine, atol=1e-5, rtol=0)
        torch.testing.assert_close(unit(sine), torch.zeros_like(sine), atol=1e-5, rtol=0)


def test_fourier_unit_matches_numpy_fft() -> None:
    """Random 1×1 spectral weights vs numpy.fft with LaMa's interleaved (Re₀, Im₀, Re₁, Im₁, …) layout."""
    channels, h, w = 2, 6, 10
    unit = FourierUnit(channels).eval()
    x = torch.randn(1, channels, h, w)
    with torch.no_grad():
        got = unit(x).numpy()[0]
    weight = unit.conv.weight.detach().numpy()[:, :, 0, 0]
    spectrum = np.fft.rfft2(x.numpy()[0], norm="ortho")  # C × H × (W/2+1)
    stacked = np.stack([spectrum.real, spectrum.imag], axis=1).reshape(2 * channels, h, -1)
    scale = 1.0 / np.sqrt(1.0 + unit.norm.eps)  # fresh BN in eval mode: x / sqrt(1 + eps)
    mixed = np.maximum(np.einsum("oi,ihw->ohw", weight, stacked) * scale, 0.0).reshape(channels, 2, h, -1)
    expected = np.fft.irfft2(mixed[:, 0] + 1j * mixed[:, 1], s=(h, w), norm="ortho")
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_spectral_path_has_a_global_receptive_field() -> None:
    """Changing one corner pixel changes the global output everywhere; the 3×3 local path stays local."""
    layer = FFC(16, 16, 3, ratio_in=0.5, ratio_out=0.5, padding=1).eval()  # before the final BN + ReLU
    x_local, x_global = torch.randn(1, 8, 16, 16), torch.randn(1, 8, 16, 16)
    poked_global = x_global.clone()
    poked_global[..., 0, 0] += 5.0
    poked_local = x_local.clone()
    poked_local[..., 0, 0] += 5.0
    with torch.no_grad():
        base_l, base_g = layer((x_local, x_global))
        _, moved_g = layer((x_local, poked_global))
        moved_l, _ = layer((poked_local, x_global))
    assert ((moved_g - base_g).abs().amax(dim=1) > 1e-6).all()  # every pixel of the global part moved
    assert (moved_l - base_l)[..., 3:, 3:].abs().max() == 0  # local→local is a 3×3 conv


def test_ffc_paths_and_lama_parameter_count() -> None:
    layer = FFC(512, 512, 3, ratio_in=0.75, ratio_out=0.75, padding=1)
    assert sum(p.numel() for p in layer.parameters()) == 1_329_280 - 1_024  # LaMa's FFC layer minus its 2 BNs
    head = FFC(4, 64, 7, ratio_in=0.0, ratio_out=0.0)
    assert head.local_to_global is None and head.global_to_local is None and head.global_to_global is None
    with pytest.raises(ValueError, match="strided FFC"):
        FFC(8, 8, 3, ratio_in=0.5, ratio_out=0.5, stride=2)


def test_residual_block_is_identity_plus_residual() -> None:
    block = FFCResidualBlock(16, global_ratio=0.75).eval()
    x = (torch.randn(2, 4, 8, 8), torch.randn(2, 12, 8, 8))
    with torch.no_grad():
        for parameter in block.second.parameters():
            parameter.zero_()  # BN weight 0 → the residual branch outputs 0
        y_local, y_global = block(x)
    torch.testing.assert_close(y_local, x[0])
    torch.testing.assert_close(y_global, x[1])
