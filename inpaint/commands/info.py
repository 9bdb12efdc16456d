"""``inpaint info``: parameters (total, trainable, Table V's encoder-only) and MACs of a generator config.

Examples::

    inpaint info --preset official --size paper --resolution 256
    inpaint info --variant Baseline --size small --resolution 64 --json
    inpaint info --config experiments/model/tsgl.yaml           # LightningCLI YAML or bare generator args
    inpaint info --preset paper --size small --bench --batch 8 --out results/info.json
    inpaint info --config experiments/model/ours_lama.yaml --resolution 512   # any host; paper figure beside

Counting runs on PyTorch's ``meta`` device (shapes only, no arithmetic), so 512² paper-width models take seconds;
a generator whose forward needs real values falls back to the CPU. Where the TSGL paper publishes a figure for
the generator (Table III: HiFill, LaMa, Ours(LaMa) at 512²; Table V: TSGL at 256²) it is printed beside ours; the
paper's "FLOPs" count one multiply-add as one operation, so they compare with our MACs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

from inpaint.models.complexity import count_parameters, generator_macs

DEFAULT_CLASS = "inpaint.models.generators.tsgl.TSGLGenerator"


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The generator-selection flags shared by ``info`` and ``bench``."""
    parser.add_argument("--config", type=Path, help="YAML: LightningCLI config (model.init_args.generator) "
                        "or a generator spec (class_path/init_args, or bare init args)")
    parser.add_argument("--variant", help="TSGL variant, e.g. '2Global(Local)->Global(Local)' (default) or 'Baseline'")
    parser.add_argument("--preset", choices=["paper", "official"], help="paper (default) or official")
    parser.add_argument("--size", choices=["paper", "small"], help="width profile (default paper)")
    parser.add_argument("--resolution", type=str, default="256", help="H or HxW (default 256)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="extra generator init arg (YAML value), repeatable, e.g. --set tau=50")


def parse_resolution(text: str) -> tuple[int, int]:
    parts = text.lower().replace("×", "x").split("x")
    try:
        sizes = [int(p) for p in parts]
    except ValueError as err:
        raise SystemExit(f"--resolution must be H or HxW, got {text!r}") from err
    if len(sizes) == 1:
        sizes = sizes * 2
    if len(sizes) != 2 or min(sizes) < 1:
        raise SystemExit(f"--resolution must be H or HxW with positive sizes, got {text!r}")
    return sizes[0], sizes[1]


def _load_yaml(path: Path) -> dict[str, Any]:
    import yaml

    if not path.is_file():
        raise SystemExit(f"--config: file not found: {path}")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise SystemExit(f"--config {path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def generator_spec(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """(class path, init args) from --config and the flags (flags win)."""
    import yaml

    class_path, init_args = DEFAULT_CLASS, {}
    if args.config is not None:
        data = _load_yaml(args.config)
        node: Any = data
        for key in ("model", "init_args", "generator"):
            if isinstance(node, dict) and key in node:
                node = node[key]
        if isinstance(node, dict) and "class_path" in node:
            class_path = node["class_path"]
            init_args = dict(node.get("init_args") or {})
        elif isinstance(node, dict):
            init_args = {k: v for k, v in node.items() if k not in ("model", "trainer", "data")}
        else:
            raise SystemExit(f"--config {args.config}: no generator found (expected model.init_args.generator)")
    for key in ("variant", "preset", "size"):
        value = getattr(args, key, None)
        if value is not None:
            init_args[key] = value
    for item in args.set:
        if "=" not in item:
            raise SystemExit(f"--set expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        init_args[key.strip()] = yaml.safe_load(value)
    return class_path, init_args


def build_generator(class_path: str, init_args: dict[str, Any]) -> nn.Module:
    module_name, _, cls_name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), cls_name)
    except (ImportError, AttributeError) as err:
        raise SystemExit(f"cannot import generator class {class_path!r}: {err}") from err
    try:
        return cls(**init_args)
    except TypeError as err:
        raise SystemExit(f"bad init args for {class_path}: {err}") from err


def example_inputs(batch: int, height: int, width: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random inputs with the generator contract's shapes and ranges (about 30 % holes)."""
    g = torch.Generator().manual_seed(seed)
    return {
        "image": torch.rand(batch, 3, height, width, generator=g) * 2 - 1,
        "mask": (torch.rand(batch, 1, height, width, generator=g) > 0.3).float(),
        "edge": (torch.rand(batch, 1, height, width, generator=g) > 0.85).float(),
        "gray": torch.rand(batch, 1, height, width, generator=g),
        "smooth": torch.rand(batch, 3, height, width, generator=g) * 2 - 1,
    }


def meta_inputs(height: int, width: int) -> dict[str, torch.Tensor]:
    """Contract-shaped inputs on the ``meta`` device (counting needs shapes only)."""
    with torch.device("meta"):
        return {"image": torch.zeros(1, 3, height, width), "mask": torch.ones(1, 1, height, width),
                "edge": torch.zeros(1, 1, height, width), "gray": torch.zeros(1, 1, height, width),
                "smooth": torch.zeros(1, 3, height, width)}


def count_generator(class_path: str, init_args: dict[str, Any], height: int, width: int) -> dict[str, Any]:
    """:func:`model_info` of the generator built on the ``meta`` device; on the CPU if its forward needs values."""
    try:
        with torch.device("meta"):
            generator = build_generator(class_path, init_args)
        return model_info(generator, height, width, inputs=meta_inputs(height, width))
    except (NotImplementedError, RuntimeError):  # data-dependent ops (e.g. .item()) cannot run on meta
        return model_info(build_generator(class_path, init_args), height, width)


def inference_complexity(info: dict[str, Any]) -> tuple[int, int]:
    """(params, MACs) of the inference network, i.e. without the auxiliary edge decoder D_S, as the paper counts."""
    aux_params = info["params"]["by_part"].get("aux_decoder", 0)
    return info["params"]["total"] - aux_params, info["macs"]["without_aux_decoder"]


def paper_comparison(info: dict[str, Any]) -> str:
    """One line: our inference params / MACs next to the paper's published figure for this generator class."""
    from inpaint.report.paper.complexity import ENCODER_ONLY_SOURCES, PAPER_COMPLEXITY, PAPER_FLOPS_CONVENTION

    params, macs = inference_complexity(info)
    figure = PAPER_COMPLEXITY.get(info["generator"])
    scope = "without D_S"
    if figure is not None and figure[3] in ENCODER_ONLY_SOURCES and info["params"].get("encoder_only"):
        params, scope = info["params"]["encoder_only"], "params encoder-only as in Table V; MACs without D_S"
    ours = f"ours {params / 1e6:.2f} M params, {macs / 1e9:.1f} G MACs ({scope})"
    if figure is None:
        return f"  paper: n/a (the TSGL paper reports no Params/FLOPs for {info['generator']}); {ours}"
    p_params, p_flops, p_res, source = figure
    text = (f"  paper ({source}, {p_res}×{p_res}): {p_params / 1e6:.1f} M params, "
            f"{p_flops / 1e9:.1f} G \"FLOPs\" ({PAPER_FLOPS_CONVENTION.get(info['generator'], 'as published')}); "
            f"{ours}")
    if tuple(info["resolution"]) == (p_res, p_res):
        text += f"; ratio ours/paper: params {params / p_params:.3f}, MACs {macs / p_flops:.3f}"
    else:
        text += f" — MACs not comparable: run with --resolution {p_res}"
    return text


def model_info(generator: nn.Module, height: int, width: int,
               inputs: dict[str, torch.Tensor] | None = None) -> dict[str, Any]:
    """Parameter counts and inference MACs (batch 1), with and without the auxiliary decoder."""
    params = count_parameters(generator)
    inputs = example_inputs(1, height, width) if inputs is None else inputs
    total, per_module = generator_macs(generator, inputs, depth=2)
    top = type(generator).__name__
    parts = {name[len(top) + 1:]: macs for name, macs in per_module.items() if name.startswith(top + ".")}
    aux = parts.get("aux_decoder", 0)
    return {
        "generator": top,
        "resolution": [height, width],
        "params": params.as_dict(),
        "macs": {"total": total, "without_aux_decoder": total - aux, "by_part": parts},
        "gmacs": round(total / 1e9, 3),
        "gmacs_inference": round((total - aux) / 1e9, 3),
    }


def format_info(info: dict[str, Any], label: str) -> str:
    p, m = info["params"], info["macs"]
    lines = [
        f"{label} @ {info['resolution'][0]}×{info['resolution'][1]}",
        f"  params: total {p['total'] / 1e6:.3f} M, trainable {p['trainable'] / 1e6:.3f} M"
        + (f", encoder-only (Table V) {p['encoder_only'] / 1e6:.3f} M" if p.get("encoder_only") else ""),
        "  params by part: " + ", ".join(f"{k} {v / 1e6:.3f} M" for k, v in p["by_part"].items()),
        f"  MACs (batch 1, 1 MAC = 2 FLOP): total {m['total'] / 1e9:.2f} G, "
        f"inference without aux decoder {m['without_aux_decoder'] / 1e9:.2f} G",
        "  MACs by part: " + ", ".join(f"{k} {v / 1e9:.2f} G" for k, v in m["by_part"].items()),
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="inpaint info", description=__doc__.splitlines()[0])
    add_model_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    parser.add_argument("--bench", action="store_true", help="also time forward / G+D step (see inpaint bench)")
    parser.add_argument("--batch", type=int, default=1, help="batch for --bench")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    height, width = parse_resolution(args.resolution)
    class_path, init_args = generator_spec(args)
    info = count_generator(class_path, init_args, height, width)
    info["inference"] = dict(zip(("params", "macs"), inference_complexity(info)))
    info["paper_comparison"] = paper_comparison(info).strip()
    info["class_path"], info["init_args"] = class_path, init_args
    if args.bench:
        from inpaint.commands.bench import benchmark

        info["bench"] = benchmark(class_path, init_args, height, width, args.batch)
    label = f"{class_path.rpartition('.')[2]}({', '.join(f'{k}={v!r}' for k, v in init_args.items())})"
    print(json.dumps(info, indent=2) if args.json else format_info(info, label) + "\n" + paper_comparison(info))
    if args.bench and not args.json:
        print("  bench: " + json.dumps(info["bench"]))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
