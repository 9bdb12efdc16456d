"""Masks: seeded generators, mask folders and fixed evaluation lists (buckets: :mod:`inpaint.data.buckets`).

Every mask here is a float32 H×W array with **1 = known, 0 = hole** (the suite's convention); the hole ratio is the
fraction of zeros at the working resolution.

Generator families (``generate_mask(kind, ...)``), all driven by a ``numpy.random.Generator``:

* ``irregular`` — NVIDIA/PConv-style free-form holes: random-walk brush strokes plus occasional elliptic blobs
  (the NVIDIA set itself is not redistributable; point ``train_masks`` at its folder to use it). Without a ratio
  request one of the six NVIDIA groups (0.01, 0.1] … (0.5, 0.6] is picked uniformly, as in the set. Optional border
  margin: no hole within 50 px of the border at 512 (scaled), the set's "no-border" half.
* ``thin`` / ``medium`` / ``thick`` — LaMa's narrow / medium / wide masks with the parameters of LaMa's 512 data_gen
  configs (table in docs/data.md): polylines of 1–5 segments with random length and brush width; medium and thick
  are, with odds 0.3 : 1, replaced by 1–5 (1–4) random boxes; masks with more than 50 % hole are redrawn
  (``max_tamper_area``).
* ``box`` — 1–4 axis-aligned rectangles (LaMa's wide box parameters).
* ``center`` — one centred square (PG's centre masks); 25 % of the area unless a ratio interval is asked.
  :func:`center_square_mask` gives the one square closest to an exact ratio (the hole-size and resolution sweeps).
* ``deepfill`` — DeepFillv2's free-form training masks (its paper's Algorithm 1): 1–3 brush strokes of 4–11
  vertices, turning by 2π/5 ± up to 2π/15 with alternating direction, segment lengths ~ N(r, r/2) clipped to
  [0, 2r] with r = image diagonal / 8, brush 24–80 px (12–40 at its 256), round joints, randomly mirrored; united
  with one random box of 37.5–50 % of each side (its 128-px box shrunk by up to 16 px per edge at 256). Ratio
  requests add strokes only.

Lengths, widths, margins and box sizes are given at 512 px and scaled by min(H, W) / 512.
Ratio requests (``ratio_range=(lo, hi)``) draw a target ratio in the interval and add one stroke (box) at a time,
discarding any that would overshoot ``hi`` and shrinking the strokes after repeated overshoots, until the ratio
passes the target.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import get_args

import cv2
import numpy as np

from inpaint.conventions import HoleValue
from inpaint.data.buckets import (
    MASK_KINDS,
    NVIDIA_BUCKETS,
    Bucket,
    ClosedSide,
    bucket_label,
    in_bucket,
    mask_kind_from_name,
    validate_buckets,
)
from inpaint.data.image_io import list_image_files, read_known_mask
from inpaint.errors import UserInputError

#: ``mask_kind`` of samples whose masks come from a folder of mask files (no generator kind is known)
FOLDER_MASK_KIND = "folder"

#: Bump when any generator or the seeding of :func:`fixed_eval_masks` changes: eval masks are then different.
EVAL_MASKS_VERSION = 1


REFERENCE_SIZE = 512  # the resolution at which all generator parameters below are stated
NVIDIA_BORDER_MARGIN = 50  # px at 512: the "no-border" half of the NVIDIA test set
LAMA_MAX_HOLE_RATIO = 0.5  # LaMa's max_tamper_area
_MAX_REDRAWS = 100
_MAX_PIECES = 3000


# ------------------------------------------------------------------------------------------------ ratios ---------


def hole_ratio_of(mask: np.ndarray) -> float:
    """Hole fraction of a numpy known-mask (1 = known)."""
    return float(1.0 - np.asarray(mask, dtype=np.float64).mean())


# ------------------------------------------------------------------------------------- drawing primitives --------


def _scale(height: int, width: int) -> float:
    return min(height, width) / REFERENCE_SIZE


def _polyline_stroke(
    hole: np.ndarray, rng: np.random.Generator, scale: float, max_angle: int, max_len: float, max_width: float,
    flip_angle: bool,
) -> None:
    """One LaMa-style brush polyline: 1–5 segments, angle 0.01 + randint(max_angle) rad, length 10 + randint(max_len),
    width 5 + randint(max_width), all lengths scaled; segments end clipped to the image."""
    height, width = hole.shape
    x, y = int(rng.integers(width)), int(rng.integers(height))
    for _ in range(1 + int(rng.integers(5))):
        angle = 0.01 + int(rng.integers(max_angle))
        if flip_angle:
            angle = 2 * math.pi - angle
        length = (10 + int(rng.integers(max(1, int(max_len))))) * scale
        brush = max(1, round((5 + int(rng.integers(max(1, int(max_width))))) * scale))
        end_x = int(np.clip(x + length * math.sin(angle), 0, width))
        end_y = int(np.clip(y + length * math.cos(angle), 0, height))
        cv2.line(hole, (x, y), (end_x, end_y), 1, brush)
        x, y = end_x, end_y


def _boxes(
    hole: np.ndarray, rng: np.random.Generator, scale: float, margin: float, min_size: float, max_size: float,
    count: int,
) -> None:
    """``count`` axis-aligned rectangles with sides in [min_size, max_size) px (scaled), ``margin`` from the border."""
    height, width = hole.shape
    pad = int(round(margin * scale))
    for _ in range(count):
        sides = []
        for extent in (width, height):
            low = max(1, int(round(min_size * scale)))
            high = max(low + 1, min(int(round(max_size * scale)), extent - 2 * pad))
            sides.append(int(rng.integers(low, high)))
        box_w, box_h = sides
        x = int(rng.integers(pad, max(pad + 1, width - pad - box_w + 1)))
        y = int(rng.integers(pad, max(pad + 1, height - pad - box_h + 1)))
        hole[y : y + box_h, x : x + box_w] = 1


def _free_form_stroke(hole: np.ndarray, rng: np.random.Generator, scale: float) -> None:
    """NVIDIA-style piece: a random-walk brush stroke (1–6 vertices, 20–120 px steps, 10–40 px wide), or with
    probability 0.3 an elliptic blob (semi-axes 15–60 px); sizes at 512."""
    height, width = hole.shape
    if rng.random() < 0.3:
        center = (int(rng.integers(width)), int(rng.integers(height)))
        axes = (max(1, round(rng.uniform(15, 60) * scale)), max(1, round(rng.uniform(15, 60) * scale)))
        cv2.ellipse(hole, center, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
        return
    x, y = float(rng.integers(width)), float(rng.integers(height))
    brush = max(1, round(rng.uniform(10, 40) * scale))
    heading = rng.uniform(0, 2 * math.pi)
    for _ in range(int(rng.integers(1, 7))):
        heading += rng.uniform(-1.2, 1.2)
        step = rng.uniform(20, 120) * scale
        end_x = float(np.clip(x + step * math.cos(heading), 0, width - 1))
        end_y = float(np.clip(y + step * math.sin(heading), 0, height - 1))
        cv2.line(hole, (int(x), int(y)), (int(end_x), int(end_y)), 1, brush)
        cv2.circle(hole, (int(end_x), int(end_y)), max(1, brush // 2), 1, -1)  # round joints
        x, y = end_x, end_y


def _deepfill_stroke(hole: np.ndarray, rng: np.random.Generator, scale: float) -> None:
    """One DeepFillv2 brush stroke (module doc): a polyline whose turns alternate around 2π/5, drawn with one width."""
    height, width = hole.shape
    radius = math.hypot(height, width) / 8
    spread = rng.uniform(0, 2 * math.pi / 15, size=2)
    low, high = 2 * math.pi / 5 - spread[0], 2 * math.pi / 5 + spread[1]
    brush = max(1, round(rng.uniform(24, 80) * scale))
    x, y = float(rng.integers(width)), float(rng.integers(height))
    for i in range(int(rng.integers(4, 12))):
        angle = rng.uniform(low, high)
        angle = 2 * math.pi - angle if i % 2 == 0 else angle
        length = float(np.clip(rng.normal(radius, radius / 2), 0, 2 * radius))
        end_x = float(np.clip(x + length * math.cos(angle), 0, width - 1))
        end_y = float(np.clip(y + length * math.sin(angle), 0, height - 1))
        cv2.line(hole, (int(x), int(y)), (int(end_x), int(end_y)), 1, brush)
        cv2.circle(hole, (int(x), int(y)), max(1, brush // 2), 1, -1)
        x, y = end_x, end_y
    cv2.circle(hole, (int(x), int(y)), max(1, brush // 2), 1, -1)


def _deepfill_hole(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """DeepFillv2's training mask: 1–3 strokes, randomly mirrored, united with one random box."""
    scale = _scale(height, width)
    hole = np.zeros((height, width), np.uint8)
    for _ in range(int(rng.integers(1, 4))):
        _deepfill_stroke(hole, rng, scale)
    if rng.random() < 0.5:
        hole = hole[:, ::-1]
    if rng.random() < 0.5:
        hole = hole[::-1, :]
    hole = np.ascontiguousarray(hole)
    box_h = height // 2 - 2 * int(rng.integers(height // 16 + 1))  # its 128 of 256, minus up to 16 px per edge
    box_w = width // 2 - 2 * int(rng.integers(width // 16 + 1))
    top, left = int(rng.integers(height - box_h + 1)), int(rng.integers(width - box_w + 1))
    hole[top : top + box_h, left : left + box_w] = 1
    return hole


# LaMa's 512 data_gen parameters (docs/data.md): (max_len, max_width, min strokes, max strokes, box params or None).
_LAMA_STROKES = {
    "thin": dict(max_angle=4, max_len=100, max_width=20, min_times=4, max_times=70),
    "medium": dict(max_angle=4, max_len=200, max_width=100, min_times=4, max_times=10),
    "thick": dict(max_angle=4, max_len=450, max_width=250, min_times=1, max_times=5),
}
_LAMA_BOXES = {
    "medium": dict(margin=0, min_size=30, max_size=150, min_times=1, max_times=5),
    "thick": dict(margin=10, min_size=30, max_size=300, min_times=1, max_times=4),
    "box": dict(margin=10, min_size=30, max_size=300, min_times=1, max_times=4),
}
_LAMA_BOX_ODDS = 0.3  # LaMa's box_proba next to irregular_proba = 1, normalised: P(box) = 0.3 / 1.3


def _piece_drawer(kind: str, rng: np.random.Generator) -> Callable[[np.ndarray, float, int], None]:
    """A function that adds one piece (stroke or box) of ``kind`` to a hole map, for ratio-targeted drawing."""
    if kind == "irregular":
        return lambda hole, scale, i: _free_form_stroke(hole, rng, scale)
    if kind == "deepfill":
        return lambda hole, scale, i: _deepfill_stroke(hole, rng, scale)
    if kind == "box":
        p = _LAMA_BOXES["box"]
        return lambda hole, scale, i: _boxes(hole, rng, scale, p["margin"], p["min_size"], p["max_size"], 1)
    p = _LAMA_STROKES[kind]
    return lambda hole, scale, i: _polyline_stroke(
        hole, rng, scale, p["max_angle"], p["max_len"], p["max_width"], flip_angle=i % 2 == 0
    )


def _natural_hole(kind: str, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """One mask of ``kind`` from its own distribution (no ratio request), as a uint8 hole map."""
    scale = _scale(height, width)
    hole = np.zeros((height, width), np.uint8)
    if kind == "deepfill":
        return _deepfill_hole(height, width, rng)
    if kind == "center":
        side_h, side_w = round(height / 2), round(width / 2)
        top, left = (height - side_h) // 2, (width - side_w) // 2
        hole[top : top + side_h, left : left + side_w] = 1
        return hole
    use_boxes = kind == "box" or (kind in _LAMA_BOXES and rng.random() < _LAMA_BOX_ODDS / (1 + _LAMA_BOX_ODDS))
    if use_boxes:
        p = _LAMA_BOXES[kind]
        count = int(rng.integers(p["min_times"], p["max_times"] + 1))
        _boxes(hole, rng, scale, p["margin"], p["min_size"], p["max_size"], count)
        return hole
    p = _LAMA_STROKES[kind]
    for i in range(int(rng.integers(p["min_times"], p["max_times"] + 1))):
        _polyline_stroke(hole, rng, scale, p["max_angle"], p["max_len"], p["max_width"], flip_angle=i % 2 == 0)
    return hole


def _center_hole(height: int, width: int, ratio_range: Bucket, closed: ClosedSide, rng: np.random.Generator
                 ) -> np.ndarray:
    """A centred square whose area ratio lies in ``ratio_range`` (a random admissible side length)."""
    sides = [s for s in range(1, min(height, width) + 1) if in_bucket(s * s / (height * width), ratio_range, closed)]
    if not sides:
        raise UserInputError(f"no centred square at {height}×{width} has a hole ratio in {ratio_range}; "
                         "use a larger resolution or a wider interval")
    return _centred_square(height, width, sides[int(rng.integers(len(sides)))])


def _centred_square(height: int, width: int, side: int) -> np.ndarray:
    """A uint8 hole map (1 = hole) with one side×side square in the centre (rounded up-left when odd)."""
    hole = np.zeros((height, width), np.uint8)
    top, left = (height - side) // 2, (width - side) // 2
    hole[top : top + side, left : left + side] = 1
    return hole


def center_square_side(height: int, width: int, ratio: float) -> int:
    """The side of the centred square whose area is closest to ``ratio`` of height×width (ties: the smaller)."""
    if not 0.0 < ratio < 1.0:
        raise UserInputError(f"a centre-square hole ratio must lie in (0, 1), got {ratio}")
    target = ratio * height * width
    side = min(range(1, min(height, width) + 1), key=lambda s: (abs(s * s - target), s))
    if side * side < target and side == min(height, width):
        raise UserInputError(f"a centred square of {ratio:.0%} of {height}×{width} does not fit: its side would "
                             f"exceed {side} px")
    return side


def center_square_mask(height: int, width: int, ratio: float) -> np.ndarray:
    """The deterministic centre-square mask of a hole-size sweep (seed 002, Fig. 6): float32, 1 = known, one centred
    square hole whose area is the closest a whole-pixel square gets to ``ratio`` of the image (on 64²: 15 % → 25²
    = 625 px, 55 % → 47² = 2209 px; :func:`center_square_side`)."""
    return (1 - _centred_square(height, width, center_square_side(height, width, ratio))).astype(np.float32)


def _targeted_hole(kind: str, height: int, width: int, rng: np.random.Generator, ratio_range: Bucket,
                   closed: ClosedSide, region: np.ndarray | None) -> np.ndarray:
    """Add pieces until the hole ratio passes a target drawn uniformly in ``ratio_range``; a piece that would
    overshoot the interval is dropped, and after every 6 overshoots the pieces shrink by 30 % (adaptive strokes)."""
    lo, hi = ratio_range
    target = rng.uniform(lo, hi)  # spread the masks over the interval instead of stopping just past its low end
    total = float(height * width)
    draw = _piece_drawer(kind, rng)
    hole = np.zeros((height, width), np.uint8)
    scale = _scale(height, width)
    overshoots = 0
    for i in range(_MAX_PIECES):
        candidate = hole.copy()
        draw(candidate, scale, i)
        if region is not None:
            candidate &= region
        ratio = int(candidate.sum()) / total
        too_much = ratio > hi if closed == "right" else ratio >= hi
        if too_much:
            overshoots += 1
            if overshoots % 6 == 0:
                scale *= 0.7
            continue
        hole = candidate
        if ratio >= target and in_bucket(ratio, ratio_range, closed):
            return hole
    return hole  # never reached in practice (tests: 100 % land); the fullest mask below the interval


def _border_region(height: int, width: int) -> np.ndarray:
    margin = int(round(NVIDIA_BORDER_MARGIN * _scale(height, width)))
    region = np.zeros((height, width), np.uint8)
    region[margin : height - margin, margin : width - margin] = 1
    return region


def check_mask_kind(kind: str) -> None:
    if kind not in MASK_KINDS:
        raise UserInputError(f"unknown mask kind {kind!r}; choose one of {', '.join(MASK_KINDS)} or give a folder of "
                         "mask images")


def generate_mask(
    kind: str,
    height: int,
    width: int,
    rng: np.random.Generator,
    ratio_range: Sequence[float] | None = None,
    closed: ClosedSide = "right",
    border_margin: bool = False,
) -> np.ndarray:
    """One seeded mask of ``kind`` at height×width: float32, 1 = known, 0 = hole.

    ``ratio_range=(lo, hi)`` asks for a hole ratio in that half-open interval (closed side ``closed``);
    ``border_margin=True`` keeps holes ≥ 50 px (at 512, scaled) away from the border (NVIDIA "no-border").
    Without a ratio request LaMa kinds are redrawn while their hole exceeds 50 % (LaMa's max_tamper_area).
    """
    check_mask_kind(kind)
    if height < 8 or width < 8:
        raise UserInputError(f"mask size {height}×{width} is too small (need at least 8×8)")
    region = _border_region(height, width) if border_margin else None
    if ratio_range is not None:
        bucket = validate_buckets([ratio_range])[0]
        if kind == "center":
            hole = _center_hole(height, width, bucket, closed, rng)
        else:
            hole = _targeted_hole(kind, height, width, rng, bucket, closed, region)
    elif kind == "irregular":
        # Like training on the NVIDIA set, whose six ratio groups are equally large: a group uniformly, then a mask
        # in it.
        bucket = NVIDIA_BUCKETS[int(rng.integers(len(NVIDIA_BUCKETS)))]
        hole = _targeted_hole(kind, height, width, rng, bucket, closed, region)
    else:
        for _ in range(_MAX_REDRAWS):
            hole = _natural_hole(kind, height, width, rng)
            if region is not None:
                hole &= region
            if kind not in _LAMA_STROKES or hole.mean() <= LAMA_MAX_HOLE_RATIO:
                break
    return (1 - hole).astype(np.float32)


# ----------------------------------------------------------------------------------------------- folders ---------


class MaskFolder:
    """A folder of mask images (e.g. the NVIDIA irregular set): any size, resized with nearest neighbour,
    read and binarised like every mask file (:func:`inpaint.data.image_io.read_known_mask`: luminance > 127),
    white = hole unless ``hole_value="black"``."""

    def __init__(self, root: str | Path, hole_value: HoleValue = "white") -> None:
        if hole_value not in get_args(HoleValue):
            raise UserInputError(f"mask_hole_value must be 'white' or 'black', got {hole_value!r}")
        self.root = Path(root)
        self.hole_value = hole_value
        self.files = list_image_files(self.root, "mask files")

    def __len__(self) -> int:
        return len(self.files)

    def load(self, index: int, height: int, width: int, flip: bool = False) -> np.ndarray:
        """Mask ``index`` at height×width as float32 (1 = known), optionally flipped left–right."""
        known = read_known_mask(self.files[index], self.hole_value)
        if known.shape != (height, width):
            known = cv2.resize(known, (width, height), interpolation=cv2.INTER_NEAREST)
        return np.ascontiguousarray(known[:, ::-1] if flip else known)


def mask_kind_of(spec: str) -> str:
    """``mask_kind`` label of a ``train_masks`` / ``eval_masks`` value: the generator name itself; for a folder the
    LaMa kind its name states (``random_thick_256`` → ``thick``), else :data:`FOLDER_MASK_KIND`."""
    if spec in MASK_KINDS:
        return spec
    return mask_kind_from_name(Path(spec).name) or FOLDER_MASK_KIND


class MaskSampler:
    """Training masks from a generator name or a folder path (``train_masks`` of the DataModule)."""

    def __init__(self, spec: str, hole_value: HoleValue = "white",
                 ratio_range: Sequence[float] | None = None) -> None:
        self.spec = str(spec)
        self.ratio_range = tuple(ratio_range) if ratio_range is not None else None
        if self.spec in MASK_KINDS:
            self.folder: MaskFolder | None = None
        elif Path(self.spec).is_dir() or any(sep in self.spec for sep in ("/", "\\")):
            self.folder = MaskFolder(self.spec, hole_value)
        else:
            check_mask_kind(self.spec)

    @property
    def kind(self) -> str:
        """The ``mask_kind`` of the masks it draws (see :func:`mask_kind_of`)."""
        return mask_kind_of(self.spec)

    def sample(self, rng: np.random.Generator, height: int, width: int) -> np.ndarray:
        if self.folder is None:
            return generate_mask(self.spec, height, width, rng, self.ratio_range)
        index = int(rng.integers(len(self.folder)))
        return self.folder.load(index, height, width, flip=bool(rng.random() < 0.5))


# ------------------------------------------------------------------------------------ fixed evaluation lists ------


def _eval_rng(seed: int, kind: str, bucket: Bucket | None, index: int) -> np.random.Generator:
    bucket_key = [0, 0] if bucket is None else [round(bucket[0] * 10000), round(bucket[1] * 10000)]
    return np.random.default_rng([EVAL_MASKS_VERSION, seed, zlib.crc32(kind.encode()), *bucket_key, index])


def fixed_eval_masks(
    kind: str,
    buckets: Sequence[Sequence[float]] | None,
    per_bucket: int,
    resolution: int | Sequence[int],
    seed: int = 0,
    closed: ClosedSide = "right",
    border_margin: bool = False,
    hole_value: HoleValue = "white",
) -> list[np.ndarray]:
    """The same ``per_bucket`` masks per bucket for a given (kind, seed, resolution), bucket-major.

    ``kind`` is a generator name or a folder of mask files. For a folder, every file is measured at ``resolution``
    and a seeded choice of the files in each bucket is returned (an error when a bucket has too few).
    ``buckets=None`` (or empty) gives ``per_bucket`` masks of the kind's own distribution.
    Masks depend on :data:`EVAL_MASKS_VERSION`; each mask's seed depends only on (version, seed, kind, bucket, index),
    so adding a bucket does not change the masks of the others.
    """
    height, width = normalize_resolution(resolution)
    checked = validate_buckets(buckets)
    if per_bucket < 1:
        raise UserInputError(f"per_bucket must be >= 1, got {per_bucket}")
    groups: list[Bucket | None] = list(checked) if checked else [None]
    if kind not in MASK_KINDS and (Path(kind).is_dir() or any(sep in kind for sep in ("/", "\\"))):
        return _fixed_folder_masks(MaskFolder(kind, hole_value), groups, per_bucket, height, width, seed, closed)
    check_mask_kind(kind)
    masks = []
    for bucket in groups:
        for index in range(per_bucket):
            rng = _eval_rng(seed, kind, bucket, index)
            masks.append(generate_mask(kind, height, width, rng, bucket, closed, border_margin))
    return masks


def _fixed_folder_masks(folder: MaskFolder, groups: list[Bucket | None], per_bucket: int, height: int, width: int,
                        seed: int, closed: ClosedSide) -> list[np.ndarray]:
    loaded = [folder.load(i, height, width) for i in range(len(folder))]
    ratios = [hole_ratio_of(m) for m in loaded]
    masks: list[np.ndarray] = []
    for bucket in groups:
        members = [i for i, r in enumerate(ratios) if bucket is None or in_bucket(r, bucket, closed)]
        if len(members) < per_bucket:
            label = "the folder" if bucket is None else f"bucket {bucket_label(bucket)}"
            raise UserInputError(f"{label} has only {len(members)} masks in {str(folder.root)!r} at {height}×{width}, "
                             f"but {per_bucket} per bucket were asked; lower eval_per_bucket or add masks")
        order = np.random.default_rng([EVAL_MASKS_VERSION, seed]).permutation(len(members))
        masks.extend(loaded[members[j]] for j in order[:per_bucket])
    return masks


def normalize_resolution(resolution: int | Sequence[int], multiple: int = 1) -> tuple[int, int]:
    """``64`` or ``[H, W]`` → (H, W), checked to be positive (and multiples of ``multiple``)."""
    if isinstance(resolution, (int, np.integer)) and not isinstance(resolution, bool):
        height = width = int(resolution)
    elif isinstance(resolution, Sequence) and not isinstance(resolution, str) and len(resolution) == 2:
        height, width = int(resolution[0]), int(resolution[1])
    else:
        raise UserInputError(f"resolution must be an int or [height, width], got {resolution!r}")
    if height <= 0 or width <= 0 or height % multiple or width % multiple:
        need = f"positive multiples of {multiple}" if multiple > 1 else "positive"
        raise UserInputError(f"resolution {resolution!r} is invalid: height and width must be {need} "
                         f"(the generators downsample by {multiple}); e.g. 64, 256 or [256, 384]")
    return height, width
