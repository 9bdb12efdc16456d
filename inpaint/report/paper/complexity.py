"""Published model size and cost: Params and "FLOPs" of Table III (512²) and Table V (TSGL at 256²).

The paper mixes conventions in its "FLOPs" figures (some are multiply-adds, some real FLOPs); what each one counts
is recorded beside it (docs/hosts.md, "Size and cost").
"""

from __future__ import annotations

from typing import Final

#: generator class name → (params, "FLOPs", resolution, source) as published.
PAPER_COMPLEXITY: Final[dict[str, tuple[float, float, int, str]]] = {
    "HiFillGenerator": (3.00e6, 72.10e9, 512, "Table III"),
    "LaMaGenerator": (27.0e6, 171.3e9, 512, "Table III"),
    "OursLaMaGenerator": (34.0e6, 463.0e9, 512, "Table III"),
    "TSGLGenerator": (37.8e6, 95.1e9, 256, "Table V"),
}
#: what each published "FLOPs" figure counts.
PAPER_FLOPS_CONVENTION: Final[dict[str, str]] = {
    "HiFillGenerator": "= 2 × MACs, real FLOPs",
    "LaMaGenerator": "thop-style MACs: transposed convs at output positions, BN/ReLU elements added",
    "OursLaMaGenerator": "= MACs",
    "TSGLGenerator": "matches no subset of the released code; see docs/deviations.md",
}
#: sources whose parameter figure counts the encoder only (Table V; see docs/deviations.md, measured size and cost).
ENCODER_ONLY_SOURCES: Final[frozenset[str]] = frozenset({"Table V"})
