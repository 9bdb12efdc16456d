"""Hole-ratio buckets of the evaluation protocol, and the LaMa mask-kind groups.

A bucket set is a tuple of ``(low, high)`` intervals over the hole ratio (fraction of hole pixels, in [0, 1]).
Intervals are half-open with a configurable closed side: ``closed="right"`` gives ``(low, high]``, the NVIDIA
irregular-mask convention, so a mask with exactly 20 % hole belongs to 10–20 %, not to 20–30 %.

* :data:`PAPER_BUCKETS` — the TSGL paper's Table II columns 10–20 / 20–30 / 30–40 / 40–50 %;
* :data:`TABLE4_BUCKETS` — the merged 10–30 / 30–50 % of Tables IV and VIII;
* :data:`NVIDIA_BUCKETS` — the six groups of the NVIDIA irregular test masks, (0.01, 0.1] … (0.5, 0.6];
* :data:`LAMA_KINDS` — LaMa's thin / medium / thick eval sets, grouped by the mask's *kind label*, not its ratio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

Closed = Literal["right", "left"]
Interval = tuple[float, float]

PAPER_BUCKETS: tuple[Interval, ...] = ((0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5))
TABLE4_BUCKETS: tuple[Interval, ...] = ((0.1, 0.3), (0.3, 0.5))
NVIDIA_BUCKETS: tuple[Interval, ...] = ((0.01, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5), (0.5, 0.6))
LAMA_KINDS: tuple[str, ...] = ("thin", "medium", "thick")

#: ratios closer than this to an interval edge count as *on* the edge. It absorbs float32 rounding of a ratio
#: (≈2e-8) while staying below one pixel's share of a 10-megapixel mask (1e-7), so no real mask moves bucket.
EDGE_TOLERANCE = 1e-7


def bucket_index(ratio: float, buckets: Sequence[Interval], closed: Closed = "right") -> int | None:
    """Index of the interval of ``buckets`` that contains ``ratio``, or ``None`` when it lies in none of them.

    ``closed="right"`` → ``(low, high]``; ``closed="left"`` → ``[low, high)``. A ratio within
    :data:`EDGE_TOLERANCE` of an edge is snapped onto that edge first.
    """
    if closed not in ("right", "left"):
        raise ValueError(f"closed must be 'right' or 'left', got {closed!r}")
    r = float(ratio)
    for edge in {e for interval in buckets for e in interval}:
        if abs(r - edge) <= EDGE_TOLERANCE:
            r = edge
            break
    for index, (low, high) in enumerate(buckets):
        inside = low < r <= high if closed == "right" else low <= r < high
        if inside:
            return index
    return None


def bucket_label(interval: Interval) -> str:
    """``(0.1, 0.2)`` → ``"10-20%"`` (whole percent when exact, else one decimal)."""

    def pct(x: float) -> str:
        value = round(100.0 * x, 6)
        return f"{value:.0f}" if value == int(value) else f"{value:.1f}"

    return f"{pct(interval[0])}-{pct(interval[1])}%"


@dataclass(frozen=True)
class BucketScheme:
    """A named set of buckets: ratio intervals, or mask-kind labels (LaMa) when ``kinds`` is given."""

    name: str
    intervals: tuple[Interval, ...] = ()
    kinds: tuple[str, ...] = ()

    def labels(self) -> list[str]:
        return list(self.kinds) if self.kinds else [bucket_label(iv) for iv in self.intervals]

    def assign(self, ratio: float, kind: str | None, closed: Closed = "right") -> int | None:
        """Bucket index of one image (by kind label for kind schemes, by hole ratio otherwise)."""
        if self.kinds:
            return self.kinds.index(kind) if kind in self.kinds else None
        return bucket_index(ratio, self.intervals, closed)


#: every scheme the suite reports, in table order ("all" is always added by the collection).
SCHEMES: dict[str, BucketScheme] = {
    "paper": BucketScheme("paper", PAPER_BUCKETS),
    "table4": BucketScheme("table4", TABLE4_BUCKETS),
    "nvidia": BucketScheme("nvidia", NVIDIA_BUCKETS),
    "lama": BucketScheme("lama", kinds=LAMA_KINDS),
}


def resolve_schemes(names: Sequence[str]) -> list[BucketScheme]:
    """Scheme objects for ``names`` (``"all"`` entries are ignored; the overall row always exists)."""
    unknown = [n for n in names if n not in SCHEMES and n != "all"]
    if unknown:
        raise ValueError(f"unknown bucket scheme(s) {unknown}; choose from {sorted(SCHEMES)}")
    return [SCHEMES[n] for n in names if n != "all"]


def mask_kind_from_name(name: str) -> str | None:
    """LaMa kind label found in a file or folder name (``random_thick_256/img1.png`` → ``"thick"``)."""
    lowered = name.lower()
    found = [kind for kind in LAMA_KINDS if kind in lowered]
    return found[0] if len(found) == 1 else None
