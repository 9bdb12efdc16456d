"""Thin adapter from the TSGL encoder's pyramid to a host decoder's :class:`DecoderSpec` (the encoder swaps).

The TSGL encoder hands out six activated maps f1…f6 at strides 2…64 (:class:`EncoderFeatures`); a host decoder
(PEN-Net, HiFill, LaMa) declares the named maps it consumes as ``FeatureSlot(name, stride, channels)``. For every
slot the adapter takes the encoder map at the same stride (or, with ``allow_resize``, the nearest stride, resized),
and a 1×1 conv brings its width to the slot's width; equal widths pass through unchanged (no parameters), as at
PEN-Net's 1/32 and 1/64 levels (docs/hosts.md, "Encoder swaps", gives the counts). A slot listed in
``fuse_coarser`` also receives every coarser encoder map, resized to its stride and concatenated before the 1×1
conv — so that a host reading only the fine levels (HiFill: strides 2, 4, 8) still trains the whole encoder.

The adapter checks what it receives: a map whose channel count or spatial size disagrees with the encoder
description it was built for raises a ``ValueError`` that names the stride, the expected and the actual shape.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from inpaint.models.encoders.tsgl import EncoderFeatures
from inpaint.models.generators.host_interface import DecoderSpec, FeatureSlot

AdapterActivation = Literal["none", "relu", "leaky_relu"]


def _activation(kind: AdapterActivation) -> nn.Module:
    if kind == "none":
        return nn.Identity()
    if kind == "relu":
        return nn.ReLU()
    if kind == "leaky_relu":
        return nn.LeakyReLU(0.2)
    raise ValueError(f"adapter activation must be 'none', 'relu' or 'leaky_relu', got {kind!r}")


def resize_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Area average when shrinking (anti-aliased), bilinear when enlarging."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    if x.shape[-2] >= size[0] and x.shape[-1] >= size[1]:
        return F.adaptive_avg_pool2d(x, size)
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class SlotProjection(nn.Module):
    """One slot: pick the source stride(s), resize to the slot's stride, concatenate, 1×1 conv (+ activation).

    ``sources`` is ``((stride, channels), ...)``: the main source first, then any fused coarser levels.
    """

    def __init__(
        self, slot: FeatureSlot, sources: tuple[tuple[int, int], ...], activation: AdapterActivation
    ) -> None:
        super().__init__()
        self.slot = slot
        self.sources = sources
        in_channels = sum(c for _, c in sources)
        if len(sources) == 1 and in_channels == slot.channels:
            self.project: nn.Module = nn.Identity()  # widths agree: pass the (already activated) map through
        else:
            self.project = nn.Sequential(nn.Conv2d(in_channels, slot.channels, 1), _activation(activation))

    @property
    def source_stride(self) -> int:
        return self.sources[0][0]

    def forward(self, maps: list[torch.Tensor], height: int, width: int) -> torch.Tensor:
        size = (height // self.slot.stride, width // self.slot.stride)
        resized = [resize_to(x, size) for x in maps]
        return self.project(resized[0] if len(resized) == 1 else torch.cat(resized, dim=1))


class FeatureAdapter(nn.Module):
    """Maps ``{stride: feature}`` of an encoder to the feature dict a host decoder's ``spec`` asks for.

    Args:
        source_channels: the encoder's channel count per level (TSGL paper profile 64, 128, 256, 512, 512, 512).
        source_strides: the encoder's stride per level (TSGL 2, 4, 8, 16, 32, 64).
        spec: the host decoder's :class:`DecoderSpec`.
        activation: after each 1×1 projection (PEN-Net: ``leaky_relu``, as its encoder convs; HiFill/LaMa:
            ``none``).
        allow_resize: a slot whose stride the encoder lacks takes the nearest available stride (in log₂) and is
            resized; ``False`` raises instead.
        fuse_coarser: slot names that also take all encoder maps coarser than their source (upsampled, concatenated).
        host: name used in error messages.
    """

    def __init__(
        self,
        source_channels: Sequence[int],
        source_strides: Sequence[int],
        spec: DecoderSpec,
        *,
        activation: AdapterActivation = "none",
        allow_resize: bool = True,
        fuse_coarser: Sequence[str] = (),
        host: str = "host",
    ) -> None:
        super().__init__()
        channels = tuple(int(c) for c in source_channels)
        strides = tuple(int(s) for s in source_strides)
        if len(channels) != len(strides) or not strides:
            raise ValueError(
                f"FeatureAdapter({host}): source_channels {channels} and source_strides {strides} must be non-empty "
                "and of equal length"
            )
        _activation(activation)  # validate early
        self.host = host
        self.spec = spec
        self.source = dict(zip(strides, channels))
        unknown = set(fuse_coarser) - set(spec.names())
        if unknown:
            raise ValueError(
                f"FeatureAdapter({host}): fuse_coarser names {sorted(unknown)} are not slots of {spec.names()}"
            )
        projections = {}
        for slot in spec.slots:
            if slot.stride in self.source:
                stride = slot.stride
            elif allow_resize:
                stride = min(strides, key=lambda s: (abs(math.log2(s) - math.log2(slot.stride)), s))
            else:
                raise ValueError(
                    f"FeatureAdapter({host}): slot {slot.name!r} wants stride {slot.stride}, but the encoder only "
                    f"provides strides {strides}; pass allow_resize=True to resample the nearest one"
                )
            sources = [(stride, self.source[stride])]
            if slot.name in fuse_coarser:
                sources += [(s, c) for s, c in sorted(self.source.items()) if s > stride]
            projections[slot.name] = SlotProjection(slot, tuple(sources), activation)
        self.projections = nn.ModuleDict(projections)

    def check_source(self, features: Mapping[int, torch.Tensor], height: int, width: int) -> None:
        """Raise when a used encoder map has a channel count or size other than declared at construction."""
        for name, projection in self.projections.items():
            for stride, channels in projection.sources:
                if stride not in features:
                    raise KeyError(
                        f"FeatureAdapter({self.host}): slot {name!r} needs the encoder map at stride {stride}; "
                        f"got strides {sorted(features)}"
                    )
                x = features[stride]
                expected = (channels, height // stride, width // stride)
                if tuple(x.shape[1:]) != expected:
                    raise ValueError(
                        f"FeatureAdapter({self.host}): encoder map at stride {stride} has shape "
                        f"{tuple(x.shape[1:])}, expected {expected} (C×H/{stride}×W/{stride} for a {height}×{width} "
                        f"input); the adapter was built for encoder channels {self.source} — rebuild it for this "
                        "encoder/profile"
                    )

    def forward(
        self, features: EncoderFeatures | Mapping[int, torch.Tensor], height: int, width: int
    ) -> dict[str, torch.Tensor]:
        """``{slot name: map}`` matching ``spec`` for an H×W input."""
        by_stride = features.by_stride() if isinstance(features, EncoderFeatures) else dict(features)
        self.check_source(by_stride, height, width)
        return {
            name: projection([by_stride[stride] for stride, _ in projection.sources], height, width)
            for name, projection in self.projections.items()
        }

    def extra_repr(self) -> str:
        return f"host={self.host!r}, source={self.source}, slots={self.spec.names()}"
