"""Table VIII's structure priors as data: exact values on hand-made images, the default sample unchanged, and
segmentation maps from an ADE20K-layout folder (a refusal on one line without them)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _ade20k import ade_folder, labels_of
from PIL import Image

from inpaint.conventions import STRUCTURE_PRIOR_CHANNELS, STRUCTURE_PRIORS, from_uint8, structure_target_channels
from inpaint.data.datamodule import InpaintDataModule
from inpaint.data.datasets import Crop, PriorConfig, build_sample
from inpaint.data.preprocess import structure_priors
from inpaint.data.smoothing import smooth_image
from inpaint.data.structure import (
    PALETTE,
    lowres_rgb,
    segmentation_colours,
    sobel_gradient,
    sobel_map,
    structure_maps,
)
from inpaint.data.synthetic import synthetic_image
from inpaint.errors import MissingPathError, UserInputError

STEP = 1.0 / 64.0  # a ramp step exact in binary


def _ramp(height: int = 16, width: int = 24) -> np.ndarray:
    """Horizontal ramp: value = STEP · column, the same in all three channels (H×W×3 float32)."""
    row = (np.arange(width, dtype=np.float32) * np.float32(STEP))[None, :, None]
    return np.broadcast_to(row, (height, width, 3)).copy()


def test_sobel_of_a_horizontal_ramp():
    ramp = _ramp()
    gx, gy = sobel_gradient(ramp, "x"), sobel_gradient(ramp, "y")
    assert gx.shape == gy.shape == ramp.shape and gx.dtype == np.float32
    assert np.all(gx[:, 1:-1] == 8 * STEP)  # (1 + 2 + 1) · 2 · step inside
    assert np.all(gx[:, [0, -1]] == 0.0)  # reflect-101 border: the mirrored neighbours cancel
    assert np.all(gy == 0.0)
    assert np.all(sobel_map(ramp, "x")[:, 1:-1] == 0.5 + STEP) and np.all(sobel_map(ramp, "y") == 0.5)
    # the vertical ramp is the transpose: the roles swap
    vertical = np.ascontiguousarray(ramp.transpose(1, 0, 2))
    assert np.all(sobel_gradient(vertical, "y")[1:-1] == 8 * STEP) and np.all(sobel_gradient(vertical, "x") == 0.0)


def test_sobel_map_spans_zero_to_one_at_the_steepest_step():
    step = np.zeros((8, 8, 3), np.float32)
    step[:, 4:] = 1.0
    grad = sobel_gradient(step, "x")
    assert grad.max() == 4.0 and grad.min() == 0.0
    assert sobel_map(step, "x").max() == 1.0 and sobel_map(1.0 - step, "x").min() == 0.0


def test_lowres_rgb_of_a_constant_image_is_that_constant():
    value = np.float32(0.3)
    image = np.full((64, 64, 3), value, np.float32)
    out = lowres_rgb(image)
    assert out.dtype == np.float32 and out.shape == image.shape
    assert np.all(out == value)


def test_lowres_rgb_loses_detail_finer_than_eight_pixels():
    checks = (np.indices((64, 64)).sum(0) % 2).astype(np.float32)  # 1-pixel checkerboard
    image = np.repeat(checks[..., None], 3, axis=2)
    assert np.all(lowres_rgb(image) == 0.5)  # every 8×8 block averages to 0.5
    blocks = np.kron(np.arange(64, dtype=np.float32).reshape(8, 8) / 63.0, np.ones((8, 8), np.float32))
    out = lowres_rgb(np.repeat(blocks[..., None], 3, axis=2))
    # 8×8 blocks shrink to their values and come back bilinearly (half-pixel centres)
    torch.testing.assert_close(torch.from_numpy(out[..., 0]), torch.nn.functional.interpolate(
        torch.from_numpy(blocks)[None, None, ::8, ::8].double(), size=(64, 64), mode="bilinear")[0, 0].float())


def test_segmentation_palette():
    assert PALETTE.shape == (256, 3) and len({tuple(c) for c in PALETTE}) == 256
    assert tuple(PALETTE[0]) == (0, 0, 0) and tuple(PALETTE[1]) == (128, 0, 0) and tuple(PALETTE[2]) == (0, 128, 0)
    labels = np.array([[0, 1], [2, 257]])
    colours = segmentation_colours(labels)
    assert colours.dtype == np.float32 and colours.shape == (2, 2, 3)
    assert np.array_equal(colours[1, 1], colours[0, 1])  # 257 wraps to 1
    assert np.array_equal(colours[0, 1], np.array([128, 0, 0], np.float32) / 255.0)


@pytest.mark.parametrize("prior", STRUCTURE_PRIORS)
def test_structure_maps_shape_and_range(prior):
    image = synthetic_image(np.random.default_rng(1), 32, 32).astype(np.float32) / 255.0
    labels = np.random.default_rng(2).integers(0, 150, (32, 32))
    maps = structure_maps(image, prior, labels)
    assert maps.shape == (STRUCTURE_PRIOR_CHANNELS[prior], 32, 32) and maps.dtype == np.float32
    assert maps.min() >= 0.0 and maps.max() <= 1.0
    assert structure_target_channels(prior) == (1 if prior == "canny_gray" else 3)


def _crop(seed: int = 4, size: int = 32) -> tuple[Crop, np.ndarray]:
    rng = np.random.default_rng(seed)
    mask = np.ones((size, size), np.float32)
    mask[8:20, 10:24] = 0.0
    return Crop(synthetic_image(rng, size, size), "x", labels=rng.integers(0, 150, (size, size))), mask


def test_default_prior_is_todays_sample_bit_for_bit():
    crop, mask = _crop()
    sample = build_sample(crop, mask, PriorConfig(smoothing="none"), "irregular")
    # today's sample, written out: gray and Canny of the [0, 1] crop, keys in today's order, nothing else
    image01 = crop.rgb.astype(np.float32) / 255.0
    gray, edge = structure_priors(image01, "skimage", False)
    assert list(sample) == ["image", "mask", "gray", "smooth", "hole_ratio", "id", "mask_kind", "edge"]
    assert torch.equal(sample["gray"], torch.from_numpy(gray)[None])
    assert torch.equal(sample["edge"], torch.from_numpy(edge)[None])
    assert torch.equal(sample["image"], from_uint8(torch.from_numpy(crop.rgb).permute(2, 0, 1)))
    smooth = torch.from_numpy(smooth_image(image01, "none", "symmetric")).permute(2, 0, 1) * 2.0 - 1.0
    assert torch.equal(sample["smooth"], smooth)
    assert PriorConfig() == PriorConfig(structure_prior="canny_gray")


def test_default_prior_with_kornia_still_leaves_edge_to_the_device():
    crop, mask = _crop()
    sample = build_sample(crop, mask, PriorConfig(edge_backend="kornia", smoothing="none"), "irregular")
    assert "edge" not in sample and "structure" not in sample and "gray" in sample


@pytest.mark.parametrize("prior", [p for p in STRUCTURE_PRIORS if p != "canny_gray"])
def test_other_priors_replace_edge_and_gray(prior):
    crop, mask = _crop()
    sample = build_sample(crop, mask, PriorConfig(smoothing="none", structure_prior=prior), "irregular")
    assert "edge" not in sample and "gray" not in sample
    assert sample["structure_prior"] == prior
    expected = structure_maps(crop.rgb.astype(np.float32) / 255.0, prior, crop.labels)
    assert torch.equal(sample["structure"], torch.from_numpy(expected))


def test_datamodule_default_batch_has_no_structure_key():
    module = InpaintDataModule(source="synthetic", resolution=32, batch_size=2, smoothing="none", eval_per_bucket=1)
    assert module.hparams.structure_prior == "canny_gray"
    batch = next(iter(module.val_dataloader()))
    assert {"edge", "gray"} <= set(batch) and "structure" not in batch and "structure_prior" not in batch


def test_datamodule_batches_carry_the_chosen_prior():
    module = InpaintDataModule(source="synthetic", resolution=32, batch_size=2, smoothing="none",
                               structure_prior="sobel_y", train_length=4)
    batch = next(iter(module.train_dataloader()))
    assert batch["structure"].shape == (2, 3, 32, 32) and batch["structure_prior"] == ["sobel_y", "sobel_y"]
    image01 = (batch["image"][0].permute(1, 2, 0).numpy() + 1.0) / 2.0
    expected = sobel_map(image01, "y").transpose(2, 0, 1)
    assert np.allclose(batch["structure"][0].numpy(), expected, atol=1e-5)


@pytest.mark.parametrize("source", ["embedded", "synthetic"])
def test_segmentation_without_maps_is_refused_on_one_line(source):
    with pytest.raises(UserInputError, match="needs segmentation maps") as info:
        InpaintDataModule(source=source, structure_prior="segmentation")
    assert "\n" not in str(info.value) and source in str(info.value)


def test_segmentation_on_a_plain_folder_is_refused(tmp_path):
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / "a.png")
    with pytest.raises(UserInputError, match="needs segmentation maps.*annotations/"):
        InpaintDataModule(source="folder", data_root=str(tmp_path), structure_prior="segmentation")


def test_unknown_prior_is_refused():
    with pytest.raises(UserInputError, match="unknown structure_prior 'canny'.*sobel_x"):
        InpaintDataModule(structure_prior="canny")  # type: ignore[arg-type]


def test_segmentation_maps_from_an_ade20k_folder(tmp_path):
    root = ade_folder(tmp_path)
    module = InpaintDataModule(source="folder", data_root=str(root), resolution=32, batch_size=3, smoothing="none",
                               structure_prior="segmentation", eval_per_bucket=1, eval_buckets=())
    module.setup("fit")
    assert module.train_set is not None and len(module.train_set) == 3  # annotations are not taken for images
    for batch in (next(iter(module.train_dataloader())), next(iter(module.val_dataloader()))):
        assert batch["structure_prior"][0] == "segmentation"
        for image, structure in zip(batch["image"], batch["structure"]):
            rgb = np.round((image.permute(1, 2, 0).numpy() + 1.0) / 2.0 * 255.0).astype(np.uint8)
            # 48 → 32 resizes image (area) and map (nearest) alike: compare away from region borders
            expected = segmentation_colours(labels_of(rgb)).transpose(2, 0, 1)
            agree = np.all(np.isclose(structure.numpy(), expected), axis=0)
            assert agree.mean() > 0.9
            colours = {tuple(c) for c in np.round(structure.numpy().reshape(3, -1).T * 255).astype(int)}
            assert colours <= {tuple(PALETTE[k]) for k in (0, 3, 7)}
    ids = module.eval_sets["val"][0]["id"]
    assert str(ids).startswith("validation__ADE_validation_")


def test_segmentation_maps_follow_the_crop_and_flip(tmp_path):
    root = ade_folder(tmp_path, size=32, counts={"training": 2, "validation": 1})
    module = InpaintDataModule(source="folder", data_root=str(root), resolution=32, batch_size=2, smoothing="none",
                               structure_prior="segmentation", train_length=8)
    for batch in module.train_dataloader():  # same size: the crop is the image, flipped or not, never resampled
        for image, structure in zip(batch["image"], batch["structure"]):
            rgb = np.round((image.permute(1, 2, 0).numpy() + 1.0) / 2.0 * 255.0).astype(np.uint8)
            assert np.array_equal(structure.numpy(), segmentation_colours(labels_of(rgb)).transpose(2, 0, 1))


def test_other_priors_on_an_ade20k_folder_read_only_images(tmp_path):
    root = ade_folder(tmp_path)
    module = InpaintDataModule(source="folder", data_root=str(root), resolution=32, smoothing="none",
                               structure_prior="lowres_rgb", eval_per_bucket=1)
    module.setup("fit")
    assert module.train_set is not None and len(module.train_set) == 3
    assert module.train_set[0]["structure"].shape == (3, 32, 32)


def test_a_missing_segmentation_map_names_the_file(tmp_path):
    root = ade_folder(tmp_path)
    victim = root / "annotations" / "validation" / "ADE_validation_00000000.png"
    victim.unlink()
    module = InpaintDataModule(source="folder", data_root=str(root), resolution=32, smoothing="none",
                               structure_prior="segmentation", eval_per_bucket=1, eval_buckets=())
    module.setup("validate")
    with pytest.raises(MissingPathError, match="ADE_validation_00000000.png"):
        module.eval_sets["val"][0]


def test_a_colour_segmentation_map_is_refused(tmp_path):
    root = ade_folder(tmp_path)
    bad = root / "annotations" / "validation" / "ADE_validation_00000000.png"
    Image.fromarray(np.zeros((48, 48, 3), np.uint8)).save(bad)
    module = InpaintDataModule(source="folder", data_root=str(root), resolution=32, smoothing="none",
                               structure_prior="segmentation", eval_per_bucket=1, eval_buckets=())
    module.setup("validate")
    with pytest.raises(UserInputError, match="mode RGB; expected one channel of class indices"):
        module.eval_sets["val"][0]


def test_table8_rows_are_the_suites_priors():
    from inpaint.report.paper.table8 import TABLE8, TABLE8_OURS, TABLE8_ROWS

    assert set(TABLE8_ROWS) == set(STRUCTURE_PRIORS) and TABLE8_OURS == STRUCTURE_PRIORS[0]
    assert TABLE8["sobel_y"]["40-50%"] == {"psnr": 24.42, "ssim": 0.849, "fid": 90.76}
    for ratio in ("20-30%", "40-50%"):  # the paper's prior is best in every column
        assert max(TABLE8, key=lambda r: TABLE8[r][ratio]["psnr"]) == TABLE8_OURS
        assert min(TABLE8, key=lambda r: TABLE8[r][ratio]["fid"]) == TABLE8_OURS
