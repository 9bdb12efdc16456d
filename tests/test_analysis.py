"""The feature-analysis operators (inpaint.analysis): exact values on tiny hand-made tensors."""

from __future__ import annotations

import math

import pytest
import torch

from inpaint.analysis.complementarity import complementarity_curves, stage_kl_curve
from inpaint.analysis.divergence import channel_log_distribution, kl_divergence
from inpaint.analysis.entropy import channel_entropy
from inpaint.analysis.heatmap import channel_mean_map, stretch
from inpaint.analysis.spectrum import gaussian_blur, high_pass, log_spectrogram


def test_channel_mean_map_and_stretch():
    f = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[3.0, 2.0], [1.0, 8.0]]]])  # 1×2×2×2
    assert channel_mean_map(f).tolist() == [[[2.0, 2.0], [2.0, 6.0]]]
    assert stretch(channel_mean_map(f)).tolist() == [[[0.0, 0.0], [0.0, 1.0]]]
    assert stretch(torch.full((1, 3, 3), 5.0)).tolist() == [[[0.0] * 3] * 3]  # constant: zeros, no 0/0


def test_kl_of_identical_maps_is_zero_and_matches_the_formula():
    a = torch.randn(2, 6, 4, 4, generator=torch.Generator().manual_seed(0))
    assert kl_divergence(a, a).tolist() == [0.0, 0.0]
    # same channel means at another size (each channel constant): still identical distributions
    means = a.mean(dim=(2, 3), keepdim=True)
    assert torch.allclose(kl_divergence(means.expand(2, 6, 8, 8), a), torch.zeros(2, dtype=torch.float64),
                          atol=1e-15)
    # two channels with GAP 0 and log 3 → p = (1/4, 3/4); uniform reference → KL = Σ p log(2p)
    x = torch.zeros(1, 2, 2, 2, dtype=torch.float64)
    x[:, 1] = math.log(3.0)
    p = torch.tensor([0.25, 0.75], dtype=torch.float64)
    assert channel_log_distribution(x).exp()[0].tolist() == pytest.approx(p.tolist(), abs=1e-15)
    expected = float((p * torch.log(2 * p)).sum())
    assert float(kl_divergence(x, torch.zeros(1, 2, 3, 3))) == pytest.approx(expected, abs=1e-15)
    assert float(kl_divergence(torch.zeros(1, 2, 3, 3), x)) > 0  # not symmetric, never negative
    with pytest.raises(ValueError, match="channel"):
        kl_divergence(torch.zeros(1, 2, 2, 2), torch.zeros(1, 3, 2, 2))


def test_entropy_one_hot_is_zero_uniform_is_log_c():
    c = 5
    one_hot = torch.zeros(1, c, 1, 1)
    one_hot[0, 2] = 7.0
    assert float(channel_entropy(one_hot, "l1")) == 0.0
    uniform = torch.full((1, c, 2, 3), -0.5)
    log_c = torch.full((1, 2, 3), math.log(c), dtype=torch.float64)
    assert torch.allclose(channel_entropy(uniform, "l1"), log_c, rtol=0, atol=1e-15)
    assert torch.allclose(channel_entropy(uniform, "softmax"), log_c, rtol=0, atol=1e-15)
    assert float(channel_entropy(torch.zeros(1, c, 1, 1), "l1")) == 0.0  # no response: no distribution
    # softmax of (0, log 3): p = (1/4, 3/4)
    two = torch.tensor([0.0, math.log(3.0)], dtype=torch.float64).view(1, 2, 1, 1)
    assert float(channel_entropy(two)) == pytest.approx(-(0.25 * math.log(0.25) + 0.75 * math.log(0.75)), abs=1e-15)
    with pytest.raises(ValueError, match="normalise"):
        channel_entropy(two, "max")  # type: ignore[arg-type]


def test_spectrogram_of_a_constant_map_is_one_centre_peak():
    s = log_spectrogram(torch.full((1, 8, 6), 2.0))
    assert s.shape == (1, 8, 6) and s[0, 4, 3] == pytest.approx(math.log1p(2.0 * 48), abs=1e-12)
    others = s.clone()
    others[0, 4, 3] = 0.0
    assert float(others.abs().max()) < 1e-12
    # a pure horizontal cosine of 2 cycles: two peaks at ±2 columns from the centre, each of height HW/2
    cols = torch.arange(8, dtype=torch.float64)
    wave = torch.cos(2 * math.pi * 2 * cols / 8).expand(4, 8).unsqueeze(0)
    spec = log_spectrogram(wave)[0]
    peaks = {(int(i), int(j)) for i, j in (spec > 1.0).nonzero()}
    assert peaks == {(2, 2), (2, 6)} and float(spec[2, 2]) == pytest.approx(math.log1p(16.0), abs=1e-12)


def test_high_pass_removes_constants_and_keeps_fine_detail():
    const = torch.full((2, 9, 9), 3.0)
    assert float(high_pass(const).abs().max()) < 1e-14
    assert float(high_pass(const, "fft").abs().max()) < 1e-14
    # a checkerboard is pure Nyquist: the FFT high-pass keeps it exactly, the blur removes most of it
    board = ((torch.arange(8).view(-1, 1) + torch.arange(8).view(1, -1)) % 2).double().unsqueeze(0) * 2 - 1
    assert torch.allclose(high_pass(board, "fft", cutoff=0.5), board, atol=1e-12)
    inner = (slice(None), slice(3, -3), slice(3, -3))  # beyond the blur's radius from the (replicated) border
    assert float(gaussian_blur(board)[inner].abs().max()) < 0.1 and float(high_pass(board)[inner].abs().min()) > 0.9
    assert torch.allclose(gaussian_blur(torch.ones(1, 2, 2)), torch.ones(1, 2, 2, dtype=torch.float64), atol=1e-15)
    with pytest.raises(ValueError, match="cutoff"):
        high_pass(board, "fft", cutoff=1.5)


def test_complementarity_curves_are_stage_to_stage_kl():
    g = torch.Generator().manual_seed(1)
    stages = [torch.randn(2, 4, 16 // 2**k, 16 // 2**k, generator=g) for k in range(4)]
    curve = stage_kl_curve(stages)
    assert len(curve) == 3
    assert curve[1] == pytest.approx(float(kl_divergence(stages[2], stages[1]).mean()), abs=0)
    steady = [stages[0]] * 4
    assert complementarity_curves(stages, steady) == {"global": curve, "local": [0.0, 0.0, 0.0]}
    with pytest.raises(ValueError, match="two stages"):
        stage_kl_curve(stages[:1])
