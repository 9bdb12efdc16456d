"""``inpaint export --ckpt RUN/checkpoints/last.ckpt --out model.pt``: generator-only weights for inference."""

from __future__ import annotations

import argparse
import sys

from inpaint.commands.console import one_line_warnings
from inpaint.errors import UserInputError
from inpaint.lit.export import ExportError, export_generator


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="inpaint export", description=__doc__)
    parser.add_argument("--ckpt", required=True, help="an InpaintingGAN Lightning checkpoint (.ckpt)")
    parser.add_argument("--out", required=True, help="where to write the generator weights (.pt; a .yaml is added)")
    parser.add_argument("--no-ema", action="store_true", help="export the raw generator even when an EMA copy exists")
    args = parser.parse_args(argv)
    try:
        with one_line_warnings("inpaint export"):
            meta = export_generator(args.ckpt, args.out, use_ema=not args.no_ema)
    except (ExportError, UserInputError, FileNotFoundError) as err:
        print(f"inpaint export: error: {err}", file=sys.stderr)
        return 2
    kind = "EMA generator" if meta["ema"] else "generator"
    print(f"wrote {kind} of {args.ckpt} (step {meta['global_step']}) to {args.out} (+ .sha256, .yaml); load it with "
          f"inpaint.lit.export.load_generator({args.out!r})")
    return 0
