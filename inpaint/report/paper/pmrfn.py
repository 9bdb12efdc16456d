"""Seed 003 (PMRFN, "Parallel Multi-Resolution Fusion Network"), Table 2: the ablation on Places2 at 256² with the
NVIDIA irregular test masks, each metric averaged over the six hole-ratio groups 0–10 … 50–60 %: relative ℓ1 (%),
SSIM, PSNR, FID. The variant names are the ``variant`` axis of ``sweeps/pmrfn.yaml`` (overlays in
``experiments/model/pmrfn_variants/``); each is one row of ``PMRFN_TABLE2`` (the generator's arguments).

The seed's Table 1 "Ave" row is not the mean of its buckets for two baselines (seeds-summary §2.2); the suite
recomputes every average from its own buckets. Table 2's "Full" SSIM (0.841) differs from Table 1's (0.840).
"""

from __future__ import annotations

from typing import Final

#: metric → larger is better, in the seed's column order.
PMRFN_METRICS: Final[dict[str, bool]] = {"rel_l1_pct": False, "ssim": True, "psnr": True, "fid": False}

#: rows in the seed's order: (variant, label as the seed writes it = the key of ``PMRFN_TABLE2``).
PMRFN_ROWS: Final[tuple[tuple[str, str], ...]] = (
    ("hrnet", "HRNet"),
    ("wo_pconv", "w/o PConv"),
    ("wo_arf", "w/o ARF"),
    ("wo_mrf1", "w/o MRF 1"),
    ("wo_mrf3", "w/o MRF 3"),
    ("wo_mrf5", "w/o MRF 5"),
    ("full", "Full"),
)

_VALUES: Final[dict[str, tuple[float, float, float, float]]] = {
    "hrnet": (3.81, 0.831, 24.866, 10.49),
    "wo_pconv": (3.69, 0.835, 25.007, 8.56),
    "wo_arf": (3.60, 0.840, 25.283, 8.41),
    "wo_mrf1": (3.57, 0.838, 25.420, 7.43),
    "wo_mrf3": (3.67, 0.836, 25.283, 7.95),
    "wo_mrf5": (3.85, 0.821, 24.789, 11.32),
    "full": (3.54, 0.841, 25.475, 6.98),
}

#: ``PMRFN_PAPER[variant][metric]`` → the published value.
PMRFN_PAPER: Final[dict[str, dict[str, float]]] = {
    variant: dict(zip(PMRFN_METRICS, values)) for variant, values in _VALUES.items()
}
