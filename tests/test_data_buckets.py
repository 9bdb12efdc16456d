"""Hole-ratio buckets (inpaint.data.buckets): edges land on the closed side, float noise does not move a mask across an
edge, bucket lists are validated, and the named sets / LaMa kind scheme are what the paper tables use."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inpaint.conventions import hole_ratio
from inpaint.data.buckets import (
    NVIDIA_BUCKETS,
    PAPER_BUCKETS,
    SCHEMES,
    TABLE4_BUCKETS,
    bucket_index,
    bucket_label,
    in_bucket,
    mask_kind_from_name,
    resolve_schemes,
    validate_buckets,
)
from inpaint.data.masks import fixed_eval_masks, hole_ratio_of


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
    # seed 004's scheme is left-closed whatever the run's option says: 10 % hole opens [0.1, 0.2)
    assert SCHEMES["msfef"].labels() == ["1-10%", "10-20%", "20-30%", "30-40%", "40-50%"]
    assert SCHEMES["msfef"].assign(0.1, None, "right") == 1 and SCHEMES["nvidia"].assign(0.1, None, "right") == 0
    assert SCHEMES["msfef"].assign(0.01, None) == 0 and SCHEMES["msfef"].assign(0.5, None) is None
    with pytest.raises(ValueError, match="unknown bucket scheme"):
        resolve_schemes(["paper", "celeba"])
    with pytest.raises(ValueError, match="closed"):
        bucket_index(0.2, PAPER_BUCKETS, closed="both")  # type: ignore[arg-type]


def test_mask_kind_from_name():
    assert mask_kind_from_name("random_thick_256/000.png") == "thick"
    assert mask_kind_from_name("masks/medium_12") == "medium"
    assert mask_kind_from_name("irregular/0001") is None


def test_named_sets():
    assert PAPER_BUCKETS[0] == (0.1, 0.2) and TABLE4_BUCKETS == ((0.1, 0.3), (0.3, 0.5))
    assert NVIDIA_BUCKETS[0] == (0.01, 0.1) and NVIDIA_BUCKETS[-1] == (0.5, 0.6)
    assert bucket_index(0.55, PAPER_BUCKETS) is None  # outside every bucket: None, never -1
    assert bucket_label((0.125, 0.25)) == "12.5-25%"


def test_numpy_float32_ratio_is_snapped_onto_the_edge():
    ratio32 = float(np.float32(1.0) - np.float32(0.7))  # a 30 % mask measured in float32: 0.3000000119
    assert ratio32 != 0.3 and bucket_index(ratio32, PAPER_BUCKETS) == 1
    assert in_bucket(ratio32, (0.2, 0.3)) and not in_bucket(ratio32, (0.3, 0.4))
    assert in_bucket(ratio32, (0.3, 0.4), closed="left")


@pytest.mark.parametrize("bad", [[(0.2, 0.1)], [(10, 20)], [(0.1, 0.3), (0.2, 0.4)], [(0.1,)], ["ab"]])
def test_bad_bucket_spec(bad):
    with pytest.raises(ValueError, match="bucket"):
        validate_buckets(bad)


def test_validate_buckets_accepts_lists_and_none():
    assert validate_buckets([[0.1, 0.2], [0.2, 0.3]]) == [(0.1, 0.2), (0.2, 0.3)]
    assert validate_buckets(None) == []


def test_generated_eval_masks_and_the_metric_side_agree():
    """The masks the data module generates per bucket are assigned to that bucket by the metrics' ratio (torch,
    float64 count) and by the numpy ratio — one implementation, no -1/None or edge disagreement."""
    masks = fixed_eval_masks("irregular", TABLE4_BUCKETS, 2, 64, seed=0)
    for i, mask in enumerate(masks):
        numpy_ratio = hole_ratio_of(mask)
        torch_ratio = float((torch.from_numpy(mask) < 0.5).double().mean())
        assert bucket_index(numpy_ratio, TABLE4_BUCKETS) == bucket_index(torch_ratio, TABLE4_BUCKETS) == i // 2
