"""Hole-ratio buckets: edges land on the closed side, float noise does not move a mask across an edge."""

from __future__ import annotations

import pytest
import torch

from inpaint.conventions import hole_ratio
from inpaint.metrics.buckets import (
    NVIDIA_BUCKETS,
    PAPER_BUCKETS,
    SCHEMES,
    TABLE4_BUCKETS,
    bucket_index,
    bucket_label,
    mask_kind_from_name,
    resolve_schemes,
)


@pytest.mark.parametrize(
    ("ratio", "buckets", "closed", "expected"),
    [
        (0.2, PAPER_BUCKETS, "right", 0),  # 20 % belongs to 10–20 % under (lo, hi]
        (0.2, PAPER_BUCKETS, "left", 1),  # … and to 20–30 % under [lo, hi)
        (0.1, PAPER_BUCKETS, "right", None),  # the lower edge of the first bucket is open
        (0.1, PAPER_BUCKETS, "left", 0),
        (0.5, PAPER_BUCKETS, "right", 3),
        (0.5, PAPER_BUCKETS, "left", None),
        (0.3, TABLE4_BUCKETS, "right", 0),
        (0.30000001, TABLE4_BUCKETS, "right", 0),  # float32 noise of 0.3 is snapped onto the edge
        (0.3001, TABLE4_BUCKETS, "right", 1),
        (0.01, NVIDIA_BUCKETS, "right", None),
        (0.6, NVIDIA_BUCKETS, "right", 5),
        (0.05, NVIDIA_BUCKETS, "right", 0),
        (0.75, NVIDIA_BUCKETS, "right", None),
    ],
)
def test_bucket_edges(ratio, buckets, closed, expected):
    assert bucket_index(ratio, buckets, closed) == expected


def test_mask_of_known_ratio_lands_in_its_bucket():
    """A 10×10 mask with exactly 30 holes: float32 gives 0.3000000119, the bucket must still be (0.2, 0.3]."""
    mask = torch.ones(1, 1, 10, 10)
    mask.view(-1)[:30] = 0
    ratio32 = float(hole_ratio(mask))
    assert ratio32 != 0.3  # the float noise is real
    assert bucket_index(ratio32, PAPER_BUCKETS) == 1
    assert bucket_index(ratio32, TABLE4_BUCKETS) == 0
    assert bucket_index(ratio32, NVIDIA_BUCKETS) == 2


def test_labels_and_schemes():
    assert [bucket_label(b) for b in PAPER_BUCKETS] == ["10-20%", "20-30%", "30-40%", "40-50%"]
    assert SCHEMES["nvidia"].labels()[0] == "1-10%"
    assert SCHEMES["lama"].assign(0.9, "thick") == 2
    assert SCHEMES["lama"].assign(0.2, None) is None
    with pytest.raises(ValueError, match="unknown bucket scheme"):
        resolve_schemes(["paper", "celeba"])
    with pytest.raises(ValueError, match="closed"):
        bucket_index(0.2, PAPER_BUCKETS, closed="both")  # type: ignore[arg-type]


def test_mask_kind_from_name():
    assert mask_kind_from_name("random_thick_256/000.png") == "thick"
    assert mask_kind_from_name("masks/medium_12") == "medium"
    assert mask_kind_from_name("irregular/0001") is None
