"""The τ sensitivity study (Appendix G, Fig. 23, Paris StreetView): a plot without numbers, so only the values
tried and the one reported best are facts to compare with.
"""

from __future__ import annotations

from typing import Final

#: τ values of the study (the τ sweep's axis, ``sweeps/tau.yaml``).
TAU_VALUES: Final[tuple[int, ...]] = (0, 50, 100, 150, 200)
#: the value the paper reports best.
TAU_PAPER_BEST: Final[int] = 100
