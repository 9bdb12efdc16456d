"""The generic texture reconstruction block: a sum of branches (paper Eq. 6–8, Sec. III-B; Table IV as data).

A branch is ``(norm, source, times)``: ``times`` chained stages of
``[normalise → (1 + γ(s))·x̂ + β(s) → LeakyReLU(0.2) → conv3×3]``; the second stage normalises the first
stage's output and has its own γ/β convs, but is modulated by the same source. Sources at encoder layer k:

* ``structure`` — the structure encoder's feature F_k^S ("global structure");
* ``residual``  — the local residual structure R_k = F̃_{k−1}^T − Upsample(F_k^T), resized to layer k
  (Eq. 6's second F_de; see :func:`local_residual`);
* ``texture``   — the texture map F_k^T itself.

The same block also reconstructs the *structure* map from the texture map (Table I(b), the inverse direction):
built with ``channels`` = the structure width and ``texture_channels`` = C_T, its ``texture`` branches normalise
F_k^S and are modulated by the F_k^T given as ``sources["texture"]``.

The block output is the sum of its branches (the 256 model has no identity shortcut; ``identity=True`` adds
one, as in the official 512/LaMa variant). A block without branches is the identity (the Baseline).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from inpaint.nn.normalization import GlobalNormKind, NormScope, SpatialModulation, build_norm

Source = Literal["structure", "residual", "texture"]
ResidualResize = Literal["bilinear", "area"]
SOURCES: tuple[str, ...] = ("structure", "residual", "texture")


@dataclass(frozen=True)
class Branch:
    """One reconstruction branch: normalisation scope, modulating source, number of chained stages."""

    norm: NormScope
    source: Source
    times: int = 1

    def __post_init__(self) -> None:
        if self.norm not in ("global", "local"):
            raise ValueError(f"branch norm must be 'global' or 'local', got {self.norm!r}")
        if self.source not in SOURCES:
            raise ValueError(f"branch source must be one of {SOURCES}, got {self.source!r}")
        if not isinstance(self.times, int) or self.times < 1:
            raise ValueError(f"branch times must be a positive integer, got {self.times!r}")


def local_residual(
    previous: torch.Tensor, current: torch.Tensor, mode: ResidualResize = "bilinear"
) -> torch.Tensor:
    """R_k: ``previous − nearest-upsample(current)`` at the previous resolution, resized to ``current``'s size.

    ``mode="bilinear"`` uses align_corners=True as the official code (point sampling on a 2× reduction);
    ``"area"`` averages instead (anti-aliased).
    """
    up = F.interpolate(current, size=previous.shape[-2:], mode="nearest")
    diff = previous - up
    if mode == "bilinear":
        return F.interpolate(diff, size=current.shape[-2:], mode="bilinear", align_corners=True)
    if mode == "area":
        return F.adaptive_avg_pool2d(diff, current.shape[-2:])
    raise ValueError(f"residual resize mode must be 'bilinear' or 'area', got {mode!r}")


class ReconstructionStage(nn.Module):
    """normalise → modulate by the source → LeakyReLU(0.2) → conv3×3 (spectral-normalised by default)."""

    def __init__(
        self,
        channels: int,
        source_channels: int,
        hidden: int,
        norm: NormScope,
        global_norm: GlobalNormKind,
        local_unbiased: bool,
        use_spectral_norm: bool,
    ) -> None:
        super().__init__()
        self.modulation = SpatialModulation(
            build_norm(norm, channels, global_norm, local_unbiased), channels, source_channels, hidden
        )
        conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv = spectral_norm(conv) if use_spectral_norm else conv
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        return self.conv(self.act(self.modulation(x, source)))


class ReconstructionBranch(nn.Module):
    """``times`` chained :class:`ReconstructionStage` s driven by one source."""

    def __init__(self, branch: Branch, channels: int, source_channels: int, hidden: int, **stage_kwargs) -> None:
        super().__init__()
        self.branch = branch
        self.stages = nn.ModuleList(
            ReconstructionStage(channels, source_channels, hidden, branch.norm, **stage_kwargs)
            for _ in range(branch.times)
        )

    def forward(self, x: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        for stage in self.stages:
            x = stage(x, source)
        return x


class ReconstructionBlock(nn.Module):
    """Sum of branches at one encoder layer (Table IV row as data).

    Args:
        channels: texture channels C_T (180 in the paper profile).
        structure_channels: C_k^S of the structure feature at this layer (only read by ``structure`` branches).
        branches: the branch list; empty = identity.
        hidden: width of the SPADE shared conv.
        global_norm: ``"instance"`` (paper Eq. 7) or ``"batch"`` (official).
        local_unbiased: official unbiased variance in the local norm.
        use_spectral_norm: spectral norm on the branch convs (official code).
        identity: add the input to the sum (official 512 variant).
        texture_channels: channels of a ``texture`` source that is not ``x`` itself (``None``: the block reconstructs
            the texture map, so its ``texture`` source is ``x``); set when the block reconstructs a structure map.

    ``forward(x, sources)`` takes a dict with the tensors the branches need (``structure``, ``residual``,
    ``texture`` — the latter defaults to ``x``).
    """

    def __init__(
        self,
        channels: int,
        structure_channels: int,
        branches: tuple[Branch, ...] | list[Branch],
        hidden: int = 128,
        global_norm: GlobalNormKind = "instance",
        local_unbiased: bool = False,
        use_spectral_norm: bool = True,
        identity: bool = False,
        texture_channels: int | None = None,
    ) -> None:
        super().__init__()
        self.branch_specs = tuple(branches)
        stage_kwargs = dict(global_norm=global_norm, local_unbiased=local_unbiased, use_spectral_norm=use_spectral_norm)
        source_channels = {"structure": structure_channels, "residual": channels,
                           "texture": channels if texture_channels is None else texture_channels}
        self.branches = nn.ModuleList(
            ReconstructionBranch(spec, channels, source_channels[spec.source], hidden, **stage_kwargs)
            for spec in self.branch_specs
        )
        self.identity = identity

    @property
    def sources(self) -> set[str]:
        """The sources this block reads."""
        return {spec.source for spec in self.branch_specs}

    def forward(self, x: torch.Tensor, sources: dict[str, torch.Tensor]) -> torch.Tensor:
        if not self.branches:
            return x
        out = x if self.identity else None
        for spec, branch in zip(self.branch_specs, self.branches):
            source = sources.get(spec.source, x if spec.source == "texture" else None)
            if source is None:
                raise ValueError(f"reconstruction branch {spec} needs source {spec.source!r}, which was not given")
            y = branch(x, source)
            out = y if out is None else out + y
        return out
