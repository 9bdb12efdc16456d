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
    x = torch.randn(1, 4, 1, 1, requires_grad=True)
    y = InstanceNorm(4, affine=True)(x)
    assert torch.equal(y, torch.zeros_like(y))
    y.sum().backward()
    assert torch.equal(x.grad, torch.zeros_like(x))


def _composed_instance_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    """Eq. 7 written out, the reference path: (x − mean) / sqrt(var + eps) over H×W, biased variance, then affine."""
    var, mean = torch.var_mean(x, dim=(2, 3), keepdim=True, correction=0)
    return (x - mean) * torch.rsqrt(var + eps) * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)


@pytest.mark.parametrize("shape", [(2, 5, 7, 9), (1, 3, 1, 6), (3, 4, 2, 2)])
def test_instance_norm_kernel_has_the_composed_formulas_values_and_gradients(shape: tuple[int, ...]) -> None:
    """The fused group-norm kernel (one group per channel) against Eq. 7 composed from elementary ops, in float64:
    outputs and the gradients of the input, weight and bias agree to float64 rounding."""
    gen = torch.Generator().manual_seed(3)
    x = (torch.randn(shape, generator=gen, dtype=torch.float64) * 3 + 1).requires_grad_()
    norm = InstanceNorm(shape[1], affine=True).double()
    with torch.no_grad():
        norm.weight.copy_(torch.randn(shape[1], generator=gen, dtype=torch.float64))
        norm.bias.copy_(torch.randn(shape[1], generator=gen, dtype=torch.float64))
    upstream = torch.randn(shape, generator=gen, dtype=torch.float64)
    y = norm(x)
    grads = torch.autograd.grad(y, (x, norm.weight, norm.bias), upstream)
    ref = _composed_instance_norm(x, norm.weight, norm.bias, norm.eps)
    ref_grads = torch.autograd.grad(ref, (x, norm.weight, norm.bias), upstream)
    assert torch.allclose(y, ref, rtol=0, atol=1e-12)
    for got, want in zip(grads, ref_grads):
        assert torch.allclose(got, want, rtol=0, atol=1e-11)


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
