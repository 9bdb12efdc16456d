"""Table I: the direction of reconstruction — FID↓ at hole ratios 10–20 / 20–30 / 30–40 / 40–50 % of (a) the texture
feature map reconstructed via the structure feature map, with and without it, and (b) the structure feature map
reconstructed via the texture feature map, with and without it. The paper states neither the dataset (its figures
show faces) nor what the four models are beyond these labels; the suite's reading is in docs/model.md and
:mod:`inpaint.report.table1`.
"""

from __future__ import annotations

from typing import Final

TABLE1_BUCKETS: Final[tuple[str, ...]] = ("10-20%", "20-30%", "30-40%", "40-50%")
#: the one metric of Table I and whether larger is better
TABLE1_METRICS: Final[dict[str, bool]] = {"fid": False}

#: group → the paper's title of that half of the table
TABLE1_GROUP_TITLES: Final[dict[str, str]] = {
    "a": "Texture feature map reconstruction via structure feature map",
    "b": "Structure feature map reconstruction via texture feature map",
}

#: Rows in the paper's order: (group, row key, the paper's row label). The key says whether the reconstruction is on.
TABLE1_ROWS: Final[tuple[tuple[str, str, str], ...]] = (
    ("a", "a_with", "w. structure feature map"),
    ("a", "a_without", "w/o. structure feature map"),
    ("b", "b_with", "w. texture feature map"),
    ("b", "b_without", "w/o. texture feature map"),
)

# row key → FID at 10–20, 20–30, 30–40, 40–50 %, as printed (arXiv version; the typeset PDF's Table I is the same)
_TABLE1: Final[dict[str, tuple[float, float, float, float]]] = {
    "a_with": (23.18, 29.71, 40.52, 57.37),
    "a_without": (26.55, 31.33, 42.64, 58.35),
    "b_with": (15.41, 29.76, 43.49, 64.04),
    "b_without": (15.00, 29.64, 42.97, 63.69),
}

#: ``TABLE1[row key][(metric, bucket)]`` → the published value.
TABLE1: Final[dict[str, dict[tuple[str, str], float]]] = {
    key: {("fid", bucket): value for bucket, value in zip(TABLE1_BUCKETS, values)} for key, values in _TABLE1.items()
}
