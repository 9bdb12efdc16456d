"""Config composition: what happens to the YAML files before the config parser reads them.

A named run is a short file that lists the files it builds on under ``defaults:``; composing a ``--config FILE``
yields the config sources to hand the parser, in merge order (later sources override earlier ones):

* ``defaults:`` — files named relative to the file listing them, composed recursively and merged *before* it;
  an entry starting with ``?`` is skipped when the file is missing (e.g. an optional ``location.yaml``);
  a cycle is an error that names the chain.

Each step is a :data:`CompositionPass`: it reads one file's parsed content and returns the sources to merge
before that file — paths (composed recursively) or :class:`Fragment` (YAML text, merged as given). A new top-level
key that stands for other config (say, a named preset) is one more function in :data:`COMPOSITION_PASSES`.

After parsing, ``${location.<key>}`` references are filled from the ``location:`` section
(:func:`substitute_locations`), so machine-specific paths live in one overlay file.

Pure Python + PyYAML: no Lightning, no torch, no jsonargparse.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Callable

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
    """Parse one config file into its top-level mapping (empty file → ``{}``)."""
    if not os.path.isfile(path):
        raise MissingPathError(f"config file not found: {path}")
    with open(path) as handle:
        try:
            content = yaml.safe_load(handle)
        except yaml.YAMLError as err:
            raise UserInputError(f"{path} is not valid YAML: {str(err).splitlines()[0]}") from err
    return content if isinstance(content, dict) else {}


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


#: The passes run on every config file, in order; each one's sources are merged before the file itself.
COMPOSITION_PASSES: list[CompositionPass] = [defaults_pass]


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
    "COMPOSITION_PASSES", "CompositionPass", "Fragment", "LOCATION_REF", "Source", "compose", "defaults_pass",
    "expand_defaults", "read_config", "substitute_locations",
]
