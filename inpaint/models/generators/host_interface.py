"""What a host generator's decoder side consumes, so another encoder (e.g. TSGL's) can be attached to it.

Every native host (PEN-Net, HiFill, LaMa) is split into ``encoder`` → feature dict → ``decoder``. The decoder
declares its inputs as a :class:`DecoderSpec`: named slots, each a map at a given stride (input side / map side)
with a given channel count. An encoder swap then needs only a thin adapter (1×1 convs, resizing) that turns the
new encoder's multi-scale features into a dict with exactly these names and shapes::

    spec = generator.decoder.spec
    features = {slot.name: adapter[slot.name](tsgl_features[slot.stride]) for slot in spec.slots}
    output = generator.decoder(features, known)  # a GeneratorOutput, image in [-1, 1]

Masks inside the suite are 1 = known; hosts that think in holes convert once, internally.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from inpaint.conventions import is_known


@dataclass(frozen=True)
class FeatureSlot:
    """One decoder input: ``name`` in the feature dict, ``stride`` = input side / map side, ``channels``."""

    name: str
    stride: int
    channels: int

    def shape(self, height: int, width: int) -> tuple[int, int, int]:
        """C×h×w this slot expects for an H×W input."""
        return (self.channels, height // self.stride, width // self.stride)


@dataclass(frozen=True)
class DecoderSpec:
    """The feature dict a host decoder consumes, finest slot first."""

    slots: tuple[FeatureSlot, ...]

    def names(self) -> tuple[str, ...]:
        return tuple(slot.name for slot in self.slots)

    def check(self, features: dict[str, torch.Tensor], height: int, width: int, host: str) -> None:
        """Raise a clear error when ``features`` does not match the slots for an H×W input."""
        for slot in self.slots:
            if slot.name not in features:
                raise KeyError(f"{host} decoder: feature {slot.name!r} missing; expected slots {self.names()}")
            got = tuple(features[slot.name].shape[1:])
            if got != slot.shape(height, width):
                raise ValueError(
                    f"{host} decoder: feature {slot.name!r} has shape {got}, expected {slot.shape(height, width)} "
                    f"(stride {slot.stride}, {slot.channels} channels) for a {height}×{width} input"
                )


def check_host_inputs(image: torch.Tensor, mask: torch.Tensor, size_multiple: int, host: str) -> None:
    """Validate the generator contract's tensors (B×3×H×W image, B×1×H×W mask, sides divisible)."""
    if image.dim() != 4 or image.shape[1] != 3:
        raise ValueError(f"{host}: image must be B×3×H×W, got shape {tuple(image.shape)}")
    if mask.dim() != 4 or mask.shape[1] != 1 or mask.shape[0] != image.shape[0] or mask.shape[2:] != image.shape[2:]:
        raise ValueError(
            f"{host}: mask must be B×1×H×W matching the image {tuple(image.shape)}, got {tuple(mask.shape)}"
        )
    height, width = image.shape[-2:]
    if height % size_multiple or width % size_multiple:
        raise ValueError(
            f"{host}: input {height}×{width} must have sides divisible by {size_multiple}; set the data module's "
            f"resolution (data.init_args.resolution, a side or [H, W]) to multiples of {size_multiple}"
        )


def masked_input(image: torch.Tensor, known: torch.Tensor, fill: float) -> torch.Tensor:
    """``image`` with every hole pixel replaced by ``fill`` (bit-exact: hole values cannot leak through)."""
    return torch.where(is_known(known), image, torch.full_like(image, fill))
