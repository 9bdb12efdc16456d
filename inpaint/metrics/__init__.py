"""Evaluation metrics of the protocol (docs/evaluation.md): per-image PSNR / SSIM / L1 on uint8 composites, FID with
the offline TF Inception, LPIPS, all per hole-ratio bucket — and a benchmark of the whole pass."""

from inpaint.data.buckets import NVIDIA_BUCKETS, PAPER_BUCKETS, SCHEMES, TABLE4_BUCKETS, bucket_index
from inpaint.metrics.collection import InpaintingMetrics
from inpaint.metrics.fid import frechet_distance
from inpaint.metrics.image_quality import (
    PerImageL1,
    PerImagePSNR,
    PerImageRelativeL1,
    PerImageSSIM,
    l1_per_image,
    psnr_per_image,
    relative_l1_per_image,
    ssim_per_image,
)
from inpaint.metrics.inception import FIDBackend, resolve_fid_backend
from inpaint.metrics.lpips import LPIPSBackend, resolve_lpips
from inpaint.metrics.results import BucketResult, MetricsReport, read_csv, read_json, write_csv, write_json


def bench_metrics(n: int = 64, size: int = 64, **kwargs) -> dict:
    """Time a full evaluation pass; see :func:`inpaint.metrics.bench.bench_metrics`."""
    from inpaint.metrics.bench import bench_metrics as _bench

    return _bench(n=n, size=size, **kwargs)


__all__ = [
    "BucketResult", "FIDBackend", "InpaintingMetrics", "LPIPSBackend", "MetricsReport", "NVIDIA_BUCKETS",
    "PAPER_BUCKETS", "PerImageL1", "PerImagePSNR", "PerImageRelativeL1", "PerImageSSIM", "SCHEMES", "TABLE4_BUCKETS",
    "bench_metrics", "bucket_index", "frechet_distance", "l1_per_image", "psnr_per_image", "read_csv", "read_json",
    "relative_l1_per_image", "resolve_fid_backend", "resolve_lpips", "ssim_per_image", "write_csv", "write_json",
]
