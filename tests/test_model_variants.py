"""The 13 variants as data: names, slugs, Table IV order/grouping, presets and profiles."""

from __future__ import annotations

from dataclasses import fields

import pytest

from inpaint.errors import UserInputError
from inpaint.losses import LOSS_PRESETS
from inpaint.models.encoders.options import TSGLOptions
from inpaint.models.presets import PRESETS, get_preset
from inpaint.models.profiles import PROFILES, get_profile
from inpaint.models.variants import (
    DEFAULT_VARIANT,
    VARIANTS,
    get_variant,
    slugify,
)

PAPER_NAMES = [
    "Baseline", "Global->Global", "Global->Local", "Local->Global", "Local->Local", "Texture->Global",
    "Texture->Local", "2Global(Local)->Local(Global)", "2Global(Local)->Local(Local)",
    "Global(Local)->Global(Local)", "2Global(Texture)->Global(Local)", "2Global(Local)->Global(Local)",
    "Global(2Local)->Global(Local)",
]
#: Table I(b)'s structure-from-texture model (no name in the paper; docs/model.md)
TABLE1_NAMES = ["Global->Global+Texture->Structure"]


def test_all_thirteen_names() -> None:
    assert sorted(VARIANTS) == sorted(PAPER_NAMES + TABLE1_NAMES)
    assert DEFAULT_VARIANT == "2Global(Local)->Global(Local)"


def test_slugs_are_unique_and_round_trip() -> None:
    slugs = {slugify(n) for n in VARIANTS}
    assert len(slugs) == len(VARIANTS)
    assert slugify("2Global(Local)->Global(Local)") == "2global-local__global-local"
    for name in VARIANTS:
        assert get_variant(slugify(name)).name == name
    assert get_variant("2Global(Local)→Global(Local)").name == DEFAULT_VARIANT


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Baseline", []),
        ("Global->Local", [("local", "structure", 1)]),
        ("Texture->Global", [("global", "texture", 1)]),
        ("2Global(Local)->Local(Global)", [("local", "structure", 2), ("global", "residual", 1)]),
        ("Global(2Local)->Global(Local)", [("global", "structure", 1), ("local", "residual", 2)]),
        ("2Global(Texture)->Global(Local)", [("global", "structure", 2), ("local", "texture", 1)]),
    ],
)
def test_decoded_branches(name: str, expected: list[tuple[str, str, int]]) -> None:
    assert [(b.norm, b.source, b.times) for b in get_variant(name).branches] == expected


def test_structure_use() -> None:
    assert not get_variant("Baseline").uses_structure
    assert not get_variant("Local->Local").uses_structure
    assert get_variant("Global->Global").uses_structure


def test_presets_set_every_preset_governed_option() -> None:
    # use_structure follows the variant, structure_prior the data (Table VIII): neither is a preset's choice
    governed = {f.name for f in fields(TSGLOptions)} - {"use_structure", "structure_prior", "window"}
    for name in PRESETS:
        assert set(get_preset(name).given()) == governed | {"window"}, name
    assert get_preset("paper").depths == (2, 2, 6, 2) and get_preset("official").depths == (2, 2, 6, 6)
    assert LOSS_PRESETS["official"].adversarial == "hinge" and LOSS_PRESETS["paper"].hole_weight == 1.0
    assert set(LOSS_PRESETS) == set(PRESETS)
    with pytest.raises(UserInputError, match="unknown preset"):
        get_preset("legacy")


def test_profiles_change_widths_only() -> None:
    paper, small = PROFILES["paper"], PROFILES["small"]
    for field in ("structure_channels", "aux_channels", "pyramid_channels"):
        assert len(getattr(paper, field)) == len(getattr(small, field))
    assert paper.texture_channels == 180 and paper.structure_channels == (64, 128, 256, 512, 1024)
    assert get_profile("small", balance_width=16).balance_width == 16
    with pytest.raises(ValueError, match="unknown size profile"):
        get_profile("huge")
