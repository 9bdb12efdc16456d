"""``InpaintingMetrics``: every metric of the protocol, per hole-ratio bucket, on the composite and the raw output.

One torchmetrics ``Metric`` keeps, per image, its hole ratio, its mask-kind label, its pixel-metric values and its
Inception features, all as ``cat`` states. Under DDP torchmetrics gathers those lists from every rank before
``compute`` — each rank then computes the same buckets from the full set (no rank-0 special case), and FID is taken
on the gathered features, never averaged over per-rank shards. Buckets are formed only in ``compute``, so one pass
serves every bucket scheme (paper, Table IV, NVIDIA, LaMa kinds) and the overall row.

Images: the composite ``gt·M + out·(1−M)`` and the raw output, each quantised once to uint8
(:func:`inpaint.conventions.to_uint8`). PSNR / SSIM / L1 / relative L1 use those uint8 images; LPIPS gets them
mapped back to [-1, 1]; the Inception network reads the uint8 images. Hole ratios are counted from the mask
itself in float64 (exact at bucket edges: 30 % hole is 0.3, not 0.30000001).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from inpaint.conventions import composite as make_composite
from inpaint.conventions import from_uint8, is_known, to_uint8
from inpaint.data.buckets import MASK_KINDS, BucketScheme, resolve_schemes
from inpaint.metrics.feature_cache import FeatureCache
from inpaint.metrics.fid import MIN_IMAGES, frechet_distance
from inpaint.metrics.image_quality import (
    SSIM_WINDOWS,
    l1_per_image,
    mse_per_image,
    psnr_per_image,
    relative_l1_per_image,
    ssim_per_image,
)
from inpaint.metrics.inception import FIDBackend, resolve_fid_backend
from inpaint.metrics.lpips import LPIPSBackend, lpips_per_image, resolve_lpips
from inpaint.metrics.options import MetricOptions, split_options
from inpaint.metrics.results import METRICS, BucketResult, MetricsReport

PIXEL_METRICS = ("psnr", "ssim", "l1", "mse", "rel_l1_pct")


class InpaintingMetrics(Metric):
    """Bucketed PSNR / SSIM / L1 / relative L1 / LPIPS / FID over the composite (and the raw output).

    Args:
        options: what is scored and how (:class:`~inpaint.metrics.options.MetricOptions`); single fields can
            also be given as keywords (``InpaintingMetrics(fid=False, lpips_net=None)``), applied on top.
        fid_backend / lpips_backend: pre-resolved backends (tests inject stand-in networks here); by default they
            are resolved offline, and an unavailable one turns its column into "n/a" with the reason in the notes.
        feature_cache: a :class:`~inpaint.metrics.feature_cache.FeatureCache` for the *ground-truth* Inception
            features (the evaluation set is the same for every model); None computes them every time.
        kwargs: other keywords go to torchmetrics' ``Metric``.
    """

    is_differentiable = False
    higher_is_better = None
    full_state_update = False

    def __init__(
        self,
        options: MetricOptions | None = None,
        *,
        fid_backend: FIDBackend | None = None,
        lpips_backend: LPIPSBackend | None = None,
        feature_cache: FeatureCache | None = None,
        **kwargs: Any,
    ) -> None:
        if options is not None and not isinstance(options, MetricOptions):
            raise TypeError(f"options must be MetricOptions, got {type(options).__name__} (give fields as keywords)")
        changes, metric_kwargs = split_options(MetricOptions, kwargs)
        options = (options or MetricOptions()).updated(changes)
        super().__init__(**metric_kwargs)
        self.options = options
        self.schemes: list[BucketScheme] = resolve_schemes(options.schemes)
        self.closed = options.closed
        self.ssim_window = options.ssim_window
        self.variants = ("composite", "raw") if options.raw else ("composite",)
        self.fid_variants = self.variants if options.raw_fid else ("composite",)
        self.notes: list[str] = []
        self.feature_cache = feature_cache

        if fid_backend is None and options.fid:
            fid_backend = resolve_fid_backend()
        self.fid_backend = fid_backend
        self.fid_name = self.fid_backend.name if self.fid_backend else "off"
        self.inception: nn.Module | None = self.fid_backend.extractor if self.fid_backend else None
        if self.fid_backend is not None and not self.fid_backend.available:
            self.notes.append(self.fid_backend.unavailable_reason or "FID n/a")

        if lpips_backend is None and options.lpips_net is not None:
            lpips_backend = resolve_lpips(options.lpips_net)
        self.lpips_backend = lpips_backend
        self.lpips_name = lpips_backend.net if lpips_backend else "off"
        self.lpips_model: nn.Module | None = lpips_backend.model if lpips_backend else None
        if lpips_backend is not None and not lpips_backend.available:
            self.notes.append(lpips_backend.unavailable_reason or "LPIPS n/a")

        self.add_state("hole_ratio", default=[], dist_reduce_fx="cat")
        self.add_state("mask_kind", default=[], dist_reduce_fx="cat")
        for variant in self.variants:
            for metric in self._per_image_metrics():
                self.add_state(f"{variant}_{metric}", default=[], dist_reduce_fx="cat")
        if self.inception is not None:
            for stream in ("real", *self.fid_variants):
                self.add_state(f"features_{stream}", default=[], dist_reduce_fx="cat")

    def with_schemes(self, schemes: Sequence[str]) -> InpaintingMetrics:
        """A fresh, empty metric with the same options, networks and feature cache, reporting ``schemes`` (the
        writer scores its LaMa kind set with one; sharing the networks avoids loading the weights twice)."""
        return InpaintingMetrics(
            self.options.updated({"schemes": tuple(schemes)}), fid_backend=self.fid_backend,
            lpips_backend=self.lpips_backend, feature_cache=self.feature_cache,
        )

    def _per_image_metrics(self) -> tuple[str, ...]:
        return PIXEL_METRICS + (("lpips",) if self.lpips_model is not None else ())

    # --- update ------------------------------------------------------------------------------------------------

    @staticmethod
    def _check_inputs(target: torch.Tensor, output: torch.Tensor, mask: torch.Tensor) -> None:
        if target.ndim != 4 or target.shape[1] != 3:
            raise ValueError(f"target must be B×3×H×W in [-1, 1], got {tuple(target.shape)}")
        if output.shape != target.shape:
            raise ValueError(f"output shape {tuple(output.shape)} differs from target {tuple(target.shape)}")
        expected = (target.shape[0], 1, *target.shape[2:])
        if tuple(mask.shape) != expected:
            raise ValueError(f"mask must be B×1×H×W = {expected} (1 = known), got {tuple(mask.shape)}")

    def update(
        self,
        target: torch.Tensor,
        output: torch.Tensor,
        mask: torch.Tensor,
        composite: torch.Tensor | None = None,
        mask_kind: Sequence[str | None] | None = None,
    ) -> None:
        """Add a batch. ``target``/``output``/``composite`` B×3×H×W in [-1, 1]; ``mask`` B×1×H×W, 1 = known.

        ``composite`` defaults to ``gt·M + out·(1−M)``; ``mask_kind`` holds each mask's generator kind
        (:data:`~inpaint.data.buckets.MASK_KINDS`, e.g. LaMa's "thin"/"medium"/"thick") for the kind buckets, None
        where unknown.
        """
        self._check_inputs(target, output, mask)
        batch = target.shape[0]
        if composite is None:
            composite = make_composite(target, output, mask)
        holes = (~is_known(mask)).flatten(1).sum(dim=1).double()
        self.hole_ratio.append(holes / mask[0].numel())
        kinds = list(mask_kind) if mask_kind is not None else [None] * batch
        if len(kinds) != batch:
            raise ValueError(f"mask_kind has {len(kinds)} entries for a batch of {batch}")
        codes = [MASK_KINDS.index(k) if k in MASK_KINDS else -1 for k in kinds]
        self.mask_kind.append(torch.tensor(codes, dtype=torch.long, device=target.device))

        target8 = to_uint8(target)
        images = {"composite": to_uint8(composite), "raw": to_uint8(output)}
        for variant in self.variants:
            image8 = images[variant]
            getattr(self, f"{variant}_psnr").append(psnr_per_image(image8, target8))
            getattr(self, f"{variant}_ssim").append(ssim_per_image(image8, target8, self.ssim_window))
            getattr(self, f"{variant}_l1").append(l1_per_image(image8, target8))
            getattr(self, f"{variant}_mse").append(mse_per_image(image8, target8))
            getattr(self, f"{variant}_rel_l1_pct").append(relative_l1_per_image(image8, target8))
            if self.lpips_model is not None:
                value = lpips_per_image(self.lpips_model, from_uint8(image8), from_uint8(target8))
                getattr(self, f"{variant}_lpips").append(value)
        if self.inception is not None:
            with torch.no_grad():
                if self.feature_cache is not None:
                    self.features_real.append(self.feature_cache.features(target8, self.fid_name, self.inception))
                else:
                    self.features_real.append(self.inception(target8).float())
                for variant in self.fid_variants:
                    getattr(self, f"features_{variant}").append(self.inception(images[variant]).float())

    # --- compute -----------------------------------------------------------------------------------------------

    def _gathered(self, name: str) -> torch.Tensor:
        state = getattr(self, name)
        if isinstance(state, list) and not state:
            return torch.zeros(0, dtype=torch.float64)
        return dim_zero_cat(state).detach().cpu()

    def _bucket_members(self, ratios: torch.Tensor, kinds: torch.Tensor) -> list[tuple[str, str, torch.Tensor]]:
        rows = [("all", "all", torch.ones(len(ratios), dtype=torch.bool))]
        for scheme in self.schemes:
            assigned = [
                scheme.assign(float(r), MASK_KINDS[int(k)] if int(k) >= 0 else None, self.closed)
                for r, k in zip(ratios, kinds)
            ]
            for index, label in enumerate(scheme.labels()):
                members = torch.tensor([a == index for a in assigned], dtype=torch.bool)
                if members.any():
                    rows.append((scheme.name, label, members))
        return rows

    def compute(self) -> MetricsReport:
        ratios = self._gathered("hole_ratio")
        kinds = self._gathered("mask_kind").long()
        values = {
            (variant, metric): self._gathered(f"{variant}_{metric}")
            for variant in self.variants
            for metric in self._per_image_metrics()
        }
        features = {}
        if self.inception is not None:
            features = {s: self._gathered(f"features_{s}") for s in ("real", *self.fid_variants)}

        rows = []
        for scheme, label, members in self._bucket_members(ratios, kinds):
            n = int(members.sum())
            result = BucketResult(scheme, label, n, {})
            for variant in self.variants:
                metrics: dict[str, float | None] = dict.fromkeys(METRICS)
                for metric in self._per_image_metrics():
                    selected = values[(variant, metric)][members]
                    metrics[metric] = float(selected.mean()) if n else None
                if variant in features and n >= MIN_IMAGES:
                    metrics["fid"] = frechet_distance(features["real"][members], features[variant][members])
                result.values[variant] = metrics
            rows.append(result)
        return MetricsReport(rows, self.protocol())

    def protocol(self) -> dict:
        """What the numbers mean: recorded in every metrics.json / metrics.csv."""
        return {
            "image": "composite" + (" (raw output as secondary column)" if "raw" in self.variants else ""),
            "quantisation": "round(clip((x+1)/2)*255) -> uint8, once",
            "data_range": 255,
            "averaging": "per image, then mean over the bucket (no pooled MSE)",
            "ssim_window": self.ssim_window,
            "ssim_window_description": SSIM_WINDOWS[self.ssim_window],
            "fid_backend": self.fid_name,
            "fid_features": "Inception-v3 pool3, 2048-d, statistics in float64, N = bucket's n",
            "lpips_net": self.lpips_name,
            "closed": self.closed,
            **({"closed_by_scheme": own} if (own := {s.name: s.closed for s in self.schemes if s.closed}) else {}),
            "buckets": ["all"] + [s.name for s in self.schemes],
            "notes": list(self.notes),
        }

    def __repr__(self) -> str:  # the default repr would print the whole Inception network
        return (
            f"{type(self).__name__}(schemes={[s.name for s in self.schemes]}, ssim={self.ssim_window}, "
            f"fid={self.fid_name}, lpips={self.lpips_name}, variants={list(self.variants)})"
        )
