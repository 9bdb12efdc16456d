"""Channel-mean heat maps (paper Figs. 1, 3, 7): a feature map B×C×H×W shown as one image per sample.

    heat(F)[b, y, x] = (1/C) · Σ_c F[b, c, y, x]

For display each map is then stretched to [0, 1] on its own range: (h − min h) / (max h − min h); a constant map
(max = min exactly) shows as zeros rather than dividing by zero.
"""

from __future__ import annotations

import torch


def _check_features(features: torch.Tensor, name: str) -> None:
    if features.dim() != 4:
        raise ValueError(f"{name}: expects features B×C×H×W, got shape {tuple(features.shape)}")


def channel_mean_map(features: torch.Tensor) -> torch.Tensor:
    """heat(F) = mean over channels: B×C×H×W → B×H×W (float64, detached)."""
    _check_features(features, "channel_mean_map")
    return features.detach().double().mean(dim=1)


def stretch(maps: torch.Tensor) -> torch.Tensor:
    """Each B×H×W map rescaled to [0, 1] over its own min…max; a constant map becomes 0."""
    if maps.dim() != 3:
        raise ValueError(f"stretch: expects maps B×H×W, got shape {tuple(maps.shape)}")
    flat = maps.flatten(1)
    low = flat.min(dim=1).values.view(-1, 1, 1)
    span = (flat.max(dim=1).values.view(-1, 1, 1) - low)
    return torch.where(span > 0, (maps - low) / torch.where(span > 0, span, torch.ones_like(span)),
                       torch.zeros_like(maps))
