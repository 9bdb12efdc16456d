"""Published numbers of the encoder-swap comparison (TSGL paper, arXiv copy 001), as data.

* Table II — PSNR↑ / SSIM↑ / FID↓ at hole ratios 10–20 / 20–30 / 30–40 / 40–50 % on CelebA and Places2 (256²),
  for the rows the suite can train: PENNet, HiFill (native hosts), Ours(PENNet), Ours(HiFill) and Ours (TSGL).
* Table III — Places2 at 512²: FID↓ / LPIPS↓ on LaMa's narrow / medium / wide masks (the suite's ``thin`` /
  ``medium`` / ``thick`` kinds), Params and "FLOPs" (the paper counts one multiply-add as one FLOP, so its
  figures compare with our MAC counts), for HiFill, LaMa and Ours(LaMa).
* Table V — complexity of the TSGL model at 256² (37.8 M, 95.1 G).
* Table VII — metrics on the global structure image and the local residual structure image for Ours(Basic),
  Ours(PENNet), Ours(HiFill) and Ours. Each method has two unlabelled rows; the suite reads them as the
  10–30 % and 30–50 % hole-ratio ranges (a guess: the first row has the higher PSNR, the paper does not say).

Row keys are the swap study's generator names (``experiments/model/<name>.yaml``).
"""

from __future__ import annotations

from typing import Final

#: generator name (swap-study axis value) → the paper's label.
GENERATOR_LABELS: Final[dict[str, str]] = {
    "pennet": "PENNet",
    "ours_pennet": "Ours(PENNet)",
    "hifill": "HiFill",
    "ours_hifill": "Ours(HiFill)",
    "lama": "LaMa",
    "ours_lama": "Ours(LaMa)",
    "ours_basic": "Ours(Basic)",
    "tsgl": "Ours",
}

# ---------------------------------------------------------------------------------------------------- Table II
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

# --------------------------------------------------------------------------------------------------- Table III
#: LaMa's mask kinds as the suite names them (paper: narrow / medium / wide).
TABLE3_KINDS: Final[tuple[str, ...]] = ("thin", "medium", "thick")
TABLE3_KIND_LABELS: Final[dict[str, str]] = {"thin": "narrow", "medium": "medium", "thick": "wide"}
TABLE3_METRICS: Final[dict[str, bool]] = {"fid": False, "lpips": False}
TABLE3_ROWS: Final[tuple[str, ...]] = ("hifill", "lama", "ours_lama")
TABLE3_RESOLUTION: Final[int] = 512
# (FID narrow, LPIPS narrow, FID medium, LPIPS medium, FID wide, LPIPS wide)
_TABLE3: Final[dict[str, tuple[float, ...]]] = {
    "hifill": (9.24, 0.218, 7.54, 0.157, 12.8, 0.180),
    "lama": (0.63, 0.090, 1.30, 0.112, 2.21, 0.135),
    "ours_lama": (0.58, 0.081, 1.26, 0.106, 1.65, 0.119),
}
#: ``TABLE3[row][(metric, kind)]`` → the published value.
TABLE3: Final[dict[str, dict[tuple[str, str], float]]] = {
    row: {(metric, kind): values[2 * k + m]
          for k, kind in enumerate(TABLE3_KINDS) for m, metric in enumerate(TABLE3_METRICS)}
    for row, values in _TABLE3.items()
}


# ------------------------------------------------------------------------------------------------- complexity
#: generator class name → (params, "FLOPs" = multiply-adds, resolution, source) as published.
PAPER_COMPLEXITY: Final[dict[str, tuple[float, float, int, str]]] = {
    "HiFillGenerator": (3.00e6, 72.10e9, 512, "Table III"),
    "LaMaGenerator": (27.0e6, 171.3e9, 512, "Table III"),
    "OursLaMaGenerator": (34.0e6, 463.0e9, 512, "Table III"),
    "TSGLGenerator": (37.8e6, 95.1e9, 256, "Table V"),
}
#: what each published "FLOPs" figure counts (the paper mixes conventions; docs/hosts.md, "Size and cost").
PAPER_FLOPS_CONVENTION: Final[dict[str, str]] = {
    "HiFillGenerator": "= 2 × MACs, real FLOPs",
    "LaMaGenerator": "thop-style MACs: transposed convs at output positions, BN/ReLU elements added",
    "OursLaMaGenerator": "= MACs",
    "TSGLGenerator": "matches no subset of the released code; see docs/deviations.md",
}
#: sources whose parameter figure counts the encoder only (Table V; see docs/deviations.md, measured size and cost).
ENCODER_ONLY_SOURCES: Final[frozenset[str]] = frozenset({"Table V"})

# --------------------------------------------------------------------------------------------------- Table VII
TABLE7_ROWS: Final[tuple[str, ...]] = ("ours_basic", "ours_pennet", "ours_hifill", "tsgl")
TABLE7_KINDS: Final[tuple[str, ...]] = ("global", "local")  # global structure image, local residual structure image
TABLE7_METRICS: Final[dict[str, bool]] = {"psnr": True, "ssim": True, "fid": False}
#: The suite's reading of the two unlabelled rows per method (see the module docstring).
TABLE7_RANGES: Final[tuple[str, ...]] = ("10-30%", "30-50%")
# row → range → (global PSNR, SSIM, FID, local PSNR, SSIM, FID)
_TABLE7: Final[dict[str, tuple[tuple[float, ...], tuple[float, ...]]]] = {
    "ours_basic": ((16.81, 0.824, 15.56, 35.59, 0.939, 4.61), (11.58, 0.581, 32.17, 29.34, 0.850, 15.46)),
    "ours_pennet": ((17.04, 0.853, 13.21, 36.85, 0.959, 4.23), (12.29, 0.622, 30.49, 30.92, 0.878, 11.02)),
    "ours_hifill": ((17.24, 0.862, 12.60, 37.49, 0.957, 3.68), (12.41, 0.631, 29.83, 31.16, 0.877, 9.88)),
    "tsgl": ((17.73, 0.876, 11.64, 39.15, 0.967, 2.58), (12.95, 0.675, 27.26, 31.68, 0.904, 8.14)),
}
#: ``TABLE7[row][range][(kind, metric)]`` → the published value.
TABLE7: Final[dict[str, dict[str, dict[tuple[str, str], float]]]] = {
    row: {
        ratio: {(kind, metric): values[3 * k + m]
                for k, kind in enumerate(TABLE7_KINDS) for m, metric in enumerate(TABLE7_METRICS)}
        for ratio, values in zip(TABLE7_RANGES, pair)
    }
    for row, pair in _TABLE7.items()
}
