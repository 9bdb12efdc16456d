"""Seed 002 ("Structure First Detail Next"), Tables 3–5: the Pyramid Generator's ablations on DIV2K val at 512² with
centre-square masks, SSIM↑ / PSNR↑ / L1↓ (L1 on the [0, 1] scale). Every table's last row is the same model
("ours": three levels 128+256+512, image-level fusion into the refine input, adaptive dilations), so the three tables
share it. The variant names are the ``variant`` axis of ``sweeps/pyramid.yaml`` (overlays in
``experiments/model/pyramid_variants/``).
"""

from __future__ import annotations

from typing import Final

#: metric → larger is better.
PYRAMID_METRICS: Final[dict[str, bool]] = {"ssim": True, "psnr": True, "l1": False}

#: table → its title in the seed.
PYRAMID_TABLES: Final[dict[str, str]] = {
    "3": "number of levels",
    "4": "fusion",
    "5": "dilation",
}

#: rows in the seed's order: (table, variant, label as the seed writes it).
PYRAMID_ROWS: Final[tuple[tuple[str, str, str], ...]] = (
    ("3", "levels_128_256", "PG 128+256"),
    ("3", "levels_256_512", "PG 256+512"),
    ("3", "ours", "PG 128+256+512 (ours)"),
    ("4", "fusion_feature_coarse", "feature / coarse"),
    ("4", "fusion_feature_refine", "feature / refine"),
    ("4", "fusion_attention_path", "image / attention path only"),
    ("4", "fusion_dilated_path", "image / non-attention path only"),
    ("4", "ours", "image / refine input (ours)"),
    ("5", "dilations_standard", "standard {2, 4, 8, 16}"),
    ("5", "ours", "adaptive (ours)"),
)

# variant → (SSIM, PSNR, L1); "ours" is one model, the last row of every table.
_VALUES: Final[dict[str, tuple[float, float, float] | None]] = {
    "ours": (0.840, 26.74, 0.034),
    "levels_128_256": (0.809, 24.07, 0.042),
    "levels_256_512": (0.827, 26.03, 0.035),
    "fusion_feature_coarse": (0.786, 23.16, 0.044),
    "fusion_feature_refine": None,  # "did not converge"
    "fusion_attention_path": (0.825, 25.94, 0.036),
    "fusion_dilated_path": (0.833, 25.96, 0.036),
    "dilations_standard": (0.829, 26.38, 0.035),
}

#: variants the seed reports as not converging (no numbers).
PYRAMID_NOT_CONVERGED: Final[frozenset[str]] = frozenset(v for v, values in _VALUES.items() if values is None)

#: ``PYRAMID_PAPER[variant][metric]`` → the published value (None: the seed reports no number).
PYRAMID_PAPER: Final[dict[str, dict[str, float | None]]] = {
    variant: dict(zip(PYRAMID_METRICS, values or (None,) * len(PYRAMID_METRICS))) for variant, values in _VALUES.items()
}
