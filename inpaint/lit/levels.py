"""The levels a training step judges: the output alone, or every level of a pyramid generator (seed 002).

A plain discriminator judges one level: the generator's output against the batch's image and mask. With
:class:`~inpaint.models.discriminators.LevelDiscriminators`, level n of a pyramid generator
(``extras["level_<n>"]``, bottom first) is judged by its own discriminator against the ground truth I_n and the
known-mask downscaled to that level (:mod:`inpaint.nn.image_pyramid`), and its losses are weighted by
``losses.level_weights`` — seed 002's L_PG = 10·L₀ + L₁ + L₂, where every L_n is the level's adversarial term plus
its L1 (and, with ``lambda_coarse``, the L1 of its coarse output ``extras["coarse_<n>"]``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch
from torch import nn

from inpaint.conventions import known_mask
from inpaint.losses import LossConfig
from inpaint.models.discriminators import LevelDiscriminators, judge
from inpaint.models.interface import GeneratorOutput
from inpaint.nn.image_pyramid import downscale_known, downscale_target, level_factor


@dataclass
class JudgedLevel:
    """What one level's losses compare.

    Attributes:
        discriminator: ``x → scores`` for this level (a mask-conditioned discriminator has the level's mask bound).
        real: the ground truth at this level.
        output: the generator's raw output at this level.
        known: the known-mask at this level (1 = known).
        weight: the level's weight in the generator's total loss.
        extras: the generator extras this level's losses read (``coarse`` for ``lambda_coarse``).
        edge_prediction: the generator's edge head output (the one-level case only).
        edge_target: D_S's target (the one-level case only): the batch's edge map, or its Table VIII ``structure``.
    """

    discriminator: Callable[[torch.Tensor], torch.Tensor] | None  # None: no adversarial training
    real: torch.Tensor
    output: torch.Tensor
    known: torch.Tensor
    weight: float = 1.0
    extras: dict[str, torch.Tensor] = field(default_factory=dict)
    edge_prediction: torch.Tensor | None = None
    edge_target: torch.Tensor | None = None


def structure_target(batch: Mapping[str, torch.Tensor]) -> torch.Tensor | None:
    """What D_S is trained on (Eq. 14): the Table VIII prior's maps when the batch has them, else the edge map."""
    value = batch.get("structure", batch.get("edge"))
    return value if isinstance(value, torch.Tensor) else None


def judged_levels(discriminator: nn.Module | None, out: GeneratorOutput, batch: Mapping[str, torch.Tensor],
                  losses: LossConfig) -> list[JudgedLevel]:
    """The levels of this step, bottom first; one level unless ``discriminator`` is a :class:`LevelDiscriminators`
    (``None``: one level without a judge, for reconstruction-only training)."""
    image, mask = batch["image"], batch["mask"]
    if not isinstance(discriminator, LevelDiscriminators):
        if losses.level_weights:
            raise ValueError("losses.level_weights weights the levels of a pyramid generator, which needs one "
                             "discriminator per level (inpaint.models.discriminators.LevelDiscriminators)")
        return [JudgedLevel(None if discriminator is None else judge(discriminator, mask), image, out.image, mask,
                            1.0, out.extras, out.edge, structure_target(batch))]
    count = len(discriminator)
    produced = sorted(k for k in out.extras if k.startswith("level_"))
    expected = [f"level_{n}" for n in range(count)]
    if sorted(produced) != sorted(expected):
        raise ValueError(f"LevelDiscriminators has {count} levels but the generator returned {produced or 'no'} "
                         "level outputs (extras['level_<n>']); set discriminator.init_args.levels to the generator's "
                         "number of levels, or use a single-image discriminator")
    weights = losses.level_weights or (1.0,) * count
    if len(weights) != count:
        raise ValueError(f"losses.level_weights has {len(weights)} weights for {count} pyramid levels "
                         f"(got {list(weights)}); give one per level, bottom first, e.g. 10, 1, 1")
    known = known_mask(mask, image.dtype)
    levels = []
    for n, (level_d, weight) in enumerate(zip(discriminator.levels, weights)):
        output = out.extras[f"level_{n}"]
        factor = level_factor(image.shape, output.shape)
        known_n = downscale_known(known, factor)
        coarse = out.extras.get(f"coarse_{n}")
        levels.append(JudgedLevel(judge(level_d, known_n), downscale_target(image, factor), output, known_n,
                                  float(weight), {"coarse": coarse} if coarse is not None else {}))
    return levels


def weighted_terms(levels: list[JudgedLevel], per_level: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Σ_n w_n·terms_n for every loss term; with several levels also each level's ``rec_<n>`` and ``adv_<n>``."""
    if len(per_level) == 1 and levels[0].weight == 1.0:
        return per_level[0]  # the one-level step: the terms exactly as generator_losses gave them
    combined = {key: sum((level.weight * terms[key] for level, terms in zip(levels, per_level)),
                         torch.zeros_like(per_level[0][key])) for key in per_level[0]}
    for n, terms in enumerate(per_level):
        combined[f"rec_{n}"], combined[f"adv_{n}"] = terms["rec"], terms["adv"]
    return combined
