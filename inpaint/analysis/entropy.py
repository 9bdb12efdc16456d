"""Per-pixel information entropy over channels (paper Figs. 11, 17): how many channels carry a pixel's response.

At each pixel the C channel values are turned into a distribution p and

    H[b, y, x] = −Σ_c p_c · log p_c        (nats; 0 ≤ H ≤ log C)

Two normalisations (the paper names none):

* ``"softmax"`` (default): p = softmax_c(F[:, y, x]) — defined for any sign; equal values give log C;
* ``"l1"``: p = |F| / Σ_c |F| — the share of the response magnitude; a one-hot vector gives exactly 0, equal
  magnitudes log C; a pixel where every channel is 0 has no distribution and gets 0.
"""

from __future__ import annotations

from typing import Literal

import torch

Normalisation = Literal["softmax", "l1"]


def channel_entropy(features: torch.Tensor, normalise: Normalisation = "softmax") -> torch.Tensor:
    """H over channels at every pixel: B×C×H×W → B×H×W (float64, detached)."""
    if features.dim() != 4:
        raise ValueError(f"channel_entropy: expects features B×C×H×W, got shape {tuple(features.shape)}")
    x = features.detach().double()
    if normalise == "softmax":
        log_p = torch.log_softmax(x, dim=1)
        return -(log_p.exp() * log_p).sum(dim=1)
    if normalise != "l1":
        raise ValueError(f"channel_entropy: normalise must be 'softmax' or 'l1', got {normalise!r}")
    magnitude = x.abs()
    total = magnitude.sum(dim=1, keepdim=True)
    p = magnitude / torch.where(total > 0, total, torch.ones_like(total))
    terms = torch.where(p > 0, p * torch.log(torch.where(p > 0, p, torch.ones_like(p))), torch.zeros_like(p))
    return -terms.sum(dim=1)
