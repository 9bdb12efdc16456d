"""``inpaint evaluate --pred <dir> --gt <dir> [--masks <dir>]``: score any folder of results with the protocol.

Predictions, ground truth and masks pair by file name (without extension); a missing or extra file stops the run
and names the file. With masks, the composite gt·M + pred·(1−M) is scored (so raw outputs of other systems are
composited exactly as ours are) and the prediction as given is the secondary "raw" column; each image lands in the
hole-ratio buckets of its mask. Without masks, the predictions are scored as given, over whole images, in one
bucket "all".
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import numpy as np

from inpaint.data.buckets import LAMA_KINDS, SCHEMES, ClosedSide, mask_kind_from_name
from inpaint.errors import UserInputError
from inpaint.metrics.collection import InpaintingMetrics
from inpaint.metrics.folders import ImagePair, PairingError, pair_folders, read_known_mask, read_rgb, score_uint8
from inpaint.metrics.image_quality import SSIMWindow
from inpaint.metrics.lpips import LPIPSNet
from inpaint.metrics.options import MetricOptions
from inpaint.metrics.results import MetricsReport, print_report, write_csv, write_json


def build_parser() -> argparse.ArgumentParser:
    defaults = MetricOptions()
    parser = argparse.ArgumentParser(prog="inpaint evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pred", required=True, help="folder of predictions (composited or raw)")
    parser.add_argument("--gt", required=True, help="folder of ground-truth images")
    parser.add_argument("--masks", default=None, help="folder of masks (same names); omit for whole-image metrics")
    parser.add_argument("--mask-hole-value", choices=("white", "black"), default="white",
                        help="which mask colour marks the hole (default white, NVIDIA/LaMa files)")
    parser.add_argument("--alpha", choices=("white", "drop"), default="white",
                        help="images with transparency: composite on white (default, as training) or drop alpha")
    parser.add_argument("--mask-kind", default="auto", choices=("auto", "none", *LAMA_KINDS),
                        help="LaMa kind of every mask; 'auto' reads thin/medium/thick from the mask path")
    parser.add_argument("--out", default=None, help="folder for metrics.json and metrics.csv")
    parser.add_argument("--schemes", default=",".join(defaults.schemes),
                        help=f"bucket schemes, from {','.join(SCHEMES)}")
    parser.add_argument("--closed", choices=get_args(ClosedSide), default=defaults.closed,
                        help="closed side of ratio buckets")
    parser.add_argument("--ssim-window", choices=get_args(SSIMWindow), default=defaults.ssim_window)
    parser.add_argument("--lpips-net", choices=(*get_args(LPIPSNet), "none"), default=defaults.lpips_net or "none")
    parser.add_argument("--no-fid", action="store_true", help="skip FID")
    parser.add_argument("--no-raw", action="store_true", help="skip the raw-prediction column")
    parser.add_argument("--no-raw-fid", action="store_true", help="raw column without FID (a third less Inception)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--device", default="cpu")
    return parser  # fmt: skip


def options_from_args(args: argparse.Namespace) -> MetricOptions:
    """The scoring options of a parsed command line."""
    return MetricOptions(
        schemes=tuple(s.strip() for s in args.schemes.split(",") if s.strip()), closed=args.closed,
        ssim_window=args.ssim_window, lpips_net=None if args.lpips_net == "none" else args.lpips_net,
        fid=not args.no_fid, raw=not args.no_raw, raw_fid=not args.no_raw_fid,
    )  # fmt: skip


def _load_pair(pair: ImagePair, hole_value: str, alpha: str = "white"
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:  # fmt: skip
    gt = read_rgb(pair.gt, alpha)
    pred = read_rgb(pair.pred, alpha)
    if pred.shape != gt.shape:
        raise PairingError(
            f"{pair.pred} is {pred.shape[1]}×{pred.shape[0]} but {pair.gt} is {gt.shape[1]}×{gt.shape[0]}"
        )
    known = None
    if pair.mask is not None:
        known = read_known_mask(pair.mask, hole_value, alpha)
        if known.shape != gt.shape[:2]:
            raise PairingError(f"mask {pair.mask} is {known.shape[1]}×{known.shape[0]} but {pair.gt} is "
                               f"{gt.shape[1]}×{gt.shape[0]}")  # fmt: skip
    return gt, pred, known


def _kind_of(pair: ImagePair, choice: str, masks_dir: str | None) -> str | None:
    if choice == "none" or pair.mask is None:
        return None
    if choice != "auto":
        return choice
    return mask_kind_from_name(f"{Path(masks_dir or '').name}/{pair.key}")


def evaluate_folders(
    pred: str,
    gt: str,
    masks: str | None = None,
    mask_hole_value: str = "white",
    mask_kind: str = "auto",
    options: MetricOptions | None = None,
    batch_size: int = 16,
    device: str = "cpu",
    metrics: InpaintingMetrics | None = None,
    alpha: str = "white",
    **option_changes: Any,
) -> MetricsReport:
    """Score a prediction folder against a ground-truth folder (the library form of the command).

    ``options`` (default :class:`MetricOptions`), with single fields also given as keywords
    (``evaluate_folders(pred, gt, fid=False)``). Without masks there are no buckets and no raw column.
    """
    from rich.progress import track

    pairs = pair_folders(pred, gt, masks)
    if metrics is None:
        chosen = (options or MetricOptions()).updated(option_changes)
        if not masks:
            chosen = chosen.updated({"schemes": (), "raw": False})
        metrics = InpaintingMetrics(chosen)

    def samples() -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, str | None]]:
        for pair in track(pairs, description="evaluating", transient=True):
            gt_img, pred_img, known = _load_pair(pair, mask_hole_value, alpha)
            if known is None:  # no mask: the whole prediction is the result → an all-hole mask makes composite = pred
                known = np.zeros(gt_img.shape[:2], dtype=np.float32)
            yield gt_img, pred_img, known, _kind_of(pair, mask_kind, masks)

    score_uint8(metrics, samples(), batch_size, device)
    report = metrics.compute()
    report.protocol["pred_dir"] = str(pred)
    report.protocol["gt_dir"] = str(gt)
    report.protocol["masks_dir"] = str(masks) if masks else None
    if not masks:
        report.protocol["image"] = "predictions as given (no masks: whole-image metrics, bucket 'all' only)"
    else:
        report.protocol["mask_hole_value"] = mask_hole_value
    return report


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        report = evaluate_folders(args.pred, args.gt, args.masks, args.mask_hole_value, args.mask_kind,
                                  options_from_args(args), args.batch_size, args.device, alpha=args.alpha)  # fmt: skip
    except (PairingError, UserInputError) as err:
        print(f"inpaint evaluate: error: {err}", file=sys.stderr)
        return 2
    print_report(report)
    if args.out:
        out = Path(args.out)
        print(f"wrote {write_json(report, out / 'metrics.json')} and {write_csv(report, out / 'metrics.csv')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
