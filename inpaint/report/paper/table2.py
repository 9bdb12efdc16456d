"""Table II: PSNR↑ / SSIM↑ / FID↓ at hole ratios 10–20 / 20–30 / 30–40 / 40–50 % on CelebA and Places2
(256², NVIDIA irregular masks), for the rows the suite can train: PENNet, HiFill (native hosts), Ours(PENNet),
Ours(HiFill) and Ours (TSGL). Row keys are generator names (:data:`.labels.GENERATOR_LABELS`).
"""

from __future__ import annotations

from typing import Final

TABLE2_BUCKETS: Final[tuple[str, ...]] = ("10-20%", "20-30%", "30-40%", "40-50%")
TABLE2_METRICS: Final[dict[str, bool]] = {"psnr": True, "ssim": True, "fid": False}  # higher is better?
TABLE2_DATASETS: Final[tuple[str, ...]] = ("CelebA", "Places2")
#: Rows in the paper's order (natives first, then the swaps, then Ours).
TABLE2_ROWS: Final[tuple[str, ...]] = ("pennet", "hifill", "ours_pennet", "ours_hifill", "tsgl")

# (PSNR ×4, SSIM ×4, FID ×4) per dataset and row, buckets in TABLE2_BUCKETS order.
_TABLE2: Final[dict[str, dict[str, tuple[float, ...]]]] = {
    "CelebA": {
        "pennet": (30.54, 27.78, 26.01, 23.15, 0.967, 0.934, 0.894, 0.845, 3.14, 6.37, 9.33, 10.74),
        "hifill": (30.80, 27.92, 25.42, 23.61, 0.974, 0.950, 0.921, 0.885, 3.27, 6.07, 9.17, 10.38),
        "ours_pennet": (33.23, 30.34, 29.01, 25.86, 0.991, 0.978, 0.968, 0.952, 1.42, 2.55, 3.89, 5.47),
        "ours_hifill": (33.39, 30.66, 29.47, 26.04, 0.994, 0.981, 0.973, 0.963, 1.25, 2.32, 3.77, 5.34),
        "tsgl": (33.45, 30.92, 29.76, 26.13, 0.993, 0.984, 0.979, 0.963, 1.17, 1.98, 3.24, 4.35),
    },
    "Places2": {
        "pennet": (26.78, 23.53, 21.80, 20.48, 0.946, 0.894, 0.841, 0.781, 20.40, 37.22, 53.74, 67.08),
        "hifill": (27.50, 24.64, 22.81, 21.23, 0.954, 0.914, 0.873, 0.816, 16.95, 29.30, 42.88, 57.12),
        "ours_pennet": (29.76, 27.48, 25.15, 22.62, 0.961, 0.937, 0.908, 0.862, 9.75, 19.22, 26.90, 36.98),
        "ours_hifill": (29.97, 27.26, 25.47, 22.57, 0.978, 0.944, 0.912, 0.873, 9.41, 18.24, 24.32, 35.95),
        "tsgl": (30.10, 27.30, 25.49, 22.74, 0.982, 0.955, 0.923, 0.887, 8.40, 16.98, 22.88, 34.80),
    },
}

#: ``TABLE2[dataset][row][(metric, bucket)]`` → the published value.
TABLE2: Final[dict[str, dict[str, dict[tuple[str, str], float]]]] = {
    dataset: {
        row: {(metric, bucket): values[m * len(TABLE2_BUCKETS) + b]
              for m, metric in enumerate(TABLE2_METRICS) for b, bucket in enumerate(TABLE2_BUCKETS)}
        for row, values in rows.items()
    }
    for dataset, rows in _TABLE2.items()
}
