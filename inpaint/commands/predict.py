"""``inpaint predict --ckpt … --image in.png --mask mask.png --out out.png`` (or ``--images/--masks/--out`` folders).

Fills the hole of images of any size with a trained generator (exported ``.pt`` or Lightning ``.ckpt``) and writes
PNGs of the input's size whose known pixels are the input's, unchanged. Images and masks are read by the suite's one
reader (:mod:`inpaint.data.image_io`: the same conversions as training and ``evaluate``); masks are white-is-hole by
default (``--mask-hole-value black`` flips that) and must have the image's size.

The model works at its training resolution by default (recorded in the export; ``--resolution`` overrides it).
Before an image is decoded, its memory need is estimated from its header and the run is refused with the numbers
when it would not fit (:meth:`inpaint.inference.Predictor.check_fits`); each image prints what runs at which size.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn

from inpaint.commands.console import one_line_warnings
from inpaint.data.image_io import image_size
from inpaint.errors import UserInputError
from inpaint.inference import STRATEGIES, Predictor
from inpaint.metrics.folders import PairingError, list_images, read_known_mask, read_rgb, write_png


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inpaint predict", description=__doc__.split("\n\n")[0],
        epilog="Lightning's predict loop over a data module instead: inpaint predict --config run.yaml "
               "(its options: inpaint predict --config run.yaml --help).",
    )
    parser.add_argument("--ckpt", required=True, help="exported generator (.pt) or Lightning checkpoint (.ckpt)")
    single = parser.add_argument_group("one image")
    single.add_argument("--image", help="input image")
    single.add_argument("--mask", help="mask of the same size (white = hole by default)")
    folder = parser.add_argument_group("folder mode")
    folder.add_argument("--images", help="folder of input images")
    folder.add_argument("--masks", help="folder of masks with the same file names")
    parser.add_argument("--out", required=True, help="output .png (one image) or output folder (folder mode)")
    parser.add_argument("--mask-hole-value", choices=("white", "black"), default="white")
    parser.add_argument("--alpha", choices=("white", "drop"), default="white",
                        help="images with transparency: composite on white (default, as training) or drop alpha")
    parser.add_argument("--strategy", choices=STRATEGIES, default="resize")
    parser.add_argument("--resolution", type=int, default=None,
                        help="model working resolution (default: the checkpoint's, else the image's own size)")
    parser.add_argument("--crop-margin", type=int, default=64, help="context pixels around holes (crop strategy)")
    parser.add_argument("--smoothing", choices=("l0", "rtv", "none"), default=None,
                        help="texture prior for generators that read it (use the one the model was trained with; "
                             "default l0, rtv for preset official_exact)")
    parser.add_argument("--legacy-edge-wrap", action="store_true",
                        help="the official code's uint8 wrap of edge/gray (default on for preset official_exact)")
    parser.add_argument("--device", default="cpu")
    return parser  # fmt: skip


def refuse_overwriting_inputs(out: str, inputs: list[str], folder_mode: bool) -> None:
    """``--out`` must not be an input file, nor (folder mode) an input folder or a folder inside one."""
    target = Path(out).resolve()
    for given in inputs:
        source = Path(given).resolve()
        if target == source:
            raise UserInputError(f"--out {out} is the input {given}: it would be overwritten; write somewhere else")
        if folder_mode and source in target.parents:
            raise UserInputError(f"--out {out} is inside the input folder {given}: results would mix with (and could "
                                 "overwrite) the inputs; write to a folder outside it")  # fmt: skip


def load_model(ckpt: str, device: str) -> tuple[nn.Module, dict[str, Any]]:
    """Generator and its meta data (``resolution`` when known) from a checkpoint; imported lazily."""
    from inpaint.lit.export import load_generator

    return load_generator(ckpt, map_location=device)


def predict_file(predictor: Predictor, image_path: str | Path, mask_path: str | Path, out_path: str | Path,
                 hole_value: str = "white", alpha: str = "white",
                 log: Callable[[str], None] | None = None) -> Path:  # fmt: skip
    """Inpaint one image file with its mask file and save the PNG (known pixels: the reader's RGB view, unchanged).

    The memory estimate is checked from the file's header first (nothing is decoded for an image that would not
    fit); ``log`` receives one line saying what runs at which size."""
    height, width = image_size(image_path)
    estimate = predictor.check_fits(height, width, name=str(image_path))
    if log is not None:
        mh, mw = estimate["model_size"]
        log(f"{image_path}: {width}×{height}, model at up to {mw}×{mh} ({predictor.strategy}), "
            f"about {estimate['total'] / 2**20:.0f} MiB")  # fmt: skip
    image = read_rgb(image_path, alpha)
    known = read_known_mask(mask_path, hole_value, alpha)
    if known.shape != image.shape[:2]:
        raise ValueError(
            f"mask {mask_path} is {known.shape[1]}×{known.shape[0]} but image {image_path} is "
            f"{image.shape[1]}×{image.shape[0]}; give a mask of exactly the image's size"
        )
    return write_png(out_path, predictor(image, known))


def predict_folder(predictor: Predictor, images_dir: str, masks_dir: str, out_dir: str,
                   hole_value: str = "white", alpha: str = "white") -> list[Path]:  # fmt: skip
    """Inpaint every image of a folder with the same-named mask; writes ``<out_dir>/<name>.png``."""
    from rich.progress import track

    images = list_images(images_dir, "image")
    masks = list_images(masks_dir, "mask")
    missing = sorted(set(images) - set(masks))
    if missing:
        raise PairingError(f"no mask for {len(missing)} image(s): {', '.join(images[k].name for k in missing[:10])}")
    written = []
    for key in track(sorted(images), description="inpainting", transient=True):
        written.append(predict_file(predictor, images[key], masks[key], Path(out_dir) / f"{key}.png", hole_value,
                                    alpha))
    return written


def _note(text: str) -> None:
    print(f"inpaint predict: {text}", file=sys.stderr, flush=True)


def working_resolution(requested: int | None, meta: dict[str, Any], ckpt: str) -> int | None:
    """``--resolution``, else the longer side of the recorded training resolution; None (with a note) when the
    weights file records none (exported before it was recorded): the model then runs at each image's size."""
    if requested:
        return requested
    recorded = meta.get("resolution")
    if isinstance(recorded, int):
        return recorded
    if isinstance(recorded, list | tuple) and recorded:
        return max(int(v) for v in recorded)
    if meta.get("untrained"):  # e.g. the classical inpainters (inpaint export --config): no training size exists
        return None
    _note(f"note: {ckpt} records no training resolution (exported before it was recorded): the model runs at each "
          "image's own size; pass --resolution N (its training size) to bound the work")  # fmt: skip
    return None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    one = args.image is not None or args.mask is not None
    many = args.images is not None or args.masks is not None
    if one == many or (one and not (args.image and args.mask)) or (many and not (args.images and args.masks)):
        parser.error("give either --image and --mask, or --images and --masks")
    try:
        with one_line_warnings("inpaint predict"):
            inputs = [args.image, args.mask] if one else [args.images, args.masks]
            refuse_overwriting_inputs(args.out, inputs, folder_mode=not one)
            generator, meta = load_model(args.ckpt, args.device)
            resolution = working_resolution(args.resolution, meta, args.ckpt)
            exact = getattr(generator, "preset", None) == "official_exact"  # the authors' preprocessing too
            predictor = Predictor(generator, resolution=resolution, strategy=args.strategy,
                                  crop_margin=args.crop_margin, smoothing=args.smoothing or ("rtv" if exact else "l0"),
                                  device=args.device, size_multiple=meta.get("size_multiple"),
                                  legacy_edge_wrap=args.legacy_edge_wrap or exact)  # fmt: skip
            if one:
                start = time.perf_counter()
                out = predict_file(predictor, args.image, args.mask, args.out, args.mask_hole_value, args.alpha, _note)
                print(f"wrote {out} ({time.perf_counter() - start:.1f} s)")
            else:
                paths = predict_folder(predictor, args.images, args.masks, args.out, args.mask_hole_value, args.alpha)
                print(f"wrote {len(paths)} PNG file(s) to {args.out}")
    except (FileNotFoundError, ValueError) as err:
        print(f"inpaint predict: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
