"""Table VIII (appendix, ADE20K): PSNR↑ / SSIM↑ / FID↓ of TSGL with its structure input replaced, at the 20–30 % and
40–50 % hole ratios. Rows are the suite's ``structure_prior`` names (inpaint/conventions.py), in the paper's order."""

from __future__ import annotations

from typing import Final

TABLE8_ROWS: Final[tuple[str, ...]] = ("lowres_rgb", "segmentation", "sobel_x", "sobel_y", "canny_gray")
#: the paper's row labels
TABLE8_LABELS: Final[dict[str, str]] = {
    "lowres_rgb": "Low-Resolution RGB", "segmentation": "Semantic Segmentation", "sobel_x": "Gradients-X",
    "sobel_y": "Gradients-Y", "canny_gray": "Edge map + Grayscale",
}
TABLE8_METRICS: Final[dict[str, bool]] = {"psnr": True, "ssim": True, "fid": False}  # metric → higher is better
TABLE8_RANGES: Final[tuple[str, ...]] = ("20-30%", "40-50%")
#: the paper's choice (best in every column)
TABLE8_OURS: Final[str] = "canny_gray"
# row → (PSNR 20–30, PSNR 40–50, SSIM 20–30, SSIM 40–50, FID 20–30, FID 40–50), as printed
_TABLE8: Final[dict[str, tuple[float, ...]]] = {
    "lowres_rgb": (30.16, 23.83, 0.924, 0.857, 38.69, 80.71),
    "segmentation": (29.22, 24.33, 0.908, 0.849, 44.21, 92.16),
    "sobel_x": (28.44, 24.22, 0.900, 0.842, 47.84, 94.06),
    "sobel_y": (29.24, 24.42, 0.910, 0.849, 46.64, 90.76),
    "canny_gray": (30.62, 24.72, 0.933, 0.865, 35.27, 72.25),
}
#: ``TABLE8[row][range][metric]`` → the published value.
TABLE8: Final[dict[str, dict[str, dict[str, float]]]] = {
    row: {ratio: {metric: values[2 * m + r] for m, metric in enumerate(TABLE8_METRICS)}
          for r, ratio in enumerate(TABLE8_RANGES)}
    for row, values in _TABLE8.items()
}
