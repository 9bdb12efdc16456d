"""Image sources (folder / embedded / synthetic) and the map-style :class:`InpaintDataset` that builds samples.

A sample is a dict of tensors in the suite's conventions (see ``inpaint/models/interface.py``)::

    image 3×H×W [-1, 1] · mask 1×H×W {0, 1} (1 = known) · edge 1×H×W {0, 1} · gray 1×H×W [0, 1]
    smooth 3×H×W [-1, 1] · hole_ratio () float · id str · mask_kind str

With a structure prior other than ``canny_gray`` (Table VIII), ``edge`` and ``gray`` give way to ``structure``
C×H×W [0, 1] and ``structure_prior`` str (its name; :mod:`inpaint.data.structure`).

``mask_kind`` names where the mask came from: a generator kind (``irregular``, ``thin``, ``medium``, ``thick``,
``box``, ``center``), a LaMa kind read from a mask folder's name (``random_thick_256`` → ``thick``) or ``folder``. It
collates to a list of strings; the evaluation fills LaMa's thin / medium / thick rows from it.

Randomness: a training sample's crop, flip and mask come from ``default_rng([seed, epoch, index])``, so a run is
reproducible whatever the number of workers or processes; evaluation samples use no randomness at run time (fixed
crops, fixed mask list).
"""

from __future__ import annotations

import functools
import math
import warnings
import zlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from inpaint.conventions import from_uint8, from_unit
from inpaint.data import layouts
from inpaint.data.cache import SmoothingCache
from inpaint.data.image_io import (
    AlphaPolicy,
    CorruptImageError,
    content_hash,
    decode_rgb,
    find_corrupt,
    list_image_files,
    read_file_bytes,
)
from inpaint.data.masks import MaskSampler
from inpaint.data.preprocess import EdgeBackend, structure_priors
from inpaint.data.smoothing import L0Boundary, smooth_image
from inpaint.data.structure import annotation_path, read_label_map, structure_maps
from inpaint.data.synthetic import synthetic_image
from inpaint.errors import MissingPathError, UserInputError

# scikit-image's bundled colour photos (offline). stereo_motorcycle's right view is left out: it nearly duplicates
# the left one and would leak into the held-out set.
EMBEDDED_TRAIN_PHOTOS: tuple[str, ...] = (
    "astronaut", "chelsea", "stereo_motorcycle", "hubble_deep_field", "retina", "immunohistochemistry",
)
EMBEDDED_EVAL_PHOTOS: tuple[str, ...] = ("coffee", "rocket")
DEFAULT_SYNTHETIC_LENGTH = 2048
HOLDOUT_PERCENT = 10
_MIN_CROP_STD = 4.0  # grey levels: a flatter embedded crop (nothing to inpaint) is redrawn …
_FLAT_CROP_RETRIES = 10  # … at most this many times
# a folder without train/val/test parts: files whose path hash % 100 < 10 are held out


@dataclass(frozen=True)
class PriorConfig:
    """How the structure and texture priors of a sample are computed."""

    edge_backend: EdgeBackend = "skimage"
    smoothing: str = "l0"
    legacy_edge_wrap: bool = False
    l0_boundary: L0Boundary = "symmetric"
    structure_prior: str = "canny_gray"


@dataclass
class Crop:
    """What an image source returns: the RGB crop, an id and (when cached) the matching smoothed crop."""

    rgb: np.ndarray  # H×W×3 uint8
    id: str
    smooth: np.ndarray | None = None  # H×W×3 uint8 from the cache
    labels: np.ndarray | None = None  # H×W class indices (segmentation maps of an ADE20K-layout folder)


# ------------------------------------------------------------------------------------------------ sources --------


class FolderImages:
    """Images under a folder, one split of it, cut by a :mod:`~inpaint.data.layouts` preset.

    ``annotations``: the ADE20K layout's ``annotations/`` folder (``root`` is then its ``images/``); each crop then
    carries the class-index map of its image, cut with the same geometry (nearest-neighbour resizing).
    """

    def __init__(
        self,
        files: Sequence[Path],
        root: Path,
        layout: str,
        height: int,
        width: int,
        alpha: AlphaPolicy = "white",
        skip_corrupt: bool = False,
        cache: SmoothingCache | None = None,
        annotations: Path | None = None,
    ) -> None:
        layouts.check_layout(layout)
        self.root, self.layout, self.height, self.width = Path(root), layout, height, width
        self.alpha, self.cache = alpha, cache
        self.annotations = Path(annotations) if annotations is not None else None
        self.files = list(files)
        self.skipped: list[tuple[Path, str]] = []
        if skip_corrupt:
            self.skipped = find_corrupt(self.files, alpha)
            bad = {path for path, _ in self.skipped}
            self.files = [path for path in self.files if path not in bad]
            if self.skipped:
                warnings.warn(f"skipped {len(self.skipped)} corrupt image file(s) under {str(self.root)!r}, "
                              f"e.g. {str(self.skipped[0][0])!r}", stacklevel=2)
            if not self.files:
                raise MissingPathError(f"every image under {str(self.root)!r} is corrupt ({len(self.skipped)} files)")

    def __len__(self) -> int:
        return len(self.files)

    def load(self, index: int, rng: np.random.Generator | None) -> Crop:
        """Crop ``index``: random window and flip with ``rng`` (training), centre window without (evaluation)."""
        path = self.files[index % len(self.files)]
        data = read_file_bytes(path)
        rgb = decode_rgb(data, path, self.alpha)
        full = layouts.canonical(rgb, self.layout, self.height, self.width)
        corner = layouts.window(full.shape, self.height, self.width, rng)
        flip = bool(rng is not None and rng.random() < 0.5)
        crop = layouts.crop(full, corner, self.height, self.width, flip)
        smooth = None
        if self.cache is not None:
            cached = self.cache.get(content_hash(data))
            if cached is not None and cached.shape == full.shape:
                smooth = layouts.crop(cached, corner, self.height, self.width, flip)
        labels = None
        if self.annotations is not None:
            label_path = annotation_path(path, self.root, self.annotations)
            raw = read_label_map(label_path)
            if raw.shape != rgb.shape[:2]:
                raise UserInputError(f"segmentation map {str(label_path)!r} is {raw.shape[1]}×{raw.shape[0]} but its "
                                     f"image is {rgb.shape[1]}×{rgb.shape[0]}")
            full_labels = layouts.canonical(raw, self.layout, self.height, self.width, labels=True)
            labels = layouts.crop(full_labels, corner, self.height, self.width, flip)
        sample_id = path.relative_to(self.root).with_suffix("").as_posix().replace("/", "__")
        return Crop(crop, sample_id, smooth, labels)


@functools.cache
def embedded_photo(name: str) -> np.ndarray:
    """One of scikit-image's bundled photos as H×W×3 uint8 (read once per process)."""
    import skimage.data

    photo = getattr(skimage.data, name)()
    if isinstance(photo, tuple):  # stereo_motorcycle → (left, right, disparity)
        photo = photo[0]
    return np.ascontiguousarray(photo[..., :3])


class EmbeddedImages:
    """Random crops (random scale, position, flip) of training photos; fixed crops of held-out photos for eval."""

    def __init__(self, height: int, width: int, seed: int = 0,
                 train_photos: Sequence[str] = EMBEDDED_TRAIN_PHOTOS,
                 eval_photos: Sequence[str] = EMBEDDED_EVAL_PHOTOS) -> None:
        overlap = set(train_photos) & set(eval_photos)
        if overlap:
            raise ValueError(f"embedded photos {sorted(overlap)} are both in training and evaluation")
        self.height, self.width, self.seed = height, width, seed
        self.train_photos, self.eval_photos = tuple(train_photos), tuple(eval_photos)

    def _random_crop(self, name: str, rng: np.random.Generator, flip: bool) -> np.ndarray:
        photo = embedded_photo(name)
        fit = min(photo.shape[0] / self.height, photo.shape[1] / self.width)  # the largest crop scale that fits
        low, high = min(1.0, fit), max(1.0, fit)
        factor = math.exp(rng.uniform(math.log(low), math.log(high)))  # log-uniform scale: as many zooms as wides
        box_h = min(photo.shape[0], max(1, round(factor * self.height)))
        box_w = min(photo.shape[1], max(1, round(factor * self.width)))
        top = int(rng.integers(photo.shape[0] - box_h + 1))
        left = int(rng.integers(photo.shape[1] - box_w + 1))
        patch = layouts.resize(photo[top : top + box_h, left : left + box_w], self.height, self.width)
        return np.ascontiguousarray(patch[:, ::-1] if flip else patch)

    def train_crop(self, rng: np.random.Generator, index: int) -> Crop:
        for _ in range(_FLAT_CROP_RETRIES):  # retina's black surround and the dark sky of the Hubble field
            name = self.train_photos[int(rng.integers(len(self.train_photos)))]
            patch = self._random_crop(name, rng, flip=bool(rng.random() < 0.5))
            if patch.std() >= _MIN_CROP_STD:
                break
        return Crop(patch, f"{name}_{index:06d}")

    def eval_crop(self, index: int) -> Crop:
        name = self.eval_photos[index % len(self.eval_photos)]
        rng = np.random.default_rng([self.seed, zlib.crc32(b"embedded-eval"), index])
        return Crop(self._random_crop(name, rng, flip=False), f"{name}_{index:04d}")


class SyntheticImages:
    """Procedural images (:mod:`inpaint.data.synthetic`), seeded per sample."""

    def __init__(self, height: int, width: int, seed: int = 0) -> None:
        self.height, self.width, self.seed = height, width, seed

    def train_crop(self, rng: np.random.Generator, index: int) -> Crop:
        return Crop(synthetic_image(rng, self.height, self.width), f"synthetic_{index:06d}")

    def eval_crop(self, index: int) -> Crop:
        rng = np.random.default_rng([self.seed, zlib.crc32(b"synthetic-eval"), index])
        return Crop(synthetic_image(rng, self.height, self.width), f"synthetic_eval_{index:04d}")


# ------------------------------------------------------------------------------------------- folder splits ------


def _read_file_list(list_file: Path, root: Path) -> list[Path]:
    entries = [line.strip() for line in list_file.read_text().splitlines() if line.strip() and not line.startswith("#")]
    files = [(root / entry) if not Path(entry).is_absolute() else Path(entry) for entry in entries]
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise MissingPathError(f"file list {str(list_file)!r} names {len(missing)} missing file(s), "
                                f"e.g. {missing[0]!r} (paths are relative to {str(root)!r})")
    if not files:
        raise UserInputError(f"file list {str(list_file)!r} is empty")
    return files


def discover_splits(root: str | Path) -> dict[str, list[Path]]:
    """Files for train / val / test under ``root``.

    In order of preference: sub-folders ``train/``, ``val/``, ``test/``; file lists ``train.txt``, ``val.txt``,
    ``test.txt`` (one path per line, relative to ``root``); otherwise every image, with a deterministic 10 % held
    out (by a hash of the relative path) for val = test. A missing val uses test and vice versa; a folder too small to
    hold anything out evaluates on its training images (with a warning).
    """
    root = Path(root)
    all_files = list_image_files(root, "images")  # also raises for a missing / empty folder
    splits: dict[str, list[Path]] = {}
    for split in ("train", "val", "test"):
        if (root / split).is_dir():
            splits[split] = list_image_files(root / split, f"{split} images")
        elif (root / f"{split}.txt").is_file():
            splits[split] = _read_file_list(root / f"{split}.txt", root)
    if "train" not in splits:
        held = [p for p in all_files if zlib.crc32(p.relative_to(root).as_posix().encode()) % 100 < HOLDOUT_PERCENT]
        held_set = set(held)
        train = [p for p in all_files if p not in held_set]
        if not held or not train:
            warnings.warn(f"{str(root)!r} has too few images ({len(all_files)}) to hold some out: evaluation uses "
                          "the training images", stacklevel=2)
            held = train = all_files
        splits["train"] = train
        splits.setdefault("val", held)
        splits.setdefault("test", held)
    if "val" not in splits and "test" not in splits:
        raise MissingPathError(f"{str(root)!r} has a train part but no val/ or test/ folder (or val.txt / test.txt)")
    splits.setdefault("val", splits.get("test", []))
    splits.setdefault("test", splits["val"])
    return splits


# ------------------------------------------------------------------------------------------- the dataset --------


ALL_PRIORS: tuple[str, ...] = ("edge", "gray", "smooth")


def crop_tensors(crop: Crop, priors: PriorConfig, wanted: Collection[str] = ALL_PRIORS
                 ) -> dict[str, torch.Tensor | str]:
    """A crop's ``image``, ``id`` and the ``wanted`` priors of the full, unmasked crop (a mask is added by the caller).

    ``wanted`` lets an evaluation skip priors its generator does not read (``InpaintGenerator.priors``): the smoothing
    of a 256² crop costs a third of a second on one core."""
    image01 = crop.rgb.astype(np.float32) / 255.0
    tensors: dict[str, torch.Tensor | str] = {"image": from_uint8(torch.from_numpy(crop.rgb).permute(2, 0, 1)),
                                              "id": crop.id}
    if {"edge", "gray", "structure"} & set(wanted):
        if priors.structure_prior == "canny_gray":
            gray, edge = structure_priors(image01, priors.edge_backend, priors.legacy_edge_wrap)
            tensors["gray"] = torch.from_numpy(gray)[None]
            if edge is not None:  # None: the kornia edge map is computed batched on the device later
                tensors["edge"] = torch.from_numpy(edge)[None]
        else:  # Table VIII's other priors: C maps in [0, 1] instead of edge + gray
            tensors["structure"] = torch.from_numpy(structure_maps(image01, priors.structure_prior, crop.labels))
            tensors["structure_prior"] = priors.structure_prior
    if "smooth" in wanted:
        if crop.smooth is not None:
            smooth = from_uint8(torch.from_numpy(crop.smooth).permute(2, 0, 1))
        else:
            smooth = from_unit(
                torch.from_numpy(smooth_image(image01, priors.smoothing, priors.l0_boundary)).permute(2, 0, 1)
            )
        tensors["smooth"] = smooth.contiguous()
    return tensors


def build_sample(crop: Crop, mask: np.ndarray, priors: PriorConfig, mask_kind: str) -> dict[str, torch.Tensor | str]:
    """Turn a crop and its mask (of ``mask_kind``) into the sample dict (priors of the full, unmasked crop)."""
    known = torch.from_numpy(np.ascontiguousarray(mask, dtype=np.float32))[None]
    tensors = crop_tensors(crop, priors)
    sample: dict[str, torch.Tensor | str] = {
        "image": tensors["image"],
        "mask": known,
        **({"gray": tensors["gray"]} if "gray" in tensors else {}),  # the key order of before
        "smooth": tensors["smooth"],
        "hole_ratio": 1.0 - known.mean(),
        "id": crop.id,
        "mask_kind": mask_kind,
    }
    for key in ("edge", "structure", "structure_prior"):
        if key in tensors:
            sample[key] = tensors[key]
    return sample


def fixed_eval_crop(images: FolderImages | EmbeddedImages | SyntheticImages, index: int) -> Crop:
    """The ``index``-th fixed evaluation crop of a source (a folder's file ``index`` as the layout crops it)."""
    if isinstance(images, FolderImages):
        return images.load(index, None)
    return images.eval_crop(index)


class InpaintDataset(Dataset):
    """Map-style dataset over an image source.

    Training (``masks`` given): ``length`` samples per epoch; a key is an index or an ``(epoch, index)`` pair
    (see :class:`inpaint.data.datamodule.EpochSampler`). Evaluation (``eval_masks`` given): one sample per fixed
    mask, sample ``i`` pairs the i-th fixed crop with the i-th mask; ``eval_mask_kind`` labels every sample alike or,
    as a sequence, sample by sample.
    """

    def __init__(
        self,
        images: FolderImages | EmbeddedImages | SyntheticImages,
        priors: PriorConfig,
        height: int,
        width: int,
        seed: int = 0,
        masks: MaskSampler | None = None,
        length: int | None = None,
        eval_masks: Sequence[np.ndarray] | None = None,
        eval_tags: Sequence[str] | None = None,
        eval_mask_kind: str | Sequence[str] = "irregular",
    ) -> None:
        if (masks is None) == (eval_masks is None):
            raise ValueError("give either masks (training) or eval_masks (evaluation)")
        self.images, self.priors, self.height, self.width, self.seed = images, priors, height, width, seed
        self.masks, self.eval_masks = masks, list(eval_masks) if eval_masks is not None else None
        self.eval_tags = list(eval_tags) if eval_tags is not None else None
        # one label for the whole set, or one per mask (a set mixing LaMa kinds)
        self.eval_mask_kind = eval_mask_kind if isinstance(eval_mask_kind, str) else list(eval_mask_kind)
        if not isinstance(self.eval_mask_kind, str) and len(self.eval_mask_kind) != len(self.eval_masks or []):
            raise ValueError(f"eval_mask_kind has {len(self.eval_mask_kind)} labels for "
                             f"{len(self.eval_masks or [])} eval masks")
        if self.eval_masks is not None:
            self.length = len(self.eval_masks)
        elif isinstance(images, FolderImages):
            self.length = length or len(images)
        else:
            self.length = length or DEFAULT_SYNTHETIC_LENGTH

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, torch.Tensor | str]:
        epoch, index = key if isinstance(key, tuple) else (0, int(key))
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range for a dataset of {self.length} samples")
        if self.eval_masks is not None:
            crop = self._eval_crop(index)
            tag = self.eval_tags[index] if self.eval_tags else f"{index:04d}"
            crop.id = f"{crop.id}__{tag}"
            kind = self.eval_mask_kind if isinstance(self.eval_mask_kind, str) else self.eval_mask_kind[index]
            return build_sample(crop, self.eval_masks[index], self.priors, kind)
        rng = np.random.default_rng([self.seed, epoch, index])
        if isinstance(self.images, FolderImages):
            # An epoch length other than the file count (``train_length``) draws files at random, so that a short
            # epoch does not keep reusing the first files.
            file_index = index if self.length == len(self.images) else int(rng.integers(len(self.images)))
            crop = self.images.load(file_index, rng)
        else:
            crop = self.images.train_crop(rng, index)
        assert self.masks is not None
        return build_sample(crop, self.masks.sample(rng, self.height, self.width), self.priors, self.masks.kind)

    def _eval_crop(self, index: int) -> Crop:
        return fixed_eval_crop(self.images, index)


__all__ = [
    "Crop", "CorruptImageError", "EmbeddedImages", "FolderImages", "InpaintDataset", "PriorConfig",
    "SyntheticImages", "build_sample", "crop_tensors", "discover_splits", "embedded_photo", "fixed_eval_crop",
]
