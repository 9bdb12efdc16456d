"""``inpaint convert --from official --generator G.pth [--discriminator D.pth] --out tsgl_official.ckpt|.pt``.

Turns the authors' TSGL-256 state dicts into the suite's ``TSGLGenerator`` with preset ``official_exact`` (and
``PatchDiscriminator(width=64)``), loaded strictly (:mod:`inpaint.models.official_checkpoint`). A ``.pt`` output
is an exported generator (``inpaint predict --ckpt``, ``inpaint.lit.export.load_generator``); a ``.ckpt`` output is
a Lightning checkpoint of ``InpaintingGAN`` with the ``official_exact`` run preset, which ``inpaint test
--ckpt_path`` evaluates and ``inpaint fit --ckpt_path`` fine-tunes (fresh optimisers, step 0).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

import torch

from inpaint.errors import UserInputError
from inpaint.models import official_checkpoint as oc

SOURCES = ("official",)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inpaint convert", description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="source", choices=SOURCES, required=True,
                        help="whose checkpoint: 'official' = htyjers/ConvInpaint-TSGL, TSGL_MEDFE (256)")
    parser.add_argument("--generator", required=True, help="their generator state dict (.pth)")
    parser.add_argument("--discriminator", help="their discriminator state dict (.pth); .ckpt output only")
    parser.add_argument("--out", required=True, help="tsgl_official.ckpt (Lightning) or tsgl_official.pt (export)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --out")
    return parser  # fmt: skip


def convert(generator_path: str, discriminator_path: str | None, out: str, force: bool = False) -> str:
    """Convert, load strictly, write ``out``; returns a one-line summary."""
    kind = os.path.splitext(out)[1].lower()
    if kind not in (".ckpt", ".pt"):
        raise UserInputError(f"--out must end in .ckpt (Lightning checkpoint) or .pt (exported generator), got {out!r}")
    if kind == ".pt" and discriminator_path:
        raise UserInputError("a .pt export holds the generator only; write a .ckpt to keep the discriminator")
    if os.path.exists(out) and not force:
        raise UserInputError(f"{out} exists; pass --force to overwrite it")
    for given in (generator_path, discriminator_path):
        if given and os.path.abspath(given) == os.path.abspath(out):
            raise UserInputError(f"--out {out} is one of the input files")

    g_state = oc.convert_generator(oc.read_state_dict(generator_path, "generator"), path=generator_path)
    generator = oc.build_generator()
    oc.load_strict(generator, g_state, f"generator {generator_path}")
    generator.init_args = dict(oc.OFFICIAL_GENERATOR["init_args"])  # recorded in the checkpoint's hyper-parameters
    discriminator = oc.build_discriminator()
    if discriminator_path:
        d_state = oc.convert_discriminator(oc.read_state_dict(discriminator_path, "discriminator"),
                                           path=discriminator_path)
        oc.load_strict(discriminator, d_state, f"discriminator {discriminator_path}")
    discriminator.init_args = dict(oc.OFFICIAL_DISCRIMINATOR["init_args"])
    meta = {"source": f"official:{os.path.basename(generator_path)}", "global_step": 0, "epoch": 0, "ema": False,
            "resolution": oc.OFFICIAL_RESOLUTION}
    if kind == ".pt":
        from inpaint.lit.export import save_generator

        save_generator(out, oc.OFFICIAL_GENERATOR, generator.state_dict(), meta)
    else:
        _write_lightning_checkpoint(generator, discriminator, out)
    d_note = ("generator only" if kind == ".pt" else
              "with its discriminator" if discriminator_path else "with a freshly initialised discriminator")
    return (f"wrote {out}: the official TSGL-256 generator ({sum(p.numel() for p in generator.parameters()):,} "
            f"parameters, preset official_exact, 256×256 only), {d_note}")


def _run_preset_module_args() -> dict[str, Any]:
    """The ``model:`` part of the official_exact run preset (losses, LR schedule), read from its one home."""
    from inpaint.config.compose import PRESET_DIR, read_config

    model = dict(read_config(os.path.join(PRESET_DIR, "official_exact.yaml")).get("model") or {})
    model.pop("generator", None)
    return model


def _write_lightning_checkpoint(generator: torch.nn.Module, discriminator: torch.nn.Module, out: str) -> None:
    from lightning.pytorch import Trainer

    from inpaint.lit.checkpointing import AtomicCheckpointIO
    from inpaint.lit.module import InpaintingGAN

    module = InpaintingGAN(generator=generator, discriminator=discriminator, **_run_preset_module_args())
    quiet = logging.getLogger("lightning.pytorch")  # no accelerator banner and tips for a file conversion
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        trainer = Trainer(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                          enable_progress_bar=False, enable_model_summary=False, plugins=[AtomicCheckpointIO()])
        trainer.strategy.connect(module)
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        # a full checkpoint (loops, callbacks): `fit --ckpt_path` restores it and starts at step 0
        trainer.save_checkpoint(out, weights_only=False)
    finally:
        quiet.setLevel(level)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        print(convert(args.generator, args.discriminator, args.out, args.force))
    except UserInputError as err:
        print(f"inpaint convert: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
