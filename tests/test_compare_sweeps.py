"""The compare study's test-time sweeps: the fixed test crops they score, the score itself (checked by hand), the
hole-size sweep after a real test stage, the resolution sweep (each model at each size without resizing, a size it
cannot run at giving the reason), and how a sweep profile asks for them."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from _tiny_models import TinyDiscriminator, TinyGenerator
from lightning.pytorch import Trainer

from inpaint.data.datamodule import InpaintDataModule
from inpaint.data.masks import center_square_mask
from inpaint.lit.callbacks import HoleSizeSweep, ResolutionSweep
from inpaint.lit.callbacks.hole_size_sweep import HOLE_SIZE_RATIOS
from inpaint.lit.callbacks.resolution_sweep import resolution_sweep
from inpaint.lit.module import InpaintingGAN
from inpaint.lit.sweep_scoring import batch_size_at, fixed_crops_for, score_masked
from inpaint.models.interface import GeneratorOutput, InpaintGenerator
from inpaint.sweeps.spec import SweepSpecError, load_spec, parse_spec


def _data(**options) -> InpaintDataModule:
    return InpaintDataModule(**{"source": "synthetic", "resolution": 64, "batch_size": 4, "eval_per_bucket": 2,
                                "smoothing": "none", **options})


class Black(InpaintGenerator):
    """Fills every hole with black; records the size of every input it sees."""

    size_multiple = 1
    priors: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, int]] = []

    def forward(self, image, mask, edge=None, gray=None, smooth=None) -> GeneratorOutput:
        self.seen.append(tuple(image.shape[-2:]))
        return GeneratorOutput(image=torch.full_like(image, -1.0))


class Halving(Black):
    """Answers at half the input's size: a model that resizes."""

    def forward(self, image, mask, edge=None, gray=None, smooth=None) -> GeneratorOutput:
        return GeneratorOutput(image=torch.zeros(image.shape[0], 3, image.shape[2] // 2, image.shape[3] // 2))


def test_fixed_test_crops_are_the_test_sets_images_cut_at_each_size() -> None:
    data = _data()
    data.setup("test")
    crops = data.fixed_test_crops(3)
    test_set = data.eval_sets["test"]
    for index in range(3):  # sample i of the main test set is crop i under mask i
        assert torch.equal(crops["image"][index], test_set[index]["image"])
        assert test_set[index]["id"].startswith(crops["id"][index])
    assert set(crops) == {"image", "id", "edge", "gray", "smooth"}
    assert set(data.fixed_test_crops(2, priors=())) == {"image", "id"}  # priors a generator does not read: skipped
    large = data.fixed_test_crops(2, (128, 128), priors=("gray",))
    assert large["image"].shape == (2, 3, 128, 128) and large["gray"].shape == (2, 1, 128, 128)
    embedded = InpaintDataModule(source="embedded", resolution=64, smoothing="none")
    assert embedded.fixed_test_crops(1, (256, 256), priors=())["image"].shape == (1, 3, 256, 256)


def test_score_is_the_composites_uint8_psnr_and_l1_counted_by_hand() -> None:
    crops = _data().fixed_test_crops(3, priors=())
    known = center_square_mask(64, 64, 0.25)
    masks = torch.from_numpy(known)[None, None].expand(3, 1, 64, 64)
    scores = score_masked(Black(), crops, masks, batch_size=2)
    truth = np.round((crops["image"].numpy() + 1) / 2 * 255).astype(np.float64)  # the uint8 ground truth
    error = truth * (known[None, None] == 0)  # black in the hole, exact elsewhere
    mse = (error**2).reshape(3, -1).mean(1)
    assert scores["n"] == 3 and scores["output_size"] == [64, 64]
    assert scores["psnr"] == pytest.approx(np.mean(10 * np.log10(255.0**2 / mse)), abs=1e-4)
    assert scores["l1"] == pytest.approx(np.mean(error.reshape(3, -1).mean(1) / 255), abs=1e-6)
    with pytest.raises(ValueError, match="the model changed the size"):
        score_masked(Halving(), crops, masks, batch_size=2)


def _test_with(generator: InpaintGenerator, data: InpaintDataModule, tmp_path, *callbacks) -> None:
    model = InpaintingGAN(generator, TinyDiscriminator())
    trainer = Trainer(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, default_root_dir=str(tmp_path),
                      callbacks=list(callbacks))
    trainer.test(model, datamodule=data, verbose=False)


def test_hole_size_sweep_scores_each_centre_square_after_the_test_stage(tmp_path) -> None:
    sweep = HoleSizeSweep(images=4)
    _test_with(TinyGenerator(), _data(), tmp_path, sweep)
    result = sweep.result()
    json.dumps(result)  # stored as a trial user attribute
    assert result["note"] is None and result["resolution"] == [64, 64] and result["images"] == 4
    assert [row["ratio"] for row in result["rows"]] == list(HOLE_SIZE_RATIOS)
    assert [round(row["hole_ratio"] * 4096) for row in result["rows"]] == [625, 1024, 1444, 1849, 2209]
    assert all(row["n"] == 4 and math.isfinite(row["psnr"]) and row["l1"] > 0 for row in result["rows"])
    # black holes: the larger the hole, the larger the error
    black = HoleSizeSweep(images=2)
    _test_with(Black(), _data(), tmp_path, black)
    l1 = [row["l1"] for row in black.result()["rows"]]
    assert l1 == sorted(l1) and l1[0] < l1[-1]


def test_hole_size_sweep_leaves_a_note_without_fixed_crops(tmp_path) -> None:
    from _tiny_models import TinyDataModule

    sweep = HoleSizeSweep(images=2)
    _test_with(TinyGenerator(), TinyDataModule(size=16), tmp_path, sweep)
    assert sweep.result()["rows"] == [] and "has no fixed test crops" in sweep.result()["note"]
    with pytest.raises(ValueError, match="in \\(0, 1\\)"):
        HoleSizeSweep(ratios=[0.2, 1.5])


def test_the_compare_profiles_ask_for_the_sweeps_and_bad_settings_fail_early() -> None:
    from inpaint.sweeps.lightning_trial import LightningTrial

    spec = load_spec("compare")
    sweeps = LightningTrial.test_sweeps(spec.profile("cpu"))
    assert list(sweeps) == ["hole_size_sweep", "resolution_sweep"]
    assert sweeps["hole_size_sweep"].ratios == list(HOLE_SIZE_RATIOS) and sweeps["hole_size_sweep"].images == 4
    assert sweeps["resolution_sweep"].sizes == [[64, 64], [128, 128], [256, 256]]
    paper = LightningTrial.test_sweeps(spec.profile("paper"))  # the paper's sizes are data of its profile
    assert paper["resolution_sweep"].sizes == [[256, 256], [512, 512], [1024, 1024]]
    base = {"name": "x", "kind": "grid", "objective": {"metric": "psnr", "bucket": "all"}, "param_keys": {"s": "seed"},
            "axes": {"s": [0]}}
    with pytest.raises(SweepSpecError, match="test_sweeps must map some of"):
        parse_spec({**base, "profiles": {"cpu": {"configs": [], "test_sweeps": {"blur": {}}}}})
    profile = parse_spec({**base, "profiles": {"cpu": {"configs": [], "test_sweeps": {"hole_size": {"n": 3}}}}})
    with pytest.raises(ValueError, match="profile 'cpu': test_sweeps: .*unexpected keyword argument 'n'"):
        LightningTrial.test_sweeps(profile.profile("cpu"))


class Picky(Black):
    """Runs at multiples of 64 only (its declared rule) and breaks at runtime on inputs wider than 128."""

    size_multiple = 64

    def forward(self, image, mask, edge=None, gray=None, smooth=None) -> GeneratorOutput:
        if image.shape[-1] > 128:
            raise RuntimeError("attention grid too large\nsecond line")
        return super().forward(image, mask)


def _crops_at(data: InpaintDataModule, generator: InpaintGenerator, count: int = 2):
    return lambda height, width: fixed_crops_for(generator, data, count, (height, width))


def test_resolution_sweep_runs_the_model_natively_at_each_size() -> None:
    spy = Black()
    rows = resolution_sweep(spy, _crops_at(_data(), spy), [64, 128], 0.25, lambda h, w: 2)
    assert spy.seen == [(64, 64), (128, 128)]  # the model saw each size itself: nothing was resized
    assert [row["size"] for row in rows] == [[64, 64], [128, 128]]
    assert [row["output_size"] for row in rows] == [[64, 64], [128, 128]]
    assert all(row["reason"] is None and row["n"] == 2 and row["hole_ratio"] == 0.25 for row in rows)
    tiny = TinyGenerator()  # a trainable model with every prior, through the same path
    rows = resolution_sweep(tiny, _crops_at(_data(), tiny), [64, [128, 96]], 0.25, lambda h, w: 1)
    assert [row["output_size"] for row in rows] == [[64, 64], [128, 96]] and all(math.isfinite(r["psnr"]) for r in rows)


def test_a_size_the_model_cannot_run_at_gives_the_reason_not_a_crash() -> None:
    picky = Picky()
    rows = resolution_sweep(picky, _crops_at(_data(), picky), [64, 96, 128, 256], 0.25, lambda h, w: 2)
    assert picky.seen == [(64, 64), (128, 128)]  # 96 was refused before running; 256 raised inside
    assert [row["reason"] for row in rows] == [None, "needs multiple of 64", None,
                                               "RuntimeError: attention grid too large"]
    assert [row["psnr"] is None for row in rows] == [False, True, False, True]
    assert rows[1]["l1"] is None and rows[1]["n"] == 0
    halving = Halving()
    assert resolution_sweep(halving, _crops_at(_data(), halving), [64], 0.25, lambda h, w: 2)[0]["reason"] == \
        "ValueError: output (32, 32) for input (64, 64): the model changed the size"


def test_resolution_sweep_after_the_test_stage_keeps_the_pixel_budget(tmp_path) -> None:
    sweep = ResolutionSweep(sizes=[64, 128], images=2)
    spy = Black()
    _test_with(spy, _data(), tmp_path, sweep)
    result = sweep.result()
    json.dumps(result)
    assert result["note"] is None and [row["size"] for row in result["rows"]] == [[64, 64], [128, 128]]
    assert result["mask"] == "centre square, 25% of the area" and all(row["n"] == 2 for row in result["rows"])
    # after the test stage's batches of 4 at 64²: 2 crops in one batch at 64², one crop per batch at 128² (4·64² px)
    assert spy.seen[-3:] == [(64, 64), (128, 128), (128, 128)]
    assert [batch_size_at(4, 64 * 64, s, s) for s in (64, 128, 256)] == [4, 1, 1]
