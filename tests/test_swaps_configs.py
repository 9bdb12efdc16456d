"""experiments/model/<generator>.yaml for the eight generators of the swap study: paper widths, and the `small`
profile through the experiments/model/small.yaml overlay; parsed and built the way LightningCLI does (jsonargparse)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonargparse import ArgumentParser
from torch import nn

from inpaint.models.interface import InpaintGenerator

MODEL_DIR = Path(__file__).resolve().parents[1] / "experiments" / "model"
GENERATORS = ("tsgl", "pennet", "ours_pennet", "hifill", "ours_hifill", "lama", "ours_lama", "ours_basic")


def _merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in overlay.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _generator_config(name: str, small: bool) -> dict[str, Any]:
    config = yaml.safe_load((MODEL_DIR / f"{name}.yaml").read_text())
    if small:
        config = _merge(config, yaml.safe_load((MODEL_DIR / "small.yaml").read_text()))
    return config["model"]["generator"]


@pytest.mark.parametrize("name", GENERATORS)
def test_config_parses_at_paper_size_and_builds_small(name: str) -> None:
    parser = ArgumentParser(exit_on_error=False)
    parser.add_subclass_arguments(nn.Module, "generator")
    paper = parser.parse_object({"generator": _generator_config(name, small=False)})
    assert paper.generator.init_args.size == "paper"
    small = parser.parse_object({"generator": _generator_config(name, small=True)})
    generator = parser.instantiate(small).generator
    assert isinstance(generator, InpaintGenerator)
    assert getattr(generator, "profile", None) is None or generator.profile.name == "small"
