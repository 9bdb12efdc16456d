"""``inpaint export --ckpt RUN/checkpoints/last.ckpt --out model.pt``: generator-only weights for inference.

``inpaint export --config experiments/model/telea.yaml --out telea.pt`` writes a generator that needs no training
(the classical OpenCV inpainters: no weights) from its config, for ``inpaint predict``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inpaint.commands.console import one_line_warnings
from inpaint.commands.model_selection import generator_spec
from inpaint.errors import UserInputError
from inpaint.lit.export import ExportError, export_generator, export_untrained


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="inpaint export", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--ckpt", help="an InpaintingGAN Lightning checkpoint (.ckpt)")
    source.add_argument("--config", type=Path, help="a model config of a generator without weights (e.g. "
                        "experiments/model/telea.yaml): nothing to train, so nothing to load")
    parser.add_argument("--out", required=True, help="where to write the generator weights (.pt; a .yaml is added)")
    parser.add_argument("--no-ema", action="store_true", help="export the raw generator even when an EMA copy exists")
    args = parser.parse_args(argv)
    try:
        if args.config is not None:
            class_path, init_args = generator_spec(argparse.Namespace(config=args.config, set=[]))
            export_untrained({"class_path": class_path, "init_args": init_args}, args.out)
            print(f"wrote {class_path.rpartition('.')[2]}({init_args}) from {args.config} to {args.out} (+ .sha256, "
                  ".yaml); it has no weights and runs at each image's own size: inpaint predict --ckpt "
                  f"{args.out} …")
            return 0
        with one_line_warnings("inpaint export"):
            meta = export_generator(args.ckpt, args.out, use_ema=not args.no_ema)
    except (ExportError, UserInputError, FileNotFoundError) as err:
        print(f"inpaint export: error: {err}", file=sys.stderr)
        return 2
    kind = "EMA generator" if meta["ema"] else "generator"
    print(f"wrote {kind} of {args.ckpt} (step {meta['global_step']}) to {args.out} (+ .sha256, .yaml); load it with "
          f"inpaint.lit.export.load_generator({args.out!r})")
    return 0
