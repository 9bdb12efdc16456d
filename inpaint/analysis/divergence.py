"""KL divergence between two layers' feature maps (paper Figs. 3, 8–10, 20–21).

Maps of different sizes compare once each is reduced to a distribution over its C channels — every TSGL texture
level has C = 180 — by global average pooling and a softmax (the paper names no reduction; this is the one
seeds-summary T8 suggests):

    p(F)  = softmax_c( (1/HW) · Σ_{y,x} F[c, y, x] )
    KL(F_a ‖ F_b) = Σ_c p_c(F_a) · (log p_c(F_a) − log p_c(F_b))

computed from log-softmax in float64, so identical maps give exactly 0 and the value is never negative beyond
rounding.
"""

from __future__ import annotations

import torch


def channel_log_distribution(features: torch.Tensor) -> torch.Tensor:
    """log p(F): B×C×H×W → B×C (float64, detached): log-softmax of the channel GAP vector."""
    if features.dim() != 4:
        raise ValueError(f"channel_log_distribution: expects features B×C×H×W, got shape {tuple(features.shape)}")
    return torch.log_softmax(features.detach().double().mean(dim=(2, 3)), dim=1)


def kl_divergence(features: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """KL(p(features) ‖ p(reference)) per sample, B values (nats). Spatial sizes may differ; channels may not."""
    if features.dim() != 4 or reference.dim() != 4:
        raise ValueError("kl_divergence: expects two B×C×H×W feature maps")
    if features.shape[:2] != reference.shape[:2]:
        raise ValueError(f"kl_divergence: batch and channel counts differ: {tuple(features.shape[:2])} vs "
                         f"{tuple(reference.shape[:2])} (layers compare as distributions over the same channels)")
    log_p, log_q = channel_log_distribution(features), channel_log_distribution(reference)
    return (log_p.exp() * (log_p - log_q)).sum(dim=1)
