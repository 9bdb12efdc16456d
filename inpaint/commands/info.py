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
import json
import sys
from pathlib import Path
from typing import Any

import torch

from inpaint.commands.model_selection import add_model_arguments, generator_spec, parse_resolution
from inpaint.errors import UserInputError
from inpaint.models.complexity import count_generator, inference_complexity


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
    try:
        height, width = parse_resolution(args.resolution)
        class_path, init_args = generator_spec(args)
        info = count_generator(class_path, init_args, height, width)
    except UserInputError as err:
        print(f"inpaint info: {err}", file=sys.stderr)
        return 2
    info["inference"] = dict(zip(("params", "macs"), inference_complexity(info)))
    info["paper_comparison"] = paper_comparison(info).strip()
    info["class_path"], info["init_args"] = class_path, init_args
    if args.bench:
        from inpaint.lit.step_bench import benchmark

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
