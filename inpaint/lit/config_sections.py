"""One section of a run's config files, built alone: the data module or the generator that ``inpaint fit --config a
--config b …`` would build, without the rest of the run (trainer, discriminator, logger, run folder).

The files are composed as the command line composes them (``defaults:``, ``preset:``; :mod:`inpaint.config.compose`),
the section is merged in that order by the same typed parser LightningCLI uses (a later file's ``init_args`` refine an
earlier ``class_path``), and ``${location.*}`` paths are filled in. Tools that only look at data or at a network (the
feature analyses) use this, so that they read a config exactly as training does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from lightning.pytorch import LightningDataModule
from torch import nn

from inpaint.config.compose import Fragment, compose, read_config, substitute_locations
from inpaint.errors import UserInputError

LOCATION_HINT = "the location: section of a config file"


def _contents(config_files: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    """(origin, top-level mapping) of every source the files compose to, in merge order."""
    found = []
    for path in config_files:
        for source in compose(str(path)):
            if isinstance(source, Fragment):
                found.append((source.origin, yaml.safe_load(source.text) or {}))
            else:
                found.append((source, read_config(source)))
    return found


def _generator_node(content: dict[str, Any]) -> Any:
    model = content.get("model")
    if isinstance(model, dict) and isinstance(model.get("init_args"), dict):  # model: {class_path, init_args}
        model = model["init_args"]
    return model.get("generator") if isinstance(model, dict) else None


def _build(config_files: Sequence[str], key: str, base: type, pick: Any) -> Any:
    from jsonargparse import ArgumentParser

    contents = _contents(config_files)
    location: dict[str, Any] = {}
    for _, content in contents:
        location.update(content.get("location") or {})
    sections = [pick(content) for _, content in contents]
    sections = [section for section in sections if section is not None]
    if not sections:
        raise UserInputError(f"none of {', '.join(map(str, config_files))} has a {key} section")
    parser = ArgumentParser(exit_on_error=False)
    parser.add_subclass_arguments(base, key, required=True)
    config = None
    for section in sections:
        section = substitute_locations(section, location, LOCATION_HINT)
        # the base namespace goes by position: jsonargparse renamed that parameter (cfg_base → namespace) in 4.50
        config = parser.parse_object({key: section}, config, defaults=config is None)
    return parser.instantiate_classes(config)[key]


def datamodule_from_configs(config_files: Sequence[str]) -> LightningDataModule:
    """The data module of the files' ``data:`` sections (composed and merged as ``inpaint fit`` does)."""
    return _build(config_files, "data", LightningDataModule, lambda content: content.get("data"))


def generator_from_configs(config_files: Sequence[str]) -> nn.Module:
    """The generator of the files' ``model.generator`` sections, freshly initialised (seed the RNG first for the
    same weights every time)."""
    return _build(config_files, "generator", nn.Module, _generator_node)


__all__ = ["datamodule_from_configs", "generator_from_configs"]
