"""Hole-ratio buckets: the one implementation used by the masks, the data module and every metric.

A bucket is a half-open interval ``(low, high)`` over the hole ratio (fraction of hole pixels, in [0, 1]) with a
configurable closed side: ``closed="right"`` gives ``(low, high]`` — the NVIDIA irregular-mask / TSGL convention,
so a mask with exactly 20 % hole belongs to 10–20 %, not to 20–30 % — and ``closed="left"`` gives ``[low, high)``.
A ratio in no bucket of a set gets ``None``.

Named sets:

* :data:`PAPER_BUCKETS` — TSGL (paper) Tables I–II columns 10–20 / 20–30 / 30–40 / 40–50 %;
* :data:`TABLE4_BUCKETS` — the merged 10–30 / 30–50 % of Tables IV and VIII (ablation);
* :data:`NVIDIA_BUCKETS` — the six groups of the NVIDIA irregular test masks, (0.01, 0.1] … (0.5, 0.6];
* :data:`LAMA_KINDS` — LaMa's thin / medium / thick evaluation sets, grouped by the mask's *kind label* (the
  ``mask_kind`` of a sample), not by its ratio; :class:`BucketScheme` covers both kinds of grouping;
* :data:`MSFEF_BUCKETS` — seed 004's Table 1 columns, left-closed: [0.01, 0.1) … [0.4, 0.5) (scheme ``msfef``, which
  keeps its own closed side whatever the run's ``closed`` option says);
* :data:`MASK_KINDS` — every mask generator's kind label (scheme ``kind``: a kind set of any generators, e.g. seed
  002's centre squares and free-form strokes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from inpaint.errors import UserInputError

Bucket = tuple[float, float]
ClosedSide = Literal["right", "left"]

PAPER_BUCKETS: tuple[Bucket, ...] = ((0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5))
TABLE4_BUCKETS: tuple[Bucket, ...] = ((0.1, 0.3), (0.3, 0.5))
NVIDIA_BUCKETS: tuple[Bucket, ...] = ((0.01, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5), (0.5, 0.6))
#: seed 004 (MSFEF) Table 1: half-open on the right, [low, high) — the scheme fixes that side itself
MSFEF_BUCKETS: tuple[Bucket, ...] = ((0.01, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5))
LAMA_KINDS: tuple[str, ...] = ("thin", "medium", "thick")
#: the kind label of every mask generator of :mod:`inpaint.data.masks`
MASK_KINDS: tuple[str, ...] = ("irregular", "thin", "medium", "thick", "box", "center", "deepfill")

#: A ratio this close to a bucket edge counts as *on* the edge. It absorbs float32 rounding of a ratio (a 30 % mask
#: measured in float32 is 0.3000000119) while staying below one pixel's share of a 10-megapixel mask (1e-7), so no
#: real mask moves bucket.
EDGE_TOLERANCE = 1e-7


def check_closed(closed: str) -> None:
    if closed not in ("right", "left"):
        raise UserInputError(f"closed must be 'right' or 'left', got {closed!r}")


def validate_buckets(buckets: Sequence[Sequence[float]] | None) -> list[Bucket]:
    """Check a bucket list: pairs (low, high) with 0 ≤ low < high ≤ 1, sorted, not overlapping. None → []."""
    if buckets is None:
        return []
    checked: list[Bucket] = []
    for bucket in buckets:
        if not isinstance(bucket, Sequence) or isinstance(bucket, str) or len(bucket) != 2:
            raise UserInputError(f"bad bucket {bucket!r}: each bucket must be a pair (low, high) of hole ratios, "
                             "e.g. [[0.1, 0.2], [0.2, 0.3]]")
        low, high = float(bucket[0]), float(bucket[1])
        if not (0.0 <= low < high <= 1.0):
            raise UserInputError(f"bad bucket {tuple(bucket)!r}: need 0 <= low < high <= 1 (hole ratios, not percent)")
        if checked and low < checked[-1][1]:
            raise UserInputError(f"buckets must be sorted and must not overlap: {checked[-1]} then {(low, high)}")
        checked.append((low, high))
    return checked


def in_bucket(ratio: float, bucket: Bucket, closed: ClosedSide = "right") -> bool:
    """Half-open membership: (low, high] for ``closed="right"``, [low, high) for ``"left"``; edges snapped."""
    check_closed(closed)
    low, high = bucket
    value = float(ratio)
    if abs(value - low) <= EDGE_TOLERANCE:
        value = low
    elif abs(value - high) <= EDGE_TOLERANCE:
        value = high
    return low < value <= high if closed == "right" else low <= value < high


def bucket_index(ratio: float, buckets: Sequence[Bucket], closed: ClosedSide = "right") -> int | None:
    """Index of the bucket of ``buckets`` that holds ``ratio``, or ``None`` when it lies in none of them."""
    check_closed(closed)
    for index, bucket in enumerate(buckets):
        if in_bucket(ratio, bucket, closed):
            return index
    return None


def bucket_label(bucket: Bucket) -> str:
    """``(0.1, 0.2)`` → ``"10-20%"`` (whole percent when exact, else one decimal)."""

    def percent(x: float) -> str:
        value = round(100.0 * x, 6)
        return f"{value:.0f}" if value == int(value) else f"{value:.1f}"

    return f"{percent(bucket[0])}-{percent(bucket[1])}%"


@dataclass(frozen=True)
class BucketScheme:
    """A named set of buckets: ratio intervals, or mask-kind labels (LaMa) when ``kinds`` is given.

    ``closed``: the closed side this scheme's paper uses, overriding the run's option (None: the run's option)."""

    name: str
    intervals: tuple[Bucket, ...] = ()
    kinds: tuple[str, ...] = ()
    closed: ClosedSide | None = None

    def labels(self) -> list[str]:
        return list(self.kinds) if self.kinds else [bucket_label(b) for b in self.intervals]

    def assign(self, ratio: float, kind: str | None, closed: ClosedSide = "right") -> int | None:
        """Bucket index of one image (by kind label for kind schemes, by hole ratio otherwise)."""
        if self.kinds:
            return self.kinds.index(kind) if kind in self.kinds else None
        return bucket_index(ratio, self.intervals, self.closed or closed)


#: Every scheme the suite reports, in table order ("all" is always added by the metric collection).
SCHEMES: dict[str, BucketScheme] = {
    "paper": BucketScheme("paper", PAPER_BUCKETS),
    "table4": BucketScheme("table4", TABLE4_BUCKETS),
    "nvidia": BucketScheme("nvidia", NVIDIA_BUCKETS),
    "lama": BucketScheme("lama", kinds=LAMA_KINDS),
    "kind": BucketScheme("kind", kinds=MASK_KINDS),
    "msfef": BucketScheme("msfef", MSFEF_BUCKETS, closed="left"),
}


def resolve_schemes(names: Sequence[str]) -> list[BucketScheme]:
    """Scheme objects for ``names`` (``"all"`` entries are ignored; the overall row always exists)."""
    unknown = [n for n in names if n not in SCHEMES and n != "all"]
    if unknown:
        raise UserInputError(f"unknown bucket scheme(s) {unknown}; choose from {sorted(SCHEMES)}")
    return [SCHEMES[n] for n in names if n != "all"]


def mask_kind_from_name(name: str) -> str | None:
    """LaMa kind label found in a file or folder name (``random_thick_256/img1.png`` → ``"thick"``)."""
    lowered = name.lower()
    found = [kind for kind in LAMA_KINDS if kind in lowered]
    return found[0] if len(found) == 1 else None


__all__ = [
    "EDGE_TOLERANCE", "LAMA_KINDS", "MSFEF_BUCKETS", "NVIDIA_BUCKETS", "PAPER_BUCKETS", "SCHEMES", "TABLE4_BUCKETS",
    "Bucket", "BucketScheme", "ClosedSide", "bucket_index", "bucket_label", "check_closed", "in_bucket",
    "mask_kind_from_name", "resolve_schemes", "validate_buckets",
]
