"""Table IV: architecture ablation, 12 variants in five groups (I–V), PSNR↑ / SSIM↑ / FID↓ at hole ratios
10–30 % and 30–50 %. The paper does not state the dataset of this table. Names and group titles follow the arXiv
version (the typeset PDF mislabels rows 6, 8 and 10; docs/model.md); the names are those of
:data:`inpaint.models.variants.VARIANTS`.
"""

from __future__ import annotations

from typing import Final

#: Metrics of Table IV and whether larger is better.
TABLE4_METRICS: Final[dict[str, bool]] = {"psnr": True, "ssim": True, "fid": False}
#: Hole-ratio buckets of Table IV, labelled like :func:`inpaint.data.buckets.bucket_label` does.
TABLE4_BUCKETS: Final[tuple[str, ...]] = ("10-30%", "30-50%")

TABLE4_GROUP_TITLES: Final[dict[str, str]] = {
    "I": "Texture feature map only",
    "II": "Global structure feature map reconstructs the texture feature map",
    "III": "Local residual structure feature map reconstructs the texture feature map",
    "IV": "Texture feature map reconstructs the texture feature map",
    "V": "Global and local residual structure simultaneously reconstructs the texture feature map",
}

# (group, variant, PSNR 10-30, PSNR 30-50, SSIM 10-30, SSIM 30-50, FID 10-30, FID 30-50), in the paper's order.
_TABLE4: Final[tuple[tuple[str, str, float, float, float, float, float, float], ...]] = (
    ("I", "Baseline", 29.93, 24.66, 0.963, 0.891, 19.47, 51.90),
    ("II", "Global->Global", 30.74, 25.25, 0.966, 0.902, 16.45, 44.56),
    ("II", "Global->Local", 31.02, 25.52, 0.971, 0.910, 14.69, 41.81),
    ("III", "Local->Global", 31.08, 25.55, 0.971, 0.910, 14.20, 40.13),
    ("III", "Local->Local", 31.04, 25.37, 0.970, 0.906, 14.40, 41.32),
    ("IV", "Texture->Global", 30.74, 25.21, 0.969, 0.900, 15.11, 43.29),
    ("IV", "Texture->Local", 29.78, 24.42, 0.962, 0.881, 18.69, 54.11),
    ("V", "2Global(Local)->Local(Global)", 31.14, 25.66, 0.972, 0.911, 13.93, 39.59),
    ("V", "2Global(Local)->Local(Local)", 30.82, 25.35, 0.970, 0.906, 16.42, 47.15),
    ("V", "Global(2Local)->Global(Local)", 31.27, 25.72, 0.971, 0.913, 14.12, 40.08),
    ("V", "2Global(Texture)->Global(Local)", 30.97, 25.46, 0.970, 0.909, 15.76, 44.10),
    ("V", "2Global(Local)->Global(Local)", 31.47, 25.93, 0.974, 0.917, 13.12, 38.62),
)

#: The variant the paper proposes ("Ours").
TABLE4_OURS: Final[str] = "2Global(Local)->Global(Local)"

#: Rows in the paper's order: (group, variant).
TABLE4_ROWS: Final[tuple[tuple[str, str], ...]] = tuple((row[0], row[1]) for row in _TABLE4)

#: ``TABLE4[variant][(metric, bucket)]`` → the published value.
TABLE4: Final[dict[str, dict[tuple[str, str], float]]] = {
    row[1]: {
        ("psnr", "10-30%"): row[2],
        ("psnr", "30-50%"): row[3],
        ("ssim", "10-30%"): row[4],
        ("ssim", "30-50%"): row[5],
        ("fid", "10-30%"): row[6],
        ("fid", "30-50%"): row[7],
    }
    for row in _TABLE4
}
