"""The hole-size sweep of the ``compare`` study (seed 002, Fig. 6): after the test stage, the evaluated generator is
scored on the first fixed test crops under one centred square hole per ratio (15, 25, 35, 45, 55 % of the area by
default), PSNR and L1 of the composite per ratio (:func:`inpaint.lit.sweep_scoring.score_masked`).

Centre squares rather than the study's irregular masks: they are the figure's masks, and one square per ratio is
the same hole for every crop and every model, so the curve isolates the hole's size. The square is the whole-pixel
square closest to the ratio (:func:`inpaint.data.masks.center_square_mask`); each row stores the ratio it really has.
A sweep that cannot run (e.g. a data module without fixed crops) leaves a note; the trial keeps its metrics.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from torch import nn

from inpaint.data.masks import center_square_mask, hole_ratio_of
from inpaint.lit.sweep_scoring import fixed_crops_for, score_masked, short_reason

#: seed 002's Fig. 6 hole ratios (centre-square area / image area)
HOLE_SIZE_RATIOS: tuple[float, ...] = (0.15, 0.25, 0.35, 0.45, 0.55)


def hole_size_sweep(generator: nn.Module, crops: dict[str, Any], ratios: Sequence[float], batch_size: int
                    ) -> list[dict[str, Any]]:
    """One row per ratio: ``ratio`` asked, ``hole_ratio`` of the square drawn, and :func:`score_masked`'s numbers."""
    count, height, width = crops["image"].shape[0], *crops["image"].shape[-2:]
    rows = []
    for ratio in ratios:
        known = center_square_mask(height, width, ratio)
        masks = torch.from_numpy(known)[None, None].expand(count, 1, height, width).contiguous()
        rows.append({"ratio": float(ratio), "hole_ratio": round(hole_ratio_of(known), 6),
                     **score_masked(generator, crops, masks, batch_size)})
    return rows


class HoleSizeSweep(Callback):
    """Runs :func:`hole_size_sweep` on the first ``images`` fixed test crops at the end of the test stage;
    :meth:`result` is the JSON-ready record a sweep trial stores (user attribute ``hole_size_sweep``)."""

    def __init__(self, ratios: Sequence[float] = HOLE_SIZE_RATIOS, images: int = 16) -> None:
        if not ratios or any(not 0.0 < float(r) < 1.0 for r in ratios):
            raise ValueError(f"hole-size sweep ratios must be a non-empty list in (0, 1), got {list(ratios)}")
        if images < 1:
            raise ValueError(f"hole-size sweep needs images >= 1, got {images}")
        self.ratios, self.images = [float(r) for r in ratios], int(images)
        self._result: dict[str, Any] = {"mask": "centre square", "images": self.images, "rows": [],
                                        "note": "the test stage did not run"}

    def on_test_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        datamodule = trainer.datamodule
        if not hasattr(datamodule, "fixed_test_crops"):
            self._result["note"] = f"not run: {type(datamodule).__name__} has no fixed test crops"
            return
        generator = getattr(pl_module, "eval_generator", None) or pl_module.generator
        started = time.perf_counter()
        try:
            crops = fixed_crops_for(generator, datamodule, self.images)
            batch = datamodule.hparams.get("eval_batch_size") or datamodule.hparams.get("batch_size") or 8
            rows = hole_size_sweep(generator, crops, self.ratios, int(batch))
        except Exception as err:  # a finished trial keeps its metrics; the report quotes the reason
            self._result["note"] = f"not run: {short_reason(err)}"
            return
        self._result.update(rows=rows, resolution=list(crops["image"].shape[-2:]), note=None,
                            wall_s=round(time.perf_counter() - started, 3))

    def result(self) -> dict[str, Any]:
        return dict(self._result)
