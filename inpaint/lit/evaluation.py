"""``EvaluationWriter``: the test-time half of the protocol — metrics per bucket, composites as PNG, result files.

Add it to ``trainer.callbacks`` (``inpaint test`` does); it reads the dict every ``test_step`` returns
(``output``, ``composite``, ``target`` in [-1, 1], ``mask`` 1 = known, ``id``, optionally ``mask_kind``) and

* updates an :class:`~inpaint.metrics.collection.InpaintingMetrics` (states gathered across DDP ranks at the end);
* saves each composite as ``<out_dir>/composites/<id>.png`` (PNG only: JPEG would change every metric);
* at the end of the test epoch writes ``metrics.json`` + ``metrics.csv`` into ``<out_dir>`` (default: the run
  folder, ``trainer.log_dir``), prints the table, logs the overall numbers as ``eval/<metric>``, and leaves the
  :class:`~inpaint.metrics.results.MetricsReport` on ``pl_module.test_results`` and ``self.report``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

import torch
from lightning.pytorch import Callback, LightningModule, Trainer

from inpaint.conventions import to_uint8
from inpaint.metrics.collection import DEFAULT_SCHEMES, InpaintingMetrics
from inpaint.metrics.folders import write_png
from inpaint.metrics.results import MetricsReport, print_report, write_csv, write_json

_UNSAFE = re.compile(r"[^A-Za-z0-9._/-]+")


def image_file_name(sample_id: str, index: int) -> str:
    """Relative PNG path for a sample id: extension replaced, unsafe characters and '..' removed."""
    text = str(sample_id).strip().replace("\\", "/") or f"sample_{index:06d}"
    parts = [p for p in _UNSAFE.sub("_", text).split("/") if p not in ("", ".", "..")]
    stem = "/".join(parts) or f"sample_{index:06d}"
    return str(Path(stem).with_suffix("")) + ".png"


class EvaluationWriter(Callback):
    """Score test batches with the bucketed protocol and write the results.

    Args:
        out_dir: where metrics and composites go; default ``trainer.log_dir`` (else ``trainer.default_root_dir``).
        save_images: write the composites as PNG.
        schemes / closed / ssim_window / lpips_net / fid / raw / raw_fid: passed to :class:`InpaintingMetrics`.
        metrics: a ready metric object (tests inject one with stand-in networks); overrides the options above.
    """

    def __init__(
        self,
        out_dir: str | None = None,
        save_images: bool = True,
        schemes: Sequence[str] = DEFAULT_SCHEMES,
        closed: str = "right",
        ssim_window: str = "gaussian11",
        lpips_net: str | None = "alex",
        fid: bool = True,
        raw: bool = True,
        raw_fid: bool = True,
        metrics: InpaintingMetrics | None = None,
    ) -> None:
        self.out_dir = out_dir
        self.save_images = save_images
        self._options = dict(schemes=list(schemes), closed=closed, ssim_window=ssim_window, lpips_net=lpips_net,
                             fid=fid, raw=raw, raw_fid=raw_fid)  # fmt: skip
        self.metrics = metrics
        self.report: MetricsReport | None = None
        self._seen = 0

    def resolve_out_dir(self, trainer: Trainer) -> Path:
        if self.out_dir:
            return Path(self.out_dir)
        return Path(trainer.log_dir or trainer.default_root_dir)

    def on_test_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.metrics is None:
            self.metrics = InpaintingMetrics(**self._options)  # type: ignore[arg-type]
        self.metrics.reset()
        self.metrics.to(pl_module.device)
        self.report = None
        self._seen = 0

    def on_test_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if not isinstance(outputs, dict) or not {"output", "target", "mask"} <= set(outputs):
            raise ValueError(
                "EvaluationWriter needs test_step to return a dict with 'output', 'target', 'mask' "
                f"(and 'composite', 'id'); got {type(outputs).__name__} "
                f"{sorted(outputs) if isinstance(outputs, dict) else ''}"
            )
        assert self.metrics is not None
        kinds = outputs.get("mask_kind")
        if kinds is None and isinstance(batch, dict):
            kinds = batch.get("mask_kind")
        self.metrics.update(
            outputs["target"], outputs["output"], outputs["mask"], composite=outputs.get("composite"),
            mask_kind=list(kinds) if kinds is not None else None,
        )  # fmt: skip
        if self.save_images:
            self._save_composites(trainer, outputs)
        self._seen += outputs["target"].shape[0]

    def _save_composites(self, trainer: Trainer, outputs: dict[str, Any]) -> None:
        composite = outputs.get("composite")
        if composite is None:
            from inpaint.conventions import composite as make_composite

            composite = make_composite(outputs["target"], outputs["output"], outputs["mask"])
        images = to_uint8(composite).permute(0, 2, 3, 1).cpu().numpy()
        ids = list(outputs.get("id") or [])
        folder = self.resolve_out_dir(trainer) / "composites"
        for i, image in enumerate(images):
            sample_id = ids[i] if i < len(ids) else f"rank{trainer.global_rank}_sample_{self._seen + i:06d}"
            write_png(folder / image_file_name(sample_id, self._seen + i), image)

    def on_test_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        assert self.metrics is not None
        report = self.metrics.compute()  # every rank computes on the gathered states
        self.report = report
        pl_module.test_results = report  # type: ignore[attr-defined]
        overall = report.overall
        for variant, values in overall.values.items():
            # "eval/…", not "test/…": the module's test_step already logs its quick "test/psnr"
            prefix = "eval" if variant == "composite" else f"eval_{variant}"
            for metric, value in values.items():
                if value is not None and torch.isfinite(torch.tensor(value)):
                    pl_module.log(f"{prefix}/{metric}", float(value), rank_zero_only=True)
        if trainer.is_global_zero:
            out = self.resolve_out_dir(trainer)
            write_json(report, out / "metrics.json")
            write_csv(report, out / "metrics.csv")
            print_report(report)
