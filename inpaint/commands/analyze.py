"""``inpaint analyze``: the paper's feature figures (heat maps, spectrograms, channel entropy, layer-to-layer KL and
the Fig. 12 curves of the reconstructed texture maps) for one or more TSGL-encoder models on the same images.

Examples::

    inpaint analyze --data experiments/data/embedded.yaml --checkpoint Baseline=a.ckpt --checkpoint Ours=b.ckpt \\
        --out results/analyze
    inpaint analyze --data experiments/data/embedded.yaml --trainer experiments/trainer/cpu-small.yaml \\
        --model Ours=experiments/model/tsgl.yaml --out /tmp/look                    # untrained: a quick look
    inpaint analyze --checkpoint Ours=b.ckpt --image photo.png --mask hole.png --out /tmp/photo

Models appear in the figures in the order given (one row each). ``--checkpoint LABEL=PATH`` loads a Lightning
checkpoint or an exported generator as ``inpaint predict`` does. ``--model LABEL=CONFIG[,CONFIG…]`` builds a model
from config files composed as ``inpaint fit --config --data… --config CONFIG… --config --trainer…`` composes them;
it is untrained (torch seed 0) unless ``--train-steps N`` first trains it N steps into ``--runs``/<label> — a run that
reached N steps is reused, an interrupted one resumes. Without ``LABEL=`` the label is the file's name.

The images are the first ``--count`` samples of the data config's fixed test set (held-out crops with the fixed test
masks: the same for every model and run), or ``--image``/``--mask`` files at their own size (a multiple of 32; priors
as the default data module computes them: skimage Canny, L0 smoothing).
Writes heatmap.png, spectrogram.png, entropy.png (levels across, models down), kl.png and analysis.json (every
number plotted, and where the models and images came from) into ``--out``; ``--wandb`` logs them to a W&B run.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from inpaint.commands.console import one_line_warnings
from inpaint.errors import MissingPathError
from inpaint.naming import slug

#: Options of ``inpaint fit`` for a training whose only use is its final checkpoint: no validation, grids or logs.
BRIEF_FIT_ARGS = ("--seed_everything=0", "--trainer.limit_val_batches=0", "--run.image_grid_samples=0",
                  "--run.logger=none", "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false")


@dataclass(frozen=True)
class ModelSource:
    """One model of the comparison: a ``checkpoint`` file, or the ``config`` files that describe it."""

    kind: str  # "checkpoint" | "config"
    label: str
    paths: tuple[str, ...]


class _AppendModel(argparse.Action):
    """``--checkpoint`` and ``--model`` both append to one list, so the figures keep the command line's order."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, value: Any,
                 option: str | None = None) -> None:  # fmt: skip
        label, sep, rest = str(value).partition("=")
        kind = "checkpoint" if option == "--checkpoint" else "config"
        given = rest if sep else label
        paths = (given.strip(),) if kind == "checkpoint" else tuple(p.strip() for p in given.split(","))
        if not all(paths) or (sep and not label.strip()):
            parser.error(f"{option} expects LABEL=PATH (or a path), got {value!r}")
        label = label.strip() if sep else Path(paths[-1]).stem
        namespace.models = [*(namespace.models or []), ModelSource(kind, label, paths)]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inpaint analyze", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]))  # fmt: skip
    models = parser.add_argument_group("models (one or more, in figure order)")
    models.add_argument("--checkpoint", dest="models", action=_AppendModel, metavar="LABEL=PATH",
                        help="a trained model: Lightning .ckpt or exported .pt (inpaint export)")
    models.add_argument("--model", dest="models", action=_AppendModel, metavar="LABEL=CONFIG[,CONFIG...]",
                        help="model config file(s), e.g. experiments/model/tsgl.yaml,experiments/model/variants/"
                             "baseline.yaml")
    models.add_argument("--trainer", action="append", default=[], metavar="CONFIG",
                        help="config(s) composed after each --model (e.g. experiments/trainer/cpu-small.yaml: "
                             "small widths, 64²); their data section applies to the images too")
    models.add_argument("--train-steps", type=int, default=0, metavar="N",
                        help="train each --model N steps on --data first (0: untrained, default)")
    models.add_argument("--runs", default=None, help="run folders of --train-steps (default OUT/runs)")
    images = parser.add_argument_group("images (a data config's test set, or files)")
    images.add_argument("--data", action="append", default=[], metavar="CONFIG",
                        help="data config, e.g. experiments/data/embedded.yaml")
    images.add_argument("--count", type=int, default=4, help="test samples analysed (default 4; figures show the "
                        "first, numbers average over all)")
    images.add_argument("--image", action="append", default=[], help="image file (repeatable, with --mask); "
                        "replaces the test set (--data then only trains)")
    images.add_argument("--mask", action="append", default=[], help="mask file of the same size (white = hole)")
    images.add_argument("--mask-hole-value", choices=("white", "black"), default="white")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads for training and analysis "
                        "(default 1: with more threads than free cores every step gets many times slower)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--wandb", action="store_true", help="also log the figures and numbers to a W&B run "
                        "(offline unless WANDB_MODE says otherwise)")
    parser.set_defaults(models=[])
    return parser  # fmt: skip


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse option combinations that cannot work (argparse's usage error, exit status 2)."""
    if not args.models:
        parser.error("give at least one model: --checkpoint LABEL=PATH or --model LABEL=CONFIG")
    if not args.image and not args.data:
        parser.error("give --data CONFIG (its test set's first --count samples) or --image/--mask files")
    if len(args.image) != len(args.mask):
        parser.error(f"give one --mask per --image (got {len(args.image)} and {len(args.mask)})")
    if args.train_steps < 0 or args.count < 1 or args.threads < 1:
        parser.error("--train-steps must be >= 0, --count and --threads >= 1")
    if args.train_steps and not args.data:
        parser.error("--train-steps trains on the data config's training set: give --data CONFIG")
    labels = [m.label for m in args.models]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        parser.error(f"each model needs its own label; repeated: {', '.join(repeated)}")


def _check_files(source: ModelSource) -> None:
    option, what = ("--checkpoint", "checkpoint") if source.kind == "checkpoint" else ("--model", "config file")
    for path in source.paths:
        if not os.path.isfile(path):
            raise MissingPathError(f"{option} {source.label}: {what} {path} does not exist")


def _tappable(generator: nn.Module, source: ModelSource) -> nn.Module:
    """``generator`` in eval mode, refused in one line unless it has a TSGL encoder to tap."""
    from inpaint.analysis.taps import NoEncoderTapsError, reconstruction_blocks

    if reconstruction_blocks(generator) is None:
        raise NoEncoderTapsError(
            f"{source.label} ({', '.join(source.paths)}): {type(generator).__name__} has no TSGL encoder taps "
            "(encoder.reconstruction); inpaint analyze reads TSGL and the Ours(·) encoder swaps"
        )
    return generator.eval()


def _load_checkpoint(path: str, source: ModelSource) -> tuple[nn.Module, dict[str, Any]]:
    from inpaint.lit.export import load_generator

    generator, info = load_generator(path)
    return _tappable(generator, source), {"checkpoint": path, "global_step": info.get("global_step")}


def load_models(sources: Sequence[ModelSource], args: argparse.Namespace) -> list[tuple[str, nn.Module, dict]]:
    """(label, generator, provenance) of every source, in order; config models are built (and checked) before any
    of them trains, so a wrong model fails in seconds."""
    import torch

    from inpaint.lit.config_sections import generator_from_configs
    from inpaint.lit.fit_once import finished_checkpoint, fit_once

    for source in sources:
        _check_files(source)
    loaded: list[tuple[str, nn.Module, dict[str, Any]]] = []
    for source in sources:
        if source.kind == "checkpoint":
            loaded.append((source.label, *_load_checkpoint(source.paths[0], source)))
            continue
        torch.manual_seed(0)  # the same untrained weights on every call
        generator = _tappable(generator_from_configs([*args.data, *source.paths, *args.trainer]), source)
        loaded.append((source.label, generator, {"configs": list(source.paths), "trained_steps": 0}))
    if not args.train_steps:
        return loaded
    runs = Path(args.runs or Path(args.out) / "runs")
    for index, source in enumerate(sources):
        if source.kind != "config":
            continue
        run_dir = runs / slug(source.label)
        done = finished_checkpoint(run_dir, args.train_steps) is not None
        what = f"reusing the {args.train_steps}-step run" if done else f"training {args.train_steps} steps"
        print(f"inpaint analyze: {source.label}: {what} in {run_dir}", flush=True)
        ckpt = fit_once([*args.data, *source.paths, *args.trainer], args.train_steps, run_dir,
                        [*BRIEF_FIT_ARGS, f"--run.num_threads={args.threads}"])
        generator, provenance = _load_checkpoint(str(ckpt), source)
        provenance.update(configs=list(source.paths), trained_steps=args.train_steps)
        loaded[index] = (source.label, generator, provenance)
    return loaded


def load_inputs(args: argparse.Namespace) -> Any:
    """The analysed batch: ``--image``/``--mask`` files, or the first ``--count`` samples of the data config's test
    set (its data section merged with the ``--trainer`` configs', as training sees it)."""
    from inpaint.analysis.inputs import inputs_from_files, inputs_from_test_set

    if args.image:
        return inputs_from_files(args.image, args.mask, args.mask_hole_value)
    from inpaint.lit.config_sections import datamodule_from_configs

    return inputs_from_test_set(datamodule_from_configs([*args.data, *args.trainer]), args.count)


def run(args: argparse.Namespace) -> list[Path]:
    """Load the models and images, analyse, write the figure set (and log it); returns the written paths."""
    import torch

    from inpaint.analysis.figures import analyze_generator, write_analysis

    torch.set_num_threads(args.threads)
    inputs = load_inputs(args)  # first: a bad image file must not wait for the models' training
    models = load_models(args.models, args)
    with torch.no_grad():
        analyses = [analyze_generator(label, generator, inputs.tensors) for label, generator, _ in models]
    images = ({"files": list(args.image), "masks": list(args.mask)} if args.image
              else {"data": list(args.data), "trainer": list(args.trainer)})
    provenance = {"models": {label: source for label, _, source in models},
                  "images": {**images, "ids": inputs.ids, "size": list(inputs.size)}}
    paths = write_analysis(analyses, args.out, provenance)
    print(f"wrote {', '.join(p.name for p in paths)} to {args.out} ({len(models)} model(s), "
          f"{len(inputs.ids)} image(s) at {inputs.size[1]}×{inputs.size[0]})")
    if args.wandb:
        from inpaint.analysis.wandb_log import log_analysis

        mode = os.environ.get("WANDB_MODE", "offline")
        run_dir = log_analysis(analyses, paths, args.out, config=provenance, mode=mode)
        print(f"W&B run ({mode}): {run_dir} — upload later with `wandb sync {run_dir}`")
    return paths


def error_line(error: BaseException) -> str | None:
    """The one-line report of a user error (bad path, config, checkpoint or image); None for a bug, and for every
    error when INPAINT_DEBUG is set (it then keeps its traceback)."""
    from inpaint.lit.cli_errors import DEBUG_ENV, user_error_message
    from inpaint.lit.export import ExportError

    if os.environ.get(DEBUG_ENV):
        return None
    if isinstance(error, ExportError | FileNotFoundError):  # the checkpoint loader's own refusals
        return " ".join(str(error).split())
    return user_error_message(error)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    check_arguments(parser, args)
    try:
        with one_line_warnings("inpaint analyze"):
            run(args)
    except Exception as err:  # user errors become one line; anything else is a bug and keeps its traceback
        message = error_line(err)
        if message is None:
            raise
        print(f"inpaint analyze: error: {message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
