"""Stop training at the first non-finite loss, before it can reach the weights or a checkpoint."""

from __future__ import annotations

from collections.abc import Mapping

import torch


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or ±inf; raised before the optimiser step so the weights stay finite."""


def first_non_finite(losses: Mapping[str, torch.Tensor]) -> str | None:
    """Name of the first loss term that is not finite, or None when all are finite."""
    for name, value in losses.items():
        if not bool(torch.isfinite(value.detach()).all()):
            return name
    return None


def non_finite_message(term: str, value: torch.Tensor, step: int, checkpoint_dir: str | None) -> str:
    """The one-line explanation printed when training stops."""
    where = f"; the last good checkpoint is in {checkpoint_dir}" if checkpoint_dir else ""
    return (
        f"non-finite loss '{term}' = {float(value.detach().float().mean())} at global step {step}: training stopped "
        f"before the optimiser step, so no NaN reached the weights{where}. Lower the learning rate, enable "
        f"model.gradient_clip_val, or check the data (resume with --ckpt_path last)"
    )
