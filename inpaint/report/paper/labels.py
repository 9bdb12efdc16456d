"""The paper's method labels (Tables II, III, VII) for the swap study's generator names.

Keys are the generator names of the swap sweep's axis (``experiments/model/<name>.yaml``).
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
