"""The contract every generator in the suite fulfils, so that any of them plugs into ``InpaintingGAN``.

A generator is an ``nn.Module`` whose ``forward`` takes the batch's tensors by keyword and returns a
:class:`GeneratorOutput`::

    out = generator(image=image, mask=mask, edge=edge, gray=gray, smooth=smooth)

* ``image``  B×3×H×W in [-1, 1] (the ground truth; the generator masks it itself);
* ``mask``   B×1×H×W float {0, 1}, **1 = known**;
* ``edge``   B×1×H×W {0, 1} Canny map of the full image, ``gray`` B×1×H×W in [0, 1], ``smooth`` B×3×H×W in
  [-1, 1] (the edge-preserving smoothed image); all unmasked — the generator multiplies by ``mask`` itself, so a
  hole pixel of any input can never influence the result. Generators that do not use a prior ignore it
  (``None`` is allowed for priors a generator declares it does not need).
* ``structure`` (only TSGL-encoder generators built with a Table VIII ``structure_prior`` other than ``canny_gray``,
  which then read it instead of ``edge`` and ``gray``): B×C×H×W in [0, 1], unmasked, passed only when the batch
  has it.

Generators must run at any H, W that are multiples of :attr:`InpaintGenerator.size_multiple` (they may pad
internally to a larger multiple) and must return an ``image`` of the input's shape in [-1, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass
class GeneratorOutput:
    """What a generator returns.

    ``image``: raw prediction B×3×H×W in [-1, 1] (not yet composited).
    ``edge``: the auxiliary structure decoder's edge prediction B×1×H×W in (0, 1) (B×C×H×W: the whole prior, for a
    Table VIII structure prior other than ``canny_gray``), or None.
    ``extras``: host-specific tensors for host-specific losses (e.g. PEN-Net's pyramid outputs).
    """

    image: torch.Tensor
    edge: torch.Tensor | None = None
    extras: dict[str, torch.Tensor] = field(default_factory=dict)


class InpaintGenerator(nn.Module):
    """Base class: documents the interface; subclasses implement ``forward``."""

    #: inputs must have H and W divisible by this (after the data module's crop).
    size_multiple: int = 32
    #: priors this generator reads; the data module may skip computing the others.
    priors: tuple[str, ...] = ("edge", "gray", "smooth")
    #: its heavy blocks, whose activations `recompute_activations` recomputes in backward (inpaint.nn.recompute)
    recompute_blocks: tuple[type[nn.Module], ...] = ()

    @property
    def model_name(self) -> str:
        """What the model is, for reports and published-figure lookups (the class name unless a variant of the
        class is a different model, e.g. TSGL without its balance module)."""
        return type(self).__name__

    def forward(
        self,
        image: torch.Tensor,
        mask: torch.Tensor,
        edge: torch.Tensor | None = None,
        gray: torch.Tensor | None = None,
        smooth: torch.Tensor | None = None,
    ) -> GeneratorOutput:
        raise NotImplementedError
