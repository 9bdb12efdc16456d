"""Global (Eq. 7) / local (Eq. 8) normalisation statistics and the SPADE-style modulation."""

from __future__ import annotations

import pytest
import torch

from inpaint.nn.normalization import GlobalNorm, InstanceNorm, LocalNorm, SpatialModulation


def test_global_instance_norm_statistics() -> None:
    x = torch.randn(3, 5, 7, 9) * 4 + 2
    y = GlobalNorm(5, "instance")(x)
    mean = y.mean(dim=(2, 3))
    var = y.var(dim=(2, 3), correction=0)
    assert torch.allclose(mean, torch.zeros_like(mean), atol=1e-5)
    assert torch.allclose(var, torch.ones_like(var), atol=1e-3)
    assert torch.allclose(y, torch.nn.functional.instance_norm(x, eps=1e-5), atol=1e-5)


def test_global_batch_norm_statistics_and_eval() -> None:
    x = torch.randn(4, 3, 6, 6) * 3 - 1
    norm = GlobalNorm(3, "batch")
    y = norm(x)
    mean = y.mean(dim=(0, 2, 3))
    assert torch.allclose(mean, torch.zeros_like(mean), atol=1e-5)
    assert torch.allclose(y.var(dim=(0, 2, 3), correction=0), torch.ones(3), atol=1e-3)
    # per-sample statistics are NOT normalised by the batch variant
    assert y.mean(dim=(2, 3)).abs().max() > 1e-3
    norm.eval()
    assert norm.norm.running_mean.abs().sum() > 0  # running stats were updated


@pytest.mark.parametrize("unbiased", [False, True])
def test_local_norm_statistics(unbiased: bool) -> None:
    x = torch.randn(2, 6, 5, 5) * 2 + 3
    y = LocalNorm(unbiased=unbiased)(x)
    mean = y.mean(dim=1)
    var = y.var(dim=1, correction=1 if unbiased else 0)
    assert torch.allclose(mean, torch.zeros_like(mean), atol=1e-5)
    assert torch.allclose(var, torch.ones_like(var), atol=1e-3)


def test_local_norm_matches_layer_norm_over_channels() -> None:
    x = torch.randn(2, 8, 4, 4)
    ref = torch.nn.functional.layer_norm(x.permute(0, 2, 3, 1), (8,), eps=1e-5).permute(0, 3, 1, 2)
    assert torch.allclose(LocalNorm()(x), ref, atol=1e-5)


def test_instance_norm_defined_on_1x1() -> None:
    y = InstanceNorm(4, affine=True)(torch.randn(1, 4, 1, 1, requires_grad=True))
    assert torch.equal(y, torch.zeros_like(y))


def test_modulation_formula() -> None:
    torch.manual_seed(0)
    mod = SpatialModulation(LocalNorm(), channels=4, source_channels=3, hidden=5)
    x, s = torch.randn(2, 4, 6, 6), torch.randn(2, 3, 3, 3)
    s_up = torch.nn.functional.interpolate(s, size=(6, 6), mode="nearest")
    gamma, beta = mod.gamma_beta(mod.shared(s_up)).chunk(2, dim=1)
    expected = (1 + gamma) * LocalNorm()(x) + beta
    assert torch.allclose(mod(x, s), expected, atol=1e-6)


def test_bad_global_kind() -> None:
    with pytest.raises(ValueError, match="instance"):
        GlobalNorm(3, "layer")  # type: ignore[arg-type]
