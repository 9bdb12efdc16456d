"""Seed 004 ("Multi-Scale Partial Convolutions", MSFEF), Table 1: the loss and module ablation on Helen faces at 256²,
per hole-ratio bucket [0.01, 0.1) … [0.4, 0.5) (left-closed; scheme ``msfef`` of :mod:`inpaint.data.buckets`),
each cell L2 (MSE on [0, 1]) / SSIM / PSNR / LPIPS. The variant names are the ``variant`` axis of
``sweeps/msfef.yaml`` (overlays in ``experiments/model/msfef_variants/``).

The seed's PSNR column repeats itself: "No style" and "No perceptual, no style" share four of five PSNR values, and
the latter shares its first with the plain-PConv row — copy-paste errors, most likely; the values are kept as printed
and the report says so.
"""

from __future__ import annotations

from typing import Final

#: metric → larger is better, in the seed's cell order.
MSFEF_METRICS: Final[dict[str, bool]] = {"mse": False, "ssim": True, "psnr": True, "lpips": False}

#: the seed's buckets as the ``msfef`` scheme labels them.
MSFEF_BUCKET_LABELS: Final[tuple[str, ...]] = ("1-10%", "10-20%", "20-30%", "30-40%", "40-50%")

#: rows in the seed's order: (variant, label as the seed writes it); the last one is ours, not the seed's.
MSFEF_ROWS: Final[tuple[tuple[str, str], ...]] = (
    ("all_losses", "All losses + MSFEF"),
    ("no_mse", "No MSE + MSFEF"),
    ("no_perceptual", "No perceptual + MSFEF"),
    ("no_style", "No style + MSFEF"),
    ("no_perceptual_style", "No perceptual, no style + MSFEF"),
    ("pconv_all_losses", "All losses, plain PConv"),
    ("pconv_no_perceptual_style", "No perceptual, no style, plain PConv (not in the seed)"),
)

# variant → per bucket (L2, SSIM, PSNR, LPIPS), as printed.
_VALUES: Final[dict[str, tuple[tuple[float, float, float, float], ...]]] = {
    "all_losses": ((.0014, .9525, 28.3496, .1549), (.0046, .8806, 23.4008, .2016), (.0086, .8146, 20.6515, .2446),
                   (.0140, .7272, 18.5389, .3097), (.0183, .6876, 17.3642, .3441)),
    "no_mse": ((.0034, .9352, 24.6991, .1612), (.0097, .8464, 20.1296, .2385), (.0226, .7364, 16.4730, .3171),
               (.0312, .6691, 14.9620, .3632), (.0407, .6225, 13.9297, .3917)),
    "no_perceptual": ((.0024, .8979, 26.1351, .1907), (.0086, .8234, 20.6458, .2472), (.0157, .7424, 18.0514, .3328),
                      (.0231, .6818, 16.3660, .3777), (.0274, .6445, 15.6836, .4123)),
    "no_style": ((.0013, .9467, 28.9544, .1685), (.0053, .8821, 22.7670, .2119), (.0106, .8086, 19.7333, .2588),
                 (.0154, .7511, 18.1414, .2993), (.0260, .6741, 15.8722, .3473)),
    "no_perceptual_style": ((.0026, .8819, 25.8145, .2597), (.0055, .8305, 22.7670, .2851),
                            (.0102, .7690, 19.7333, .3229), (.0170, .7059, 18.1414, .3627),
                            (.0235, .6701, 15.8722, .4037)),
    "pconv_all_losses": ((.0035, .8871, 25.8145, .1850), (.0075, .8284, 23.8689, .2327),
                         (.0143, .7276, 19.9081, .3097), (.0202, .6566, 17.6889, .3546),
                         (.0270, .6078, 16.3764, .3802)),
}

#: ``MSFEF_PAPER[variant][bucket][metric]`` → the published value (variants the seed has no row for are absent).
MSFEF_PAPER: Final[dict[str, dict[str, dict[str, float]]]] = {
    variant: {bucket: dict(zip(MSFEF_METRICS, cell)) for bucket, cell in zip(MSFEF_BUCKET_LABELS, cells)}
    for variant, cells in _VALUES.items()
}
