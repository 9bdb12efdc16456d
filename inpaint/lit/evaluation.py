"""``EvaluationWriter``: the test-time half of the protocol — metrics per bucket, composites as PNG, result files.

Add it to ``trainer.callbacks`` (``inpaint test`` does); it reads the dict every ``test_step`` returns
(``output``, ``composite``, ``target`` in [-1, 1], ``mask`` 1 = known, ``id``, optionally ``mask_kind``) and

* updates an :class:`~inpaint.metrics.collection.InpaintingMetrics` (states gathered across DDP ranks at the end);
* saves, per sample, ``<out_dir>/composites/<id>.png`` (the output pasted into the known pixels),
  ``masked/<id>.png`` (the network's input: known pixels, the hole filled with mid-grey 128 — or white with
  ``masked_fill="white"``) and ``targets/<id>.png`` (ground truth), so qualitative grids can show
  input | output | GT (PNG only: JPEG would change every metric);
* at the end of the test epoch writes ``metrics.json`` + ``metrics.csv`` into ``<out_dir>`` (default: the run
  folder, ``trainer.default_root_dir`` — never a logger's folder, where Lightning's CSVLogger keeps its own
  metrics.csv), prints the table, logs the overall numbers as ``eval/<metric>``, and leaves the
  :class:`~inpaint.metrics.results.MetricsReport` on ``pl_module.test_results`` and ``self.report``.

With two test loaders (the data module's ``lama_eval_kinds`` or ``eval_kinds``), loader 0 is the main set, scored as
above, and loader 1 the kind set: a second metric (the ``lama`` and ``kind`` schemes only, same options, networks and
feature cache) scores it, its PNGs go to ``<out_dir>/lama_kinds/{composites,masked,targets}/`` (the main folders hold
the main set alone: Table VII and the qualitative grids read them), and the written report is the main one plus the
kind set's ``lama`` rows (LaMa's kinds, Table III) and ``kind`` rows (every kind of the set)
(:func:`~inpaint.metrics.results.with_scheme_rows`); its "all" row stays the main set's.

Ground-truth Inception features are cached per batch content (:mod:`inpaint.metrics.feature_cache`), so the
trials of a sweep compute them once. Options come from the ``run.evaluation:`` section of a config
(:class:`EvaluationOptions`, e.g. ``--run.evaluation.raw_fid=false``) or from a ``trainer.callbacks`` entry.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.loggers import CSVLogger

from inpaint.conventions import is_known, to_uint8
from inpaint.data.buckets import ClosedSide
from inpaint.errors import UserInputError
from inpaint.metrics.collection import InpaintingMetrics
from inpaint.metrics.feature_cache import FeatureCache, default_fid_cache_dir
from inpaint.metrics.folders import write_png
from inpaint.metrics.image_quality import SSIMWindow
from inpaint.metrics.lpips import LPIPSNet
from inpaint.metrics.options import MetricOptions
from inpaint.metrics.results import MetricsReport, print_report, with_scheme_rows, write_csv, write_json

_UNSAFE = re.compile(r"[^A-Za-z0-9._/-]+")
MaskedFill = Literal["grey", "white"]
MASKED_FILL_VALUES: dict[str, int] = {"grey": 128, "white": 255}  # uint8 value of hole pixels in masked/<id>.png
KIND_SET_LOADER = 1  # test dataloader index of the LaMa kind set (InpaintDataModule.lama_eval_kinds)
KIND_SET_DIR = "lama_kinds"
KIND_SCHEMES = ("lama", "kind")  # the kind set's rows: LaMa's three kinds (Table III) and every generator kind


@dataclass(frozen=True)
class EvaluationOptions(MetricOptions):
    """The ``run.evaluation:`` section: the scoring options (:class:`~inpaint.metrics.options.MetricOptions`:
    schemes, closed, ssim_window, lpips_net, fid, raw, raw_fid) plus what the test-time :class:`EvaluationWriter`
    writes.

    Args:
        save_images: write composites/, masked/ and targets/ PNGs.
        masked_fill: colour of the hole in ``masked/<id>.png``: ``grey`` (128) or ``white`` (255).
        fid_cache: folder of the ground-truth feature cache; ``auto`` = ``$INPAINT_CACHE_DIR/fid`` or
            ``~/.cache/inpaint/fid`` (shared by all runs and sweep trials); null = no cache.
    """

    save_images: bool = True
    masked_fill: MaskedFill = "grey"
    fid_cache: str | None = "auto"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.masked_fill not in MASKED_FILL_VALUES:
            raise UserInputError(f"masked_fill must be one of {sorted(MASKED_FILL_VALUES)}, got {self.masked_fill!r}")

    def metric_options(self) -> MetricOptions:
        """The scoring part alone, for :class:`InpaintingMetrics`."""
        return MetricOptions(**{name: getattr(self, name) for name in MetricOptions.field_names()})


_DEFAULT = EvaluationOptions()


def image_file_name(sample_id: str, index: int) -> str:
    """Relative PNG path for a sample id: extension replaced, unsafe characters and '..' removed."""
    text = str(sample_id).strip().replace("\\", "/") or f"sample_{index:06d}"
    parts = [p for p in _UNSAFE.sub("_", text).split("/") if p not in ("", ".", "..")]
    stem = "/".join(parts) or f"sample_{index:06d}"
    return str(Path(stem).with_suffix("")) + ".png"


class EvaluationWriter(Callback):
    """Score test batches with the bucketed protocol and write the results.

    The keywords are the fields of :class:`EvaluationOptions` (listed one by one so that a ``trainer.callbacks``
    entry can set them in YAML; their defaults are that class's).

    Args:
        out_dir: where metrics and images go; default ``trainer.default_root_dir`` (the run folder).
        save_images / masked_fill / fid_cache / schemes / closed / ssim_window / lpips_net / fid / raw / raw_fid:
            see :class:`EvaluationOptions`.
        metrics: a ready metric object (tests inject one with stand-in networks); overrides the scoring options.
    """

    def __init__(
        self,
        out_dir: str | None = None,
        save_images: bool = _DEFAULT.save_images,
        schemes: Sequence[str] = _DEFAULT.schemes,
        closed: ClosedSide = _DEFAULT.closed,
        ssim_window: SSIMWindow = _DEFAULT.ssim_window,
        lpips_net: LPIPSNet | None = _DEFAULT.lpips_net,
        fid: bool = _DEFAULT.fid,
        raw: bool = _DEFAULT.raw,
        raw_fid: bool = _DEFAULT.raw_fid,
        masked_fill: MaskedFill = _DEFAULT.masked_fill,
        fid_cache: str | None = _DEFAULT.fid_cache,
        metrics: InpaintingMetrics | None = None,
    ) -> None:
        self.out_dir = out_dir
        self.options = EvaluationOptions(
            schemes=tuple(schemes), closed=closed, ssim_window=ssim_window, lpips_net=lpips_net, fid=fid, raw=raw,
            raw_fid=raw_fid, save_images=save_images, masked_fill=masked_fill, fid_cache=fid_cache,
        )  # fmt: skip
        self.metrics = metrics
        self.kind_metrics: InpaintingMetrics | None = None  # scores the LaMa kind set when the test has one
        self.report: MetricsReport | None = None
        self._seen = {0: 0, KIND_SET_LOADER: 0}  # images saved per loader (fallback file names)

    @classmethod
    def from_options(cls, options: EvaluationOptions, out_dir: str | None = None) -> EvaluationWriter:
        return cls(out_dir=out_dir, **asdict(options))

    def resolve_out_dir(self, trainer: Trainer) -> Path:
        """``out_dir``, else the run folder (``trainer.default_root_dir``), never ``trainer.log_dir``: that is the
        CSVLogger's folder, and its metrics.csv must not be overwritten with the bucket table."""
        return Path(self.out_dir or trainer.default_root_dir)

    def _check_no_logger_clash(self, trainer: Trainer) -> None:
        out = os.path.realpath(self.resolve_out_dir(trainer))
        for logger in trainer.loggers:
            log_dir = getattr(logger, "log_dir", None)
            if isinstance(logger, CSVLogger) and log_dir and os.path.realpath(log_dir) == out:
                raise UserInputError(
                    f"EvaluationWriter would write metrics.csv into {out!r}, the CSVLogger's own folder; "
                    "give the CSVLogger a sub-folder (e.g. name='logs') or set the writer's out_dir"
                )

    def resolve_feature_cache(self) -> FeatureCache | None:
        cache = self.options.fid_cache
        if cache is None or not self.options.fid:
            return None
        return FeatureCache(default_fid_cache_dir() if cache == "auto" else cache)

    def on_test_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._check_no_logger_clash(trainer)
        if self.metrics is None:
            self.metrics = InpaintingMetrics(self.options.metric_options(), feature_cache=self.resolve_feature_cache())
        self.metrics.reset()
        self.metrics.to(pl_module.device)
        loaders = trainer.test_dataloaders
        has_kind_set = isinstance(loaders, (list, tuple)) and len(loaders) > KIND_SET_LOADER
        # made here, not on the first kind batch, so that every DDP rank holds (and syncs) the same metrics
        self.kind_metrics = self.metrics.with_schemes(KIND_SCHEMES).to(pl_module.device) if has_kind_set else None
        self.report = None
        self._seen = {0: 0, KIND_SET_LOADER: 0}

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
        if dataloader_idx not in self._seen:
            raise ValueError(f"EvaluationWriter scores test dataloader 0 (the main set) and {KIND_SET_LOADER} (the "
                             f"LaMa kind set), got dataloader_idx={dataloader_idx}")
        assert self.metrics is not None
        metrics = self.metrics
        if dataloader_idx == KIND_SET_LOADER:
            assert self.kind_metrics is not None
            metrics = self.kind_metrics
        kinds = outputs.get("mask_kind")
        if kinds is None and isinstance(batch, dict):
            kinds = batch.get("mask_kind")
        metrics.update(
            outputs["target"], outputs["output"], outputs["mask"], composite=outputs.get("composite"),
            mask_kind=list(kinds) if kinds is not None else None,
        )  # fmt: skip
        if self.options.save_images:
            self._save_images(trainer, outputs, dataloader_idx)
        self._seen[dataloader_idx] += outputs["target"].shape[0]

    def masked_input(self, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """uint8 B×3×H×W: the known pixels of ``target``, the hole filled with the ``masked_fill`` colour."""
        known = is_known(mask)
        filled = torch.full_like(to_uint8(target), MASKED_FILL_VALUES[self.options.masked_fill])
        return torch.where(known, to_uint8(target), filled)

    def _save_images(self, trainer: Trainer, outputs: dict[str, Any], dataloader_idx: int = 0) -> None:
        composite = outputs.get("composite")
        if composite is None:
            from inpaint.conventions import composite as make_composite

            composite = make_composite(outputs["target"], outputs["output"], outputs["mask"])
        folders = {
            "composites": to_uint8(composite),
            "masked": self.masked_input(outputs["target"], outputs["mask"]),
            "targets": to_uint8(outputs["target"]),
        }
        ids = list(outputs.get("id") or [])
        root = self.resolve_out_dir(trainer)
        if dataloader_idx == KIND_SET_LOADER:
            root = root / KIND_SET_DIR
        seen = self._seen[dataloader_idx]
        for name, batch in folders.items():
            for i, image in enumerate(batch.permute(0, 2, 3, 1).cpu().numpy()):
                sample_id = ids[i] if i < len(ids) else f"rank{trainer.global_rank}_sample_{seen + i:06d}"
                write_png(root / name / image_file_name(sample_id, seen + i), image)

    def on_test_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        assert self.metrics is not None
        report = self.metrics.compute()  # every rank computes on the gathered states
        if self.kind_metrics is not None:
            kinds = self.kind_metrics.compute()
            for scheme in KIND_SCHEMES:
                report = with_scheme_rows(report, kinds, scheme)
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
