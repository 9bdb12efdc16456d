"""Table III: Places2 at 512², FID↓ / LPIPS↓ on LaMa's narrow / medium / wide masks (the suite's ``thin`` /
``medium`` / ``thick`` kinds), for HiFill, LaMa and Ours(LaMa). The table's Params / "FLOPs" columns are in
:mod:`.complexity`.
"""

from __future__ import annotations

from typing import Final

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
