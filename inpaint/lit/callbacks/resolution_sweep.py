"""The resolution sweep of the ``compare`` study (seed 002, Fig. 7): after the test stage, the evaluated generator
is scored at each test resolution (cpu: 64, 128, 256; paper: 256, 512, 1024) with its native inference — the input
is never resized, the output must come back at the input's size — PSNR and L1 of the composite per resolution.

At each size the fixed test crops are cut from the data at that size (``InpaintDataModule.fixed_test_crops``: the
same held-out photos, the crop box scaled with the size), and each gets one centred square hole of a fixed share of
the area (25 % by default), as the figure's centre masks: the hole is the same relative shape at every size, so the
curve shows what the resolution alone does. The batch holds as many pixels as the test batch
(:func:`inpaint.lit.sweep_scoring.batch_size_at`).

A size the model cannot run at gives a row without numbers and a short ``reason`` instead of failing the trial: the
model's own size rule (``size_multiple``: "needs multiple of 64") checked before running, else the caught error's
type and first line (e.g. "out of memory").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from torch import nn

from inpaint.data.masks import center_square_mask, hole_ratio_of, normalize_resolution
from inpaint.lit.sweep_scoring import batch_size_at, fixed_crops_for, score_masked, short_reason, size_reason

#: the cpu profile's sizes (seed 002 tests at 256, 512, 1024: four times these)
RESOLUTIONS: tuple[int, ...] = (64, 128, 256)
HOLE_RATIO = 0.25

CropsAt = Callable[[int, int], dict[str, Any]]


def resolution_sweep(generator: nn.Module, crops_at: CropsAt, sizes: Sequence[int | Sequence[int]],
                     hole_ratio: float, batch_at: Callable[[int, int], int]) -> list[dict[str, Any]]:
    """One row per size: ``size`` [H, W], ``hole_ratio`` of the square drawn and :func:`score_masked`'s numbers, or
    ``psnr``/``l1`` None with the ``reason``. ``crops_at(H, W)`` gives the fixed crops at that size, ``batch_at(H, W)``
    the batch size."""
    rows = []
    for size in sizes:
        height, width = normalize_resolution(size)
        row: dict[str, Any] = {"size": [height, width], "n": 0, "psnr": None, "l1": None, "reason": None}
        reason = size_reason(generator, height, width)
        if reason is None:
            try:
                crops = crops_at(height, width)
                known = center_square_mask(height, width, hole_ratio)
                masks = torch.from_numpy(known)[None, None].expand(crops["image"].shape[0], 1, height, width)
                row.update(hole_ratio=round(hole_ratio_of(known), 6),
                           **score_masked(generator, crops, masks.contiguous(), batch_at(height, width)))
            except Exception as err:  # one size failing must not cost the others (nor the trial)
                reason = short_reason(err)
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()  # an out-of-memory size leaves the next one its memory
        if reason is not None:
            row.update(psnr=None, l1=None, reason=reason)
        rows.append(row)
    return rows


class ResolutionSweep(Callback):
    """Runs :func:`resolution_sweep` on the first ``images`` fixed test crops at each of ``sizes`` at the end of the
    test stage; :meth:`result` is the JSON-ready record a sweep trial stores (user attribute ``resolution_sweep``)."""

    def __init__(self, sizes: Sequence[int | Sequence[int]] = RESOLUTIONS, images: int = 8,
                 hole_ratio: float = HOLE_RATIO) -> None:
        if not sizes:
            raise ValueError("the resolution sweep needs at least one size")
        if images < 1 or not 0.0 < hole_ratio < 1.0:
            raise ValueError(f"resolution sweep needs images >= 1 and 0 < hole_ratio < 1, got {images}, {hole_ratio}")
        self.sizes = [list(normalize_resolution(s)) for s in sizes]
        self.images, self.hole_ratio = int(images), float(hole_ratio)
        self._result: dict[str, Any] = {"mask": f"centre square, {self.hole_ratio:.0%} of the area",
                                        "images": self.images, "rows": [], "note": "the test stage did not run"}

    def on_test_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        datamodule = trainer.datamodule
        if not hasattr(datamodule, "fixed_test_crops"):
            self._result["note"] = f"not run: {type(datamodule).__name__} has no fixed test crops"
            return
        generator = getattr(pl_module, "eval_generator", None) or pl_module.generator
        base_batch = int(datamodule.hparams.get("eval_batch_size") or datamodule.hparams.get("batch_size") or 8)
        base_pixels = int(datamodule.height) * int(datamodule.width)
        started = time.perf_counter()
        rows = resolution_sweep(
            generator, lambda h, w: fixed_crops_for(generator, datamodule, self.images, (h, w)), self.sizes,
            self.hole_ratio, lambda h, w: batch_size_at(base_batch, base_pixels, h, w))
        self._result.update(rows=rows, note=None, wall_s=round(time.perf_counter() - started, 3))

    def result(self) -> dict[str, Any]:
        return dict(self._result)
