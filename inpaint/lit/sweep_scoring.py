"""Scoring a generator on fixed crops under given masks — the measurement behind the ``compare`` study's test-time
sweeps (hole size, resolution) — and the short reasons a sweep cell gives when a model cannot run at a size.

The score follows the suite's protocol (docs/evaluation.md): composite ``I_gt·M + I_out·(1−M)``, quantised once to
uint8, PSNR and L1 per image (:mod:`inpaint.metrics.image_quality`), then the plain mean over the images. The
generator sees the crops at their own size: nothing here resizes, and an output whose size differs from its input is
an error, not a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from inpaint.conventions import composite, to_uint8
from inpaint.lit.gan_step import generator_inputs
from inpaint.metrics.image_quality import l1_per_image, psnr_per_image

#: longest reason a table cell quotes (the first line of the error, cut)
REASON_CHARS = 80


def size_reason(generator: nn.Module, height: int, width: int) -> str | None:
    """Why ``generator`` cannot run at height×width by its own declared rule (``size_multiple``), or None."""
    multiple = int(getattr(generator, "size_multiple", 1) or 1)
    if height % multiple or width % multiple:
        return f"needs multiple of {multiple}"
    return None


def short_reason(error: BaseException) -> str:
    """A table-cell reason from a caught error: ``out of memory``, else its type and the first line of its message."""
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    if isinstance(error, torch.OutOfMemoryError) or "out of memory" in first.lower():
        return "out of memory"
    reason = f"{type(error).__name__}: {first}" if first else type(error).__name__
    return reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 1] + "…"


def batch_size_at(base_batch: int, base_pixels: int, height: int, width: int) -> int:
    """The batch size at height×width that holds as many pixels as ``base_batch`` images of ``base_pixels`` each
    (at least 1): the test batch is known to fit, so a larger size never asks for more memory than it."""
    return max(1, (base_batch * base_pixels) // (height * width))


@torch.no_grad()
def score_masked(generator: nn.Module, crops: Mapping[str, Any], masks: torch.Tensor, batch_size: int
                 ) -> dict[str, Any]:
    """Mean PSNR (dB) and L1 ([0, 1] scale) of the composites of ``generator`` on ``crops`` (a batch from
    ``InpaintDataModule.fixed_test_crops``: ``image`` and the priors the generator reads) under ``masks``
    (N×1×H×W, 1 = known), in chunks of ``batch_size``, on the generator's device, in eval mode.

    Returns ``{"n", "psnr", "l1", "output_size"}``; raises ValueError when the output is not the input's size."""
    image = crops["image"]
    if masks.shape[0] != image.shape[0] or masks.shape[-2:] != image.shape[-2:]:
        raise ValueError(f"{masks.shape[0]} masks of {tuple(masks.shape[-2:])} for {image.shape[0]} crops of "
                         f"{tuple(image.shape[-2:])}")
    device = next((p.device for p in generator.parameters()), image.device)
    was_training = generator.training
    generator.eval()
    psnr, l1 = [], []
    try:
        for start in range(0, image.shape[0], batch_size):
            part = {key: value[start : start + batch_size].to(device) for key, value in crops.items()
                    if isinstance(value, torch.Tensor)}
            part["mask"] = masks[start : start + batch_size].to(device)
            output = generator(**generator_inputs(part)).image.float().clamp(-1.0, 1.0)
            if output.shape != part["image"].shape:
                raise ValueError(f"output {tuple(output.shape[-2:])} for input {tuple(part['image'].shape[-2:])}: "
                                 "the model changed the size")
            target = part["image"].float()
            quantised, truth = to_uint8(composite(target, output, part["mask"])), to_uint8(target)
            psnr.append(psnr_per_image(quantised, truth).cpu())
            l1.append(l1_per_image(quantised, truth).cpu())
    finally:
        generator.train(was_training)
    psnr_all, l1_all = torch.cat(psnr), torch.cat(l1)
    return {"n": int(psnr_all.numel()), "psnr": round(float(psnr_all.mean()), 4),
            "l1": round(float(l1_all.mean()), 6), "output_size": list(image.shape[-2:])}


def fixed_crops_for(generator: nn.Module, datamodule: Any, count: int, size: tuple[int, int] | None = None
                    ) -> dict[str, Any]:
    """The first ``count`` fixed test crops of ``datamodule`` (an ``InpaintDataModule``) at ``size``, with only the
    priors ``generator`` reads (``InpaintGenerator.priors``), on its device; priors the data module computes on the
    device (the ``kornia`` edge map) are added."""
    priors = tuple(getattr(generator, "priors", ("edge", "gray", "smooth")))
    crops = datamodule.fixed_test_crops(count, size, priors=priors)
    device = next((p.device for p in generator.parameters()), torch.device("cpu"))
    crops = {key: value.to(device) if isinstance(value, torch.Tensor) else value for key, value in crops.items()}
    if "edge" in priors and hasattr(datamodule, "add_device_priors"):
        crops = datamodule.add_device_priors(crops)
    return crops
