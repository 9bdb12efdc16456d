"""The complementarity curve of paper Fig. 12: how fast global structure and local residual change over the stages.

For the encoder's stages k = 1 … K−1 (levels ordered from the first to the last), with G_k the global structure
extracted from the reconstructed texture map (a high-pass, :mod:`~inpaint.analysis.spectrum`) and R_k the local
residual structure, the curves are the stage-to-stage KL divergences (:mod:`~inpaint.analysis.divergence`)

    global[k] = KL(G_k ‖ G_{k−1}),    local[k] = KL(R_k ‖ R_{k−1})

averaged over the batch. The paper's claim is a crossover: the global curve decays more slowly in the early stages,
the local one in the late stages.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from inpaint.analysis.divergence import kl_divergence


def stage_kl_curve(stages: Sequence[torch.Tensor]) -> list[float]:
    """[KL(F_k ‖ F_{k−1}) averaged over the batch for k = 1 … K−1] for feature maps B×C×H_k×W_k of equal C."""
    if len(stages) < 2:
        raise ValueError(f"stage_kl_curve: needs at least two stages, got {len(stages)}")
    return [float(kl_divergence(cur, prev).mean()) for prev, cur in zip(stages[:-1], stages[1:])]


def complementarity_curves(global_stages: Sequence[torch.Tensor],
                           local_stages: Sequence[torch.Tensor]) -> dict[str, list[float]]:
    """``{"global": [...], "local": [...]}``: the two stage-to-stage KL curves of Fig. 12 (equal stage counts)."""
    if len(global_stages) != len(local_stages):
        raise ValueError(f"complementarity_curves: {len(global_stages)} global stages but {len(local_stages)} local")
    return {"global": stage_kl_curve(global_stages), "local": stage_kl_curve(local_stages)}
