"""Fréchet distance between two sets of Inception features, in float64 (Heusel et al. 2017).

    FID = ‖μ_r − μ_f‖² + tr Σ_r + tr Σ_f − 2 · tr (Σ_r Σ_f)^{1/2}

with unbiased (N − 1) covariances, as torch-fidelity, pytorch-fid and torchmetrics compute them. The trace of the
matrix square root is taken without forming a 2048×2048 ``sqrtm``:

* fewer images than feature dimensions (the usual per-bucket case): with centred feature matrices X_r (n×d),
  X_f (m×d), the non-zero eigenvalues of Σ_r Σ_f are the squared singular values of
  X_r X_fᵀ / √((n−1)(m−1)), so the trace is that small matrix's nuclear norm — exact and cheap;
* otherwise: tr (Σ_r^{1/2} Σ_f Σ_r^{1/2})^{1/2} from two symmetric eigendecompositions, which are stable where a
  general ``sqrtm`` of a near-singular product is not.
"""

from __future__ import annotations

import torch

MIN_IMAGES = 2  # a covariance needs at least two samples per set


def _centred(features: torch.Tensor, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    if features.ndim != 2:
        raise ValueError(f"{name} features must be N×D, got shape {tuple(features.shape)}")
    if features.shape[0] < MIN_IMAGES:
        raise ValueError(f"FID needs at least {MIN_IMAGES} {name} images, got {features.shape[0]}")
    x = features.detach().to(device="cpu", dtype=torch.float64)
    mean = x.mean(dim=0)
    return mean, x - mean


def _sqrt_psd(matrix: torch.Tensor) -> torch.Tensor:
    eigenvalues, eigenvectors = torch.linalg.eigh(matrix)
    return (eigenvectors * eigenvalues.clamp_min(0.0).sqrt()) @ eigenvectors.T


def frechet_distance(real: torch.Tensor, fake: torch.Tensor) -> float:
    """FID between two feature sets (N_r×D and N_f×D), computed in float64."""
    mean_r, xr = _centred(real, "real")
    mean_f, xf = _centred(fake, "fake")
    if xr.shape[1] != xf.shape[1]:
        raise ValueError(f"feature dimensions differ: {xr.shape[1]} vs {xf.shape[1]}")
    n, m, d = xr.shape[0], xf.shape[0], xr.shape[1]
    trace_r = xr.square().sum() / (n - 1)
    trace_f = xf.square().sum() / (m - 1)
    if min(n, m) <= d:
        cross = (xr @ xf.T) / ((n - 1) * (m - 1)) ** 0.5
        trace_sqrt = torch.linalg.svdvals(cross).sum()
    else:
        cov_r = xr.T @ xr / (n - 1)
        cov_f = xf.T @ xf / (m - 1)
        root_r = _sqrt_psd(cov_r)
        trace_sqrt = torch.linalg.eigvalsh(root_r @ cov_f @ root_r).clamp_min(0.0).sqrt().sum()
    distance = (mean_r - mean_f).square().sum() + trace_r + trace_f - 2.0 * trace_sqrt
    return float(distance)
