"""LPIPS: the code path with random-weight backbones (no ImageNet file exists here) and the missing-weights message."""

from __future__ import annotations

import pytest
import torch

from inpaint.metrics.lpips import BACKBONE_WEIGHTS, build_lpips, lpips_per_image, resolve_lpips


@pytest.mark.parametrize("net", ["alex"])  # vgg runs the same code; its 138M-parameter init costs seconds here
def test_random_backbone_per_image_values(net):
    model = build_lpips(net, random_backbone=True)
    g = torch.Generator().manual_seed(0)
    a = torch.rand(3, 3, 32, 32, generator=g) * 2 - 1
    b = (a + 0.4 * torch.randn(a.shape, generator=g)).clamp(-1, 1)
    values = lpips_per_image(model, a, b)
    assert values.shape == (3,) and values.dtype == torch.float64
    direct = torch.stack([model(a[i : i + 1], b[i : i + 1]).flatten()[0] for i in range(3)]).double()
    torch.testing.assert_close(values, direct, rtol=1e-5, atol=1e-7)  # batching does not change a pair's value
    assert torch.all(values > 0)
    assert torch.allclose(lpips_per_image(model, a, a), torch.zeros(3, dtype=torch.float64), atol=1e-7)


def test_lpips_input_checks():
    model = build_lpips("alex", random_backbone=True)
    x = torch.zeros(1, 3, 32, 32)
    with pytest.raises(TypeError, match="float"):
        lpips_per_image(model, x.to(torch.uint8), x.to(torch.uint8))
    with pytest.raises(ValueError, match="at least 32"):
        lpips_per_image(model, x[..., :16, :16], x[..., :16, :16])


@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_missing_backbone_weights_message(net, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    backend = resolve_lpips(net)
    assert not backend.available and backend.model is None
    assert backend.unavailable_reason.startswith("LPIPS n/a")
    assert BACKBONE_WEIGHTS[net] in backend.unavailable_reason
    assert str(tmp_path / "hub" / "checkpoints") in backend.unavailable_reason


def test_unknown_net_is_refused():
    with pytest.raises(ValueError, match="lpips net"):
        resolve_lpips("squeeze")  # type: ignore[arg-type]
