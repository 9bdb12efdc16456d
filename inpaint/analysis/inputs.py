"""The images an analysis looks at, as one batch of generator inputs: the first samples of a data module's fixed
test set, or image / mask files read by the suite's one reader with their priors computed as the data module does.

Both give :class:`AnalysisInputs`: the keyword tensors of the generator contract (``image``, ``mask``, ``edge``,
``gray``, ``smooth``; :mod:`inpaint.models.interface`) and one id per sample. Every model of a comparison gets the same
batch, so their maps differ by the model only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import default_collate

from inpaint.conventions import HoleValue
from inpaint.data.datasets import Crop, PriorConfig, build_sample
from inpaint.data.image_io import read_known_mask, read_rgb
from inpaint.data.preprocess import canny_tensor
from inpaint.errors import UserInputError
from inpaint.models.interface import InpaintGenerator

#: The generator's keyword inputs (the contract's image, mask and priors).
GENERATOR_INPUTS: tuple[str, ...] = ("image", "mask", *InpaintGenerator.priors)
#: Every generator of the suite downsamples five times by 2, so it runs at multiples of 32.
SIZE_MULTIPLE = 32


@dataclass
class AnalysisInputs:
    """One batch for :func:`inpaint.analysis.figures.analyze_generator`: ``tensors`` by keyword, ``ids`` per sample."""

    tensors: dict[str, torch.Tensor]
    ids: list[str]

    @property
    def size(self) -> tuple[int, int]:
        """(H, W) of the images."""
        height, width = self.tensors["image"].shape[-2:]
        return int(height), int(width)


def _from_batch(batch: dict[str, Any], count: int) -> AnalysisInputs:
    tensors = {key: batch[key][:count] for key in GENERATOR_INPUTS if isinstance(batch.get(key), torch.Tensor)}
    return AnalysisInputs(tensors, [str(i) for i in batch["id"][:count]])


def inputs_from_test_set(datamodule: Any, count: int) -> AnalysisInputs:
    """The first ``count`` samples of ``datamodule``'s test set (its fixed held-out crops and fixed test masks, the
    same for every model and run); fewer when the set is smaller. Only those samples are built (priors cost time)."""
    if count < 1:
        raise UserInputError(f"the number of test samples to analyse must be at least 1, got {count}")
    loader = datamodule.test_dataloader()
    if isinstance(loader, list | tuple):  # a main set plus extra mask-kind sets: the main set
        loader = loader[0]
    dataset = loader.dataset
    if len(dataset) == 0:
        raise UserInputError("the data module's test set is empty: nothing to analyse")
    batch = default_collate([dataset[index] for index in range(min(count, len(dataset)))])
    if hasattr(datamodule, "add_device_priors"):  # priors some data modules compute per batch (kornia edges)
        batch = datamodule.add_device_priors(batch)
    return _from_batch(batch, count)


def inputs_from_files(images: Sequence[str | Path], masks: Sequence[str | Path], hole_value: HoleValue = "white",
                      priors: PriorConfig | None = None) -> AnalysisInputs:  # fmt: skip
    """Image files with their mask files (pairwise, same size; every image the same size, a multiple of
    :data:`SIZE_MULTIPLE`: the maps are read at the image's own size, nothing is resized)."""
    if len(images) != len(masks) or not images:
        raise UserInputError(f"give one mask per image: got {len(images)} image(s) and {len(masks)} mask(s)")
    samples = []
    for image_path, mask_path in zip(images, masks):
        rgb = read_rgb(image_path)
        known = read_known_mask(mask_path, hole_value)
        if known.shape != rgb.shape[:2]:
            raise UserInputError(f"mask {mask_path} is {known.shape[1]}×{known.shape[0]} but image {image_path} is "
                                 f"{rgb.shape[1]}×{rgb.shape[0]}; give a mask of exactly the image's size")
        height, width = rgb.shape[:2]
        if height % SIZE_MULTIPLE or width % SIZE_MULTIPLE:
            raise UserInputError(f"image {image_path} is {width}×{height}: the encoder's maps are read at the image's "
                                 f"own size, which must be a multiple of {SIZE_MULTIPLE} (crop or resize it)")
        if samples and rgb.shape != samples[0][1].shape:
            first = samples[0][1].shape
            raise UserInputError(f"image {image_path} is {width}×{height} but {images[0]} is {first[1]}×{first[0]}: "
                                 "the images of one analysis form one batch, so they must have the same size")
        samples.append((Path(image_path).stem, rgb, known))
    built = [build_sample(Crop(rgb, name), known, priors or PriorConfig(), "file") for name, rgb, known in samples]
    batch = default_collate(built)
    if "edge" not in batch:  # an edge backend that runs batched (kornia) leaves the edge map to the batch
        batch["edge"] = canny_tensor(batch["gray"])
    return _from_batch(batch, len(built))


__all__ = ["GENERATOR_INPUTS", "AnalysisInputs", "SIZE_MULTIPLE", "inputs_from_files", "inputs_from_test_set"]
