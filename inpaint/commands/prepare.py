"""``inpaint prepare --data <folder> --smoothing l0``: precompute the smoothed texture prior into the cache.

Each image is read once, hashed (SHA-256 of its bytes), brought to its layout's canonical geometry for the chosen
crop size, smoothed and stored atomically (see :mod:`inpaint.data.cache`). Entries already present are skipped, so
an interrupted run is simply started again. The DataModule then crops the cached image exactly like the photo.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from inpaint.data import layouts
from inpaint.data.cache import SmoothingCache, default_cache_dir
from inpaint.data.image_io import (
    UnreadableImageError,
    content_hash,
    decode_rgb,
    list_image_files,
    read_file_bytes,
)
from inpaint.data.masks import normalize_resolution
from inpaint.data.smoothing import L0_BOUNDARIES, smooth_image, smoothing_parameters


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inpaint prepare", description=__doc__.splitlines()[0].strip("`"))
    parser.add_argument("--data", required=True, help="folder of images (searched recursively)")
    parser.add_argument("--smoothing", choices=("l0", "rtv"), default="l0", help="smoother (default: l0)")
    parser.add_argument("--cache-dir", default=None, help="cache folder (default: <data>/.inpaint_cache)")
    parser.add_argument("--layout", choices=layouts.LAYOUTS, default="plain", help="geometry preset (default: plain)")
    parser.add_argument("--resolution", type=int, nargs="+", default=[256],
                        help="crop size: one int or H W, as the DataModule's resolution (default: 256)")
    parser.add_argument("--l0-boundary", choices=L0_BOUNDARIES, default="symmetric")
    parser.add_argument("--alpha", choices=("white", "drop"), default="white")
    parser.add_argument("--skip-corrupt", action="store_true", help="skip undecodable files instead of stopping")
    parser.add_argument("--limit", type=int, default=None, help="process at most this many files (for a trial run)")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    height, width = normalize_resolution(args.resolution[0] if len(args.resolution) == 1 else args.resolution, 32)
    root = Path(args.data)
    try:
        files = list_image_files(root, "images")
    except (FileNotFoundError, NotADirectoryError) as err:
        print(f"inpaint prepare: {err}", file=sys.stderr)
        return 2
    files = files[: args.limit] if args.limit else files
    parameters: dict[str, object] = dict(smoothing_parameters(args.smoothing))
    if args.smoothing == "l0":
        parameters["boundary"] = args.l0_boundary
    cache_root = Path(args.cache_dir) if args.cache_dir else default_cache_dir(root)
    cache = SmoothingCache(cache_root, args.smoothing, parameters, layouts.cache_policy(args.layout, height, width))
    done = skipped = 0
    corrupt: list[str] = []

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("[bold]prepare[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    with Progress(*columns, transient=False) as progress:
        task = progress.add_task(f"{args.smoothing} → {cache.folder}", total=len(files))
        for path in files:
            try:
                data = read_file_bytes(path)
                key = content_hash(data)
                if cache.path_for(key).is_file():
                    skipped += 1
                else:
                    rgb = decode_rgb(data, path, args.alpha)
                    full = layouts.canonical(rgb, args.layout, height, width)
                    image01 = full.astype(np.float32) / 255.0
                    cache.put(key, smooth_image(image01, args.smoothing, args.l0_boundary))
                    done += 1
            except UnreadableImageError as err:
                if not args.skip_corrupt:
                    progress.stop()
                    print(f"inpaint prepare: {err}", file=sys.stderr)
                    return 1
                corrupt.append(str(path))
            progress.advance(task)
    print(f"inpaint prepare: {done} computed, {skipped} already cached, {len(corrupt)} corrupt skipped "
          f"→ {cache.folder}")
    for path in corrupt[:10]:
        print(f"  corrupt: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
