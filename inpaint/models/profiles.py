"""Size profiles of the TSGL model: widths only, never wiring.

``paper`` is the paper's/official code's widths (texture 180, structure 64…1024, SPADE hidden 128, decoder
64…512, balance 256). ``small`` keeps every layer and connection but narrows them so that the whole suite
trains on a 2-core CPU (texture 48, structure 16…256, SPADE hidden 32, decoder 16…128, balance 32, D_S
8…128, PatchGAN width 16).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class SizeProfile:
    """Channel widths of every TSGL component."""

    name: str
    texture_channels: int  # C_T: head, transformer and reconstruction width (Appendix C: 180)
    heads: int  # attention heads (head dim = texture_channels / heads; 180/4 = 45)
    structure_channels: tuple[int, int, int, int, int]  # F_1^S … F_5^S (Sec. IV-A: 64…1024)
    aux_channels: tuple[int, int, int, int, int]  # D_S up-path widths, fine to coarse (official = structure widths)
    spade_hidden: int  # width of the SPADE shared conv (128)
    pyramid_channels: tuple[int, int, int, int, int, int]  # f1…f6 = decoder skip widths
    balance_width: int  # per-group width of the cross-layer balance module (256)
    discriminator_width: int  # first-layer width of the PatchGAN (64)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


PROFILES: dict[str, SizeProfile] = {
    "paper": SizeProfile(
        name="paper",
        texture_channels=180,
        heads=4,
        structure_channels=(64, 128, 256, 512, 1024),
        aux_channels=(64, 128, 256, 512, 1024),
        spade_hidden=128,
        pyramid_channels=(64, 128, 256, 512, 512, 512),
        balance_width=256,
        discriminator_width=64,
    ),
    "small": SizeProfile(
        name="small",
        texture_channels=48,
        heads=4,
        structure_channels=(16, 32, 64, 128, 256),
        aux_channels=(8, 16, 32, 64, 128),
        spade_hidden=32,
        pyramid_channels=(16, 32, 64, 128, 128, 128),
        balance_width=32,
        discriminator_width=16,
    ),
}


def get_profile(name: str, **overrides: Any) -> SizeProfile:
    """A named profile, optionally with some widths replaced."""
    if name not in PROFILES:
        raise ValueError(f"unknown size profile {name!r}; choose one of {sorted(PROFILES)}")
    profile = PROFILES[name]
    return replace(profile, **overrides) if overrides else profile
