"""Config composition: what happens to the YAML files before the config parser reads them.

A named run is a short file that lists the files it builds on under ``defaults:``; composing a ``--config FILE``
yields the config sources to hand the parser, in merge order (later sources override earlier ones):

* ``defaults:`` — files named relative to the file listing them, composed recursively and merged *before* it;
  an entry starting with ``?`` is skipped when the file is missing (e.g. an optional ``location.yaml``);
  a cycle is an error that names the chain.

Each step is a :data:`CompositionPass`: it reads one file's parsed content and returns the sources to merge
before that file — paths (composed recursively) or :class:`Fragment` (YAML text, merged as given). A new top-level
key that stands for other config (say, a named preset) is one more function in :data:`COMPOSITION_PASSES`.

* ``preset: <name>`` — the run preset file ``inpaint/config/presets/<name>.yaml`` (generator preset, loss preset,
  LR schedule, smoothing), merged after the ``defaults:`` and before the file that names it, so the file's own
  values and everything after it override the preset; :func:`preset_deviations` lists what they overrode.
  ``--preset <name>`` on the command line does the same after the ``--config`` files before it.

After parsing, ``${location.<key>}`` references are filled from the ``location:`` section
(:func:`substitute_locations`), so machine-specific paths live in one overlay file.

Pure Python + PyYAML: no Lightning, no torch, no jsonargparse.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from inpaint.errors import MissingPathError, UserInputError

LOCATION_REF = re.compile(r"\$\{location\.([A-Za-z0-9_\-]+)\}")
OPTIONAL_PREFIX = "?"


@dataclass(frozen=True)
class Fragment:
    """Config given as YAML text instead of a file; ``origin`` names where it came from (for messages)."""

    text: str
    origin: str


Source = str | Fragment
#: ``(path of a config file, its parsed top-level mapping) → sources merged before that file``.
CompositionPass = Callable[[str, dict[str, Any]], list[Source]]


def read_config(path: str) -> dict[str, Any]:
    """Parse one config file into its top-level mapping; an empty file or one that is not a mapping is refused."""
    if not os.path.isfile(path):
        raise MissingPathError(f"config file not found: {path}")
    with open(path) as handle:
        try:
            content = yaml.safe_load(handle)
        except yaml.YAMLError as err:
            raise UserInputError(f"{path} is not valid YAML: {str(err).splitlines()[0]}") from err
    if not isinstance(content, dict):
        what = "is empty" if content is None else f"holds a {type(content).__name__}, not a mapping"
        raise UserInputError(f"config file {path} {what}: a config maps keys to values (model:, data:, trainer:, "
                             "run:, defaults: …), e.g. experiments/runs/smoke_cpu.yaml")
    return content


def defaults_pass(path: str, content: dict[str, Any]) -> list[Source]:
    """The files listed under ``defaults:``, relative to ``path``; missing ``?``-entries are left out."""
    files: list[Source] = []
    for entry in content.get("defaults") or []:
        text = str(entry)
        target = os.path.join(os.path.dirname(path), text.removeprefix(OPTIONAL_PREFIX).strip())
        if text.startswith(OPTIONAL_PREFIX) and not os.path.isfile(target):
            continue
        files.append(target)
    return files


PRESET_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "presets")


def preset_names() -> list[str]:
    """The run presets shipped with the suite (``inpaint/config/presets/*.yaml``)."""
    return sorted(name.removesuffix(".yaml") for name in os.listdir(PRESET_DIR) if name.endswith(".yaml"))


def preset_fragment(name: str, origin: str) -> Fragment:
    """The run preset ``name`` as a config source; ``origin`` says who asked for it (for the error message)."""
    path = os.path.join(PRESET_DIR, f"{name}.yaml")
    if not isinstance(name, str) or not os.path.isfile(path):
        raise UserInputError(f"{origin}: unknown preset {name!r}; choose one of {preset_names()}")
    with open(path) as handle:
        return Fragment(handle.read(), f"preset {name}")


def preset_pass(path: str, content: dict[str, Any]) -> list[Source]:
    """The run preset a file names with ``preset: <name>``."""
    name = content.get("preset")
    return [] if name is None else [preset_fragment(name, path)]


def flatten(config: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}`` (lists and scalars are leaves)."""
    if not isinstance(config, dict):
        return {prefix: config}
    flat: dict[str, Any] = {}
    for key, value in config.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def preset_deviations(name: str, resolved: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``{dotted key: (preset value, resolved value)}`` for each key of preset ``name`` that ``resolved`` (the parsed
    config as plain nested dicts) sets differently. A key the config does not have at all (e.g. ``data.init_args``
    of a data module without ``smoothing``) counts as overridden too: the preset's value did not take effect."""
    wanted = flatten(yaml.safe_load(preset_fragment(name, "preset").text))
    got = flatten(resolved)
    missing = object()
    return {key: (value, got.get(key)) for key, value in wanted.items() if got.get(key, missing) != value}


#: The passes run on every config file, in order; each one's sources are merged before the file itself.
COMPOSITION_PASSES: list[CompositionPass] = [defaults_pass, preset_pass]


def compose(path: str, passes: list[CompositionPass] | None = None, _chain: tuple[str, ...] = ()) -> list[Source]:
    """All sources that ``--config path`` stands for, in merge order, ending with ``path`` itself."""
    real = os.path.realpath(path)
    if real in _chain:
        raise UserInputError(f"config 'defaults' form a cycle: {' -> '.join((*_chain, real))}")
    content = read_config(path)
    sources: list[Source] = []
    for step in COMPOSITION_PASSES if passes is None else passes:
        for source in step(path, content):
            if isinstance(source, Fragment):
                sources.append(source)
            else:
                sources += compose(source, passes, (*_chain, real))
    return [*sources, path]


def expand_defaults(argv: list[str], passes: list[CompositionPass] | None = None) -> list[str]:
    """``argv`` with every ``--config FILE`` replaced by the ``--config`` entries of its composition."""
    expanded: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--config" and i + 1 < len(argv):
            path, i = argv[i + 1], i + 2
        elif arg.startswith("--config="):
            path, i = arg.split("=", 1)[1], i + 1
        elif arg == "--preset" and i + 1 < len(argv) or arg.startswith("--preset="):
            name = arg.split("=", 1)[1] if "=" in arg else argv[i + 1]
            expanded += ["--config", preset_fragment(name, "--preset").text, "--preset", name]
            i += 1 if "=" in arg else 2
            continue
        else:
            expanded.append(arg)
            i += 1
            continue
        for source in compose(path, passes):
            expanded += ["--config", source.text if isinstance(source, Fragment) else source]
    return expanded


def substitute_locations(value: Any, location: dict[str, str | None], location_hint: str) -> Any:
    """Replace ``${location.<key>}`` in every string of a nested config value.

    Dicts and lists are rebuilt; other mappings with item assignment (the parser's namespaces) are filled in
    place. A reference to a key that is missing or empty raises :class:`UserInputError` naming ``location_hint``.
    """
    if isinstance(value, dict):
        return {k: substitute_locations(v, location, location_hint) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute_locations(v, location, location_hint) for v in value]
    if isinstance(value, str):
        return LOCATION_REF.sub(lambda match: _location(match.group(1), location, location_hint), value)
    if hasattr(value, "keys") and hasattr(value, "__setitem__"):
        for key in list(value.keys()):
            value[key] = substitute_locations(value[key], location, location_hint)
    return value


def _location(key: str, location: dict[str, str | None], location_hint: str) -> str:
    path = location.get(key)
    if path in (None, ""):
        raise UserInputError(
            f"the config refers to ${{location.{key}}} but no path is set for '{key}': add "
            f"'location: {{{key}: /path/to/it}}' to {location_hint} (copy experiments/location.example.yaml)"
        )
    return str(path)


__all__ = [
    "COMPOSITION_PASSES", "CompositionPass", "Fragment", "LOCATION_REF", "PRESET_DIR", "Source", "compose",
    "defaults_pass", "expand_defaults", "flatten", "preset_deviations", "preset_fragment", "preset_names",
    "preset_pass", "read_config", "substitute_locations",
]
