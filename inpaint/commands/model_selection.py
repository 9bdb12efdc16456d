"""The generator-selection flags shared by ``inpaint info`` and ``inpaint bench``, and what they resolve to."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from inpaint.errors import UserInputError
from inpaint.models.presets import PRESETS

DEFAULT_CLASS = "inpaint.models.generators.tsgl.TSGLGenerator"


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--config``, ``--variant``, ``--preset``, ``--size``, ``--resolution`` and ``--set`` to ``parser``."""
    parser.add_argument("--config", type=Path, help="YAML: LightningCLI config (model.init_args.generator) "
                        "or a generator spec (class_path/init_args, or bare init args)")
    parser.add_argument("--variant", help="TSGL variant, e.g. '2Global(Local)->Global(Local)' (default) or 'Baseline'")
    parser.add_argument("--preset", choices=sorted(PRESETS), help="paper (default), official or official_exact")
    parser.add_argument("--size", choices=["paper", "small"], help="width profile (default paper)")
    parser.add_argument("--resolution", type=str, default="256", help="H or HxW (default 256)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="extra generator init arg (YAML value), repeatable; dots reach into nested "
                        "options, e.g. --set encoder_options.tau=50")


def parse_resolution(text: str) -> tuple[int, int]:
    """``"256"`` → (256, 256); ``"256x512"`` → (256, 512)."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        sizes = [int(p) for p in parts]
    except ValueError as err:
        raise UserInputError(f"--resolution must be H or HxW, got {text!r}") from err
    if len(sizes) == 1:
        sizes = sizes * 2
    if len(sizes) != 2 or min(sizes) < 1:
        raise UserInputError(f"--resolution must be H or HxW with positive sizes, got {text!r}")
    return sizes[0], sizes[1]


def _load_yaml(path: Path) -> dict[str, Any]:
    """``--config`` as the config parser would see it: the file composed with what it builds on (``defaults:``,
    ``preset:``; :mod:`inpaint.config.compose`), later sources overriding earlier ones key by key."""
    import yaml

    from inpaint.config.compose import Fragment, compose

    if not path.is_file():
        raise UserInputError(f"--config: file not found: {path}")
    merged: dict[str, Any] = {}
    for source in compose(str(path)):
        text = source.text if isinstance(source, Fragment) else Path(source).read_text()
        data = yaml.safe_load(text) or {}
        if not isinstance(data, dict):
            where = source.origin if isinstance(source, Fragment) else source
            raise UserInputError(f"--config {where}: expected a mapping at the top level, got {type(data).__name__}")
        _merge_into(merged, {k: v for k, v in data.items() if k not in ("defaults", "preset")})
    return merged


def _merge_into(base: dict[str, Any], update: dict[str, Any]) -> None:
    """Nested mappings merge key by key; anything else (lists included) is replaced."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge_into(base[key], value)
        else:
            base[key] = value


def _model_node(data: dict[str, Any]) -> dict[str, Any]:
    """The ``model`` mapping of a LightningCLI config (``model.init_args`` when it has a class path), else {}."""
    model = data.get("model")
    if isinstance(model, dict) and isinstance(model.get("init_args"), dict):
        model = model["init_args"]
    return model if isinstance(model, dict) else {}


def training_spec(
    args: argparse.Namespace,
) -> tuple[tuple[str, dict[str, Any]] | Literal["none"] | None, dict[str, Any] | str | None]:
    """The discriminator (class path, init args; ``"none"`` where the config trains without one) and the losses (a
    mapping or a preset name) that ``--config``'s model section trains with; None for what it does not name
    (``--size small`` does not narrow them)."""
    if args.config is None:
        return None, None
    model = _model_node(_load_yaml(args.config))
    node = model.get("discriminator")
    discriminator: tuple[str, dict[str, Any]] | Literal["none"] | None = None
    if "discriminator" in model and node is None:
        discriminator = "none"
    elif isinstance(node, dict) and "class_path" in node:
        discriminator = (str(node["class_path"]), dict(node.get("init_args") or {}))
    losses = model.get("losses")
    return discriminator, losses if isinstance(losses, (dict, str)) else None


def generator_spec(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """(class path, init args) from --config and the flags (flags win)."""
    class_path, init_args = DEFAULT_CLASS, {}
    if args.config is not None:
        data = _load_yaml(args.config)
        node: Any = data
        for key in ("model", "init_args", "generator"):
            if isinstance(node, dict) and key in node:
                inner = node[key]
                if key == "init_args" and not (isinstance(inner, dict) and "generator" in inner):
                    break  # a generator spec's own init args, not a LightningModule's
                node = inner
        if isinstance(node, dict) and "class_path" in node:
            class_path = node["class_path"]
            init_args = dict(node.get("init_args") or {})
        elif isinstance(node, dict):
            init_args = {k: v for k, v in node.items() if k not in ("model", "trainer", "data")}
        else:
            raise UserInputError(f"--config {args.config}: no generator found (expected model.init_args.generator)")
    for key in ("variant", "preset", "size"):
        value = getattr(args, key, None)
        if value is not None:
            init_args[key] = value
    return class_path, apply_set(init_args, args.set)


def apply_set(init_args: dict[str, Any], items: Sequence[str]) -> dict[str, Any]:
    """``init_args`` with each ``KEY=VALUE`` of ``--set`` applied in order (a YAML value; dots reach into nested
    options), as a new mapping: the nested mappings it changes are copied, ``init_args`` itself is left alone."""
    import yaml

    init_args = dict(init_args)
    for item in items:
        if "=" not in item:
            raise UserInputError(f"--set expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        *parents, leaf = key.strip().split(".")
        node = init_args
        for part in parents:
            child = node.get(part)
            node[part] = child = dict(child) if isinstance(child, dict) else {}
            node = child
        node[leaf] = yaml.safe_load(value)
    return init_args
