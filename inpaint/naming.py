"""File-system names for run folders, sweep cells and variant files."""

from __future__ import annotations

import re

ARROW = "->"  # the arrow of variant names (``Global(Local)->Global(Local)``) becomes "__"
_UNSAFE = re.compile(r"[^a-z0-9_.]+")


def slug(name: str) -> str:
    """File-system form of a name: lower case, each run of other characters than ``a-z 0-9 _ .`` becomes one
    "-", the arrow becomes "__": ``2Global(Local)->Global(Local)`` → ``2global-local__global-local``.

    A slug is its own slug, so a name and its slug find the same thing; an empty result becomes ``unnamed``.
    """
    sides = name.strip().lower().split(ARROW)
    return "__".join(_UNSAFE.sub("-", side).strip("-") for side in sides) or "unnamed"


__all__ = ["slug"]
