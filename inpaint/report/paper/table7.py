"""Table VII: PSNR↑ / SSIM↑ / FID↓ on the global structure image and the local residual structure image, for
Ours(Basic), Ours(PENNet), Ours(HiFill) and Ours.

Each method has two unlabelled rows; the suite reads them as the 10–30 % and 30–50 % hole-ratio ranges (a guess:
the first row has the higher PSNR, the paper does not say), and the report says so.
"""

from __future__ import annotations

from typing import Final

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
