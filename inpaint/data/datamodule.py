"""``InpaintDataModule``: the one entry point from LightningCLI YAML to batches.

Every batch (train / val / test / predict) is a dict: ``image`` B×3×H×W [-1, 1], ``mask`` B×1×H×W {0, 1} with
1 = known, ``edge`` B×1×H×W {0, 1} (Canny of the full image), ``gray`` B×1×H×W [0, 1], ``smooth`` B×3×H×W [-1, 1],
``hole_ratio`` B, ``id`` list[str], ``mask_kind`` list[str] (generator kind, LaMa kind of a mask folder, or
``folder``). With ``structure_prior`` other than ``canny_gray`` (Table VIII), ``structure`` B×C×H×W [0, 1] and
``structure_prior`` list[str] replace ``edge`` and ``gray``. With ``edge_backend="kornia"`` the edge map is computed
batched on the device in :meth:`InpaintDataModule.on_after_batch_transfer` (iterate a loader by hand? call
:meth:`add_device_priors`).

val / test / predict give the fixed evaluation set: ``eval_per_bucket`` samples for each bucket, with masks from
:func:`inpaint.data.masks.fixed_eval_masks` — identical on every call and run for the same (seed, resolution,
buckets, eval_per_bucket), hence the same masks for every model. With ``lama_eval_kinds`` (or ``eval_kinds``) the
test split adds a second loader, the kind set (Table III's thin / medium / thick rows, or e.g. seed 002's free-form
masks, in the same test pass).
"""

from __future__ import annotations

import warnings
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader, DistributedSampler

from inpaint.conventions import HoleValue, StructurePrior, check_structure_prior
from inpaint.data import layouts
from inpaint.data.buckets import LAMA_KINDS, PAPER_BUCKETS, ClosedSide, bucket_label, validate_buckets
from inpaint.data.cache import SmoothingCache, default_cache_dir
from inpaint.data.datasets import (
    ALL_PRIORS,
    EmbeddedImages,
    FolderImages,
    InpaintDataset,
    PriorConfig,
    SyntheticImages,
    crop_tensors,
    discover_splits,
    fixed_eval_crop,
)
from inpaint.data.image_io import AlphaPolicy
from inpaint.data.layouts import LayoutName
from inpaint.data.masks import MASK_KINDS, MaskSampler, fixed_eval_masks, mask_kind_of, normalize_resolution
from inpaint.data.preprocess import EdgeBackend, canny_tensor, check_edge_backend
from inpaint.data.smoothing import (
    L0_BOUNDARIES,
    L0Boundary,
    SmoothingName,
    check_smoothing_method,
    smoothing_parameters,
)
from inpaint.data.structure import ADE_ANNOTATIONS, ADE_IMAGES, ade20k_splits, is_ade20k_root, segmentation_unavailable
from inpaint.errors import MissingPathError, UnavailableError, UserInputError

Source = Literal["embedded", "synthetic", "folder"]
SOURCES: tuple[str, ...] = get_args(Source)
SIZE_MULTIPLE = 32  # every generator of the suite downsamples 5× by 2


@dataclass(frozen=True)
class FixedSample:
    """One sample of the fixed test set: ``id`` as the loaders name it, ``rgb`` H×W×3 uint8 ground truth, ``known``
    H×W float32 mask (1 = known, 0 = hole) and the mask kind label."""

    id: str
    rgb: np.ndarray
    known: np.ndarray
    mask_kind: str


class EpochSampler(DistributedSampler):
    """A ``DistributedSampler`` that yields ``(epoch, index)`` keys, so that each sample's randomness can follow
    (seed, epoch, index) in any worker. Being a DistributedSampler, Lightning keeps it under DDP (no re-wrapping),
    calls its ``set_epoch`` every epoch, and each rank gets its own shard."""

    def __init__(self, dataset: InpaintDataset, shuffle: bool = True, seed: int = 0) -> None:
        distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
        replicas = torch.distributed.get_world_size() if distributed else 1
        rank = torch.distributed.get_rank() if distributed else 0
        super().__init__(dataset, num_replicas=replicas, rank=rank, shuffle=shuffle, seed=seed)

    def __iter__(self):  # type: ignore[override]
        return ((self.epoch, index) for index in super().__iter__())


class InpaintDataModule(pl.LightningDataModule):
    """Images, masks and priors for inpainting; all options are typed keywords so LightningCLI YAML can set them.

    Args:
        source: ``embedded`` (scikit-image photos, offline default), ``synthetic`` (procedural) or ``folder``.
        data_root: folder of images for ``source="folder"`` (recursive; train/val/test sub-folders or lists optional).
            A root holding ``images/`` and ``annotations/`` is an ADE20K-layout folder: images come from ``images/``
            (its ``training/`` and ``validation/`` folders are train and val = test), class-index maps from
            ``annotations/``.
        layout: geometry preset for folders: ``plain``, ``celeba``, ``places2``, ``psv`` (see layouts.py).
        resolution: crop side, or [H, W]; multiples of 32.
        batch_size / eval_batch_size / num_workers: loader settings (eval batch size defaults to batch_size).
        train_masks: generator name (irregular | thin | medium | thick | box | center) or a folder of mask files.
        train_mask_ratio: optional (low, high) hole ratio for generated training masks.
        eval_masks: generator name or mask folder for the fixed evaluation list.
        mask_hole_value: colour of the hole in mask files (``white``: NVIDIA / LaMa files).
        eval_buckets: hole-ratio buckets of the evaluation set (empty list: the generator's own distribution).
        bucket_closed: closed side of the half-open buckets (``right``: (lo, hi] as TSGL / NVIDIA).
        eval_per_bucket: evaluation samples per bucket.
        eval_border_margin: evaluation masks keep 50 px (at 512) from the border (NVIDIA "no-border").
        edge_backend: Canny implementation (skimage = the official prior).
        smoothing: texture prior: ``l0`` (paper), ``rtv`` (official code) or ``none`` (the image itself).
        l0_boundary: L0 boundary handling (``symmetric`` default; ``opencv`` reproduces cv2.ximgproc.l0Smooth).
        legacy_edge_wrap: reproduce the official code's uint8 wrap of edge/gray (for official checkpoints only).
        structure_prior: what the structure branch sees (Table VIII): ``canny_gray`` (paper, default; batches keep
            ``edge`` and ``gray``), ``lowres_rgb``, ``sobel_x``, ``sobel_y`` or ``segmentation`` (ADE20K-layout folder
            only); the others arrive as ``structure``. The generator must be built for the same prior
            (``encoder_options.structure_prior``).
        train_length: samples per training epoch for embedded / synthetic (default 2048) or a cap for folders.
        seed: seeds training randomness (with epoch and index) and the evaluation set.
        cache_dir: smoothing cache (default ``<data_root>/.inpaint_cache``); used when present.
        skip_corrupt: skip (and count) undecodable images instead of failing.
        alpha: RGBA images: ``white`` = composite on white, ``drop`` = ignore alpha.
        pin_memory: pin loader memory (faster host-to-GPU copies).
        lama_eval_kinds: LaMa mask kinds (thin | medium | thick) for an extra *test* set: ``eval_per_bucket`` fixed
            masks of each kind's own distribution on the same eval crops, labelled with their kind. When set,
            ``test_dataloader`` returns ``[main, kinds]`` (val and predict stay the main set alone).
        eval_kinds: the same extra test set from any mask generators (irregular | thin | medium | thick | box |
            center | deepfill), scored per kind (bucket scheme ``kind``); give this or ``lama_eval_kinds``.
    """

    def __init__(
        self,
        *,
        source: Source = "embedded",
        data_root: str | None = None,
        layout: LayoutName = "plain",
        resolution: int | list[int] = 64,
        batch_size: int = 8,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
        train_masks: str = "irregular",
        train_mask_ratio: tuple[float, float] | None = None,
        eval_masks: str = "irregular",
        mask_hole_value: HoleValue = "white",
        eval_buckets: tuple[tuple[float, float], ...] = PAPER_BUCKETS,
        bucket_closed: ClosedSide = "right",
        eval_per_bucket: int = 16,
        eval_border_margin: bool = False,
        lama_eval_kinds: tuple[str, ...] = (),
        eval_kinds: tuple[str, ...] = (),
        edge_backend: EdgeBackend = "skimage",
        smoothing: SmoothingName = "l0",
        l0_boundary: L0Boundary = "symmetric",
        legacy_edge_wrap: bool = False,
        structure_prior: StructurePrior = "canny_gray",
        train_length: int | None = None,
        seed: int = 0,
        cache_dir: str | None = None,
        skip_corrupt: bool = False,
        alpha: AlphaPolicy = "white",
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        if source not in SOURCES:
            raise UserInputError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")
        layouts.check_layout(layout)
        self.height, self.width = normalize_resolution(resolution, SIZE_MULTIPLE)
        check_edge_backend(edge_backend)
        check_smoothing_method(smoothing)
        if l0_boundary not in L0_BOUNDARIES:
            raise UserInputError(f"unknown l0_boundary {l0_boundary!r}; choose one of {', '.join(L0_BOUNDARIES)}")
        if mask_hole_value not in get_args(HoleValue):
            raise UserInputError(f"mask_hole_value must be 'white' or 'black', got {mask_hole_value!r}")
        if batch_size < 1 or eval_per_bucket < 1 or num_workers < 0:
            raise UserInputError(f"need batch_size >= 1, eval_per_bucket >= 1, num_workers >= 0; got {batch_size}, "
                             f"{eval_per_bucket}, {num_workers}")
        self.eval_buckets = validate_buckets(eval_buckets)
        check_lama_eval_kinds(lama_eval_kinds)
        check_eval_kinds(eval_kinds, MASK_KINDS, "eval_kinds")
        if lama_eval_kinds and eval_kinds:
            raise UserInputError("give the extra test set's kinds once: lama_eval_kinds (LaMa's three) or eval_kinds "
                                 f"(any generator), not both (got {list(lama_eval_kinds)} and {list(eval_kinds)})")
        #: the kinds of the extra test set (empty: none)
        self.kind_set_kinds: tuple[str, ...] = tuple(lama_eval_kinds) or tuple(eval_kinds)
        for name, spec in (("train_masks", train_masks), ("eval_masks", eval_masks)):
            if spec not in MASK_KINDS and not Path(spec).is_dir():
                hint = "no such folder" if any(s in spec for s in "/\\") else f"choose one of {', '.join(MASK_KINDS)}"
                raise UserInputError(f"{name}={spec!r} is neither a mask generator nor a folder of masks ({hint})")
        if source == "folder":
            if not data_root:
                raise UserInputError("source='folder' needs data_root (the folder of images)")
            if not Path(data_root).is_dir():
                raise MissingPathError(f"data_root {data_root!r} does not exist or is not a folder")
        check_structure_prior(structure_prior)
        #: the data_root has the ADE20K layout (images/ + annotations/)
        self.ade20k = source == "folder" and is_ade20k_root(data_root or "")
        if structure_prior == "segmentation" and not self.ade20k:
            why = (f"{data_root!r} has no {ADE_IMAGES}/ and {ADE_ANNOTATIONS}/ folders" if source == "folder"
                   else f"the {source} source has none")
            raise UnavailableError(segmentation_unavailable(why))
        self.priors = PriorConfig(edge_backend, smoothing, legacy_edge_wrap, l0_boundary, structure_prior)
        self.train_set: InpaintDataset | None = None
        self.eval_sets: dict[str, InpaintDataset] = {}
        self.skipped_files: list[tuple[Path, str]] = []

    # ---------------------------------------------------------------------------------------------- building ----

    def _cache(self, height: int, width: int) -> SmoothingCache | None:
        hp = self.hparams
        if hp.source != "folder" or hp.smoothing == "none":
            return None
        root = Path(hp.cache_dir) if hp.cache_dir else default_cache_dir(hp.data_root)
        parameters: dict[str, Any] = smoothing_parameters(hp.smoothing)
        if hp.smoothing == "l0":
            parameters["boundary"] = hp.l0_boundary
        cache = SmoothingCache(root, hp.smoothing, parameters, layouts.cache_policy(hp.layout, height, width))
        return cache if cache.exists() else None

    def _images(self, split: str, size: tuple[int, int] | None = None
                ) -> FolderImages | EmbeddedImages | SyntheticImages:
        """The split's image source at ``size`` (default: the module's resolution)."""
        hp = self.hparams
        height, width = size or (self.height, self.width)
        if hp.source == "embedded":
            return EmbeddedImages(height, width, hp.seed)
        if hp.source == "synthetic":
            return SyntheticImages(height, width, hp.seed)
        files = self._folder_splits()[split]
        root = Path(hp.data_root)
        annotations = root / ADE_ANNOTATIONS if self.priors.structure_prior == "segmentation" else None
        images = FolderImages(files, root / ADE_IMAGES if self.ade20k else root, hp.layout, height, width,
                              hp.alpha, hp.skip_corrupt, self._cache(height, width), annotations)
        self.skipped_files.extend(images.skipped)
        return images

    def _eval_masks(self) -> tuple[list[np.ndarray], list[str]]:
        """The fixed evaluation masks (1 = known) and their sample tags (``b<bucket>__m<index>``), bucket-major."""
        hp = self.hparams
        masks = fixed_eval_masks(hp.eval_masks, self.eval_buckets, hp.eval_per_bucket, (self.height, self.width),
                                 hp.seed, hp.bucket_closed, hp.eval_border_margin, hp.mask_hole_value)
        groups = [bucket_label(b).replace("%", "").replace(".", "p") for b in self.eval_buckets] or ["all"]
        tags = [f"b{groups[i // hp.eval_per_bucket]}__m{i % hp.eval_per_bucket:03d}" for i in range(len(masks))]
        return masks, tags

    def _eval_set(self, split: str) -> InpaintDataset:
        hp = self.hparams
        masks, tags = self._eval_masks()
        return InpaintDataset(self._images(split), self.priors, self.height, self.width, hp.seed,
                              eval_masks=masks, eval_tags=tags, eval_mask_kind=mask_kind_of(hp.eval_masks))

    def fixed_test_samples(self) -> list[FixedSample]:
        """The main test set as plain arrays, sample by sample as ``test_dataloader`` yields it (same crops, same
        masks, same ids), without priors: for exporting the set and scoring results made outside the suite."""
        masks, tags = self._eval_masks()
        images = self._images("test")
        kind = mask_kind_of(self.hparams.eval_masks)
        samples = []
        for index, (mask, tag) in enumerate(zip(masks, tags)):
            crop = fixed_eval_crop(images, index)
            samples.append(FixedSample(f"{crop.id}__{tag}", crop.rgb, np.ascontiguousarray(mask, np.float32), kind))
        return samples

    def _kind_set(self, main: InpaintDataset) -> InpaintDataset:
        """The LaMa kind set: per kind, ``eval_per_bucket`` masks of the kind's own distribution, kind-major, on the
        main set's image source (sample i gets the same fixed crop as main sample i)."""
        hp = self.hparams
        masks: list = []
        kinds: list[str] = []
        for kind in self.kind_set_kinds:
            masks += fixed_eval_masks(kind, None, hp.eval_per_bucket, (self.height, self.width), hp.seed,
                                      hp.bucket_closed, hp.eval_border_margin)
            kinds += [kind] * hp.eval_per_bucket
        # "k<kind>" tags never collide with the main set's "b<bucket>" ones (same crops, so the same id stems)
        tags = [f"k{kind}__m{i % hp.eval_per_bucket:03d}" for i, kind in enumerate(kinds)]
        return InpaintDataset(main.images, self.priors, self.height, self.width, hp.seed,
                              eval_masks=masks, eval_tags=tags, eval_mask_kind=kinds)

    def fixed_test_crops(self, count: int, size: tuple[int, int] | None = None,
                         priors: Collection[str] = ALL_PRIORS) -> dict[str, Any]:
        """The first ``count`` fixed crops of the test split — the main test set's images, sample by sample — cut at
        ``size`` (default: the module's resolution) from the source itself, never resized from another size, as one
        batch without masks: ``image``, the ``priors`` asked for (of the full crop) and ``id``.

        For the test-time sweeps (hole size, resolution), which put their own masks on these crops."""
        images = self._images("test", size)
        if isinstance(images, FolderImages) and count > len(images):
            raise UserInputError(f"asked for {count} fixed test crops, but the test split of "
                                 f"{self.hparams.data_root!r} has {len(images)} images")
        samples = [crop_tensors(fixed_eval_crop(images, index), self.priors, priors) for index in range(count)]
        # strings (the ids, a structure prior's name) stay lists; tensors are stacked
        return {key: [s[key] for s in samples] if isinstance(samples[0][key], str)
                else torch.stack([s[key] for s in samples]) for key in samples[0]} if samples else {}

    def _folder_splits(self) -> dict[str, list[Path]]:
        """The folder source's train/val/test files, discovered once (an ADE20K-layout root: its own splits)."""
        if not hasattr(self, "_splits"):
            root = Path(self.hparams.data_root)
            splits = ade20k_splits(root) if self.ade20k else None
            self._splits = splits or discover_splits(root / ADE_IMAGES if self.ade20k else root)
        return self._splits

    def setup(self, stage: str | None = None) -> None:
        hp = self.hparams
        if hp.source == "folder":
            self._folder_splits()
        if stage in (None, "fit") and self.train_set is None:
            sampler = MaskSampler(hp.train_masks, hp.mask_hole_value, hp.train_mask_ratio)
            self.train_set = InpaintDataset(self._images("train"), self.priors, self.height, self.width, hp.seed,
                                            masks=sampler, length=hp.train_length)
        wanted = {"fit": ["val"], "validate": ["val"], "test": ["test"], "predict": ["test"], None: ["val", "test"]}
        for split in wanted.get(stage, ["val", "test"]):
            if split not in self.eval_sets:
                self.eval_sets[split] = self._eval_set(split)
        if "test" in self.eval_sets and self.kind_set_kinds and "test_kinds" not in self.eval_sets:
            self.eval_sets["test_kinds"] = self._kind_set(self.eval_sets["test"])
        if self.skipped_files:
            warnings.warn(f"skipped {len(self.skipped_files)} corrupt image file(s) in total", stacklevel=2)

    # --------------------------------------------------------------------------------------------- loaders ------

    def _loader(self, dataset: InpaintDataset, batch_size: int, sampler: Any = None) -> DataLoader:
        workers = self.hparams.num_workers
        return DataLoader(dataset, batch_size=batch_size, sampler=sampler, shuffle=False, num_workers=workers,
                          pin_memory=self.hparams.pin_memory, persistent_workers=workers > 0, drop_last=False)

    def train_dataloader(self) -> DataLoader:
        if self.train_set is None:
            self.setup("fit")
        assert self.train_set is not None
        sampler = EpochSampler(self.train_set, shuffle=True, seed=self.hparams.seed)
        return self._loader(self.train_set, self.hparams.batch_size, sampler)

    def _eval_loader(self, split: str) -> DataLoader:
        if split not in self.eval_sets:
            self.setup("validate" if split == "val" else "test")
        return self._loader(self.eval_sets[split], self.hparams.eval_batch_size or self.hparams.batch_size)

    def val_dataloader(self) -> DataLoader:
        return self._eval_loader("val")

    def test_dataloader(self) -> DataLoader | list[DataLoader]:
        main = self._eval_loader("test")
        if not self.kind_set_kinds:
            return main  # a single loader, not a list: the test step then gets no dataloader_idx
        return [main, self._eval_loader("test_kinds")]

    def predict_dataloader(self) -> DataLoader:
        return self._eval_loader("test")

    # ------------------------------------------------------------------------------------------ device priors ---

    def add_device_priors(self, batch: dict[str, Any]) -> dict[str, Any]:
        """Fill the priors that are computed batched on the batch's device (the ``kornia`` edge map)."""
        if "edge" not in batch and isinstance(batch.get("gray"), torch.Tensor):
            batch["edge"] = canny_tensor(batch["gray"])
        return batch

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        return self.add_device_priors(batch) if isinstance(batch, dict) else batch


def check_eval_kinds(kinds: Any, allowed: tuple[str, ...], option: str) -> None:
    """``option`` must be a list of distinct kinds from ``allowed`` (an error names the bad value and the choices)."""
    if isinstance(kinds, str):
        raise UserInputError(f"{option} must be a list such as [{', '.join(allowed[:3])}], got the string {kinds!r}")
    what = "a LaMa mask kind" if allowed == LAMA_KINDS else "a mask kind"
    for index, kind in enumerate(kinds):
        if kind not in allowed:
            raise UserInputError(f"{option}: {kind!r} is not {what}; choose from {', '.join(allowed)}")
        if kind in list(kinds)[:index]:
            raise UserInputError(f"{option} names {kind!r} twice; give each of {', '.join(allowed)} at most once")


def check_lama_eval_kinds(kinds: Any) -> None:
    """``lama_eval_kinds`` must be a list of distinct LaMa kinds (an error names the bad value and the choices)."""
    check_eval_kinds(kinds, LAMA_KINDS, "lama_eval_kinds")


def describe_eval_set(module: InpaintDataModule) -> dict[str, Any]:
    """A small, JSON-friendly description of the evaluation protocol (saved with results)."""
    from inpaint.data.masks import EVAL_MASKS_VERSION

    hp = module.hparams
    return {
        "eval_masks": hp.eval_masks, "eval_masks_version": EVAL_MASKS_VERSION, "seed": hp.seed,
        "resolution": [module.height, module.width], "buckets": [list(b) for b in module.eval_buckets],
        "bucket_closed": hp.bucket_closed, "per_bucket": hp.eval_per_bucket,
        "border_margin": hp.eval_border_margin, "source": hp.source, "lama_eval_kinds": list(hp.lama_eval_kinds),
        "eval_kinds": list(hp.eval_kinds),
        **({"structure_prior": hp.structure_prior} if hp.get("structure_prior", "canny_gray") != "canny_gray" else {}),
    }


__all__ = ["EpochSampler", "FixedSample", "InpaintDataModule", "check_eval_kinds", "check_lama_eval_kinds",
           "describe_eval_set"]
