"""One slug rule for run folders, sweep cells and variant names."""

from __future__ import annotations

import pytest

from inpaint.models.variants import VARIANTS, get_variant
from inpaint.naming import slug
from inpaint.sweeps.worker import cell_slug


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("2Global(Local)->Global(Local)", "2global-local__global-local"),
        ("Global(2Local) -> Global(Local)", "global-2local__global-local"),
        ("tsgl_celeba", "tsgl_celeba"),  # run folders keep underscores …
        ("lr 2.5e-4", "lr-2.5e-4"),  # … and dots (sweep values)
        ("  (x)  ", "x"),
        ("", "unnamed"),
    ],
)
def test_slug(name, expected):
    assert slug(name) == expected


def test_a_slug_is_its_own_slug_and_finds_its_variant():
    for name in VARIANTS:
        assert slug(slug(name)) == slug(name)
        assert get_variant(slug(name)).name == name and VARIANTS[name].slug == slug(name)


def test_cell_slug_joins_the_value_slugs():
    assert cell_slug({"seed": 0, "variant": "2Global(Local)->Global(Local)", "lr": 0.0002}) == (
        "seed=0_variant=2global-local__global-local_lr=0.0002")
