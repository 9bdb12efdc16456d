"""The classical reference rows (issue 16): OpenCV Telea / Navier–Stokes behind the generator contract, scored like
any model without training (experiments/model/telea.yaml, ns.yaml)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from inpaint.commands import info
from inpaint.conventions import composite, to_uint8
from inpaint.errors import NothingToTrainError
from inpaint.lit.cli import run_cli
from inpaint.lit.module import InpaintingGAN
from inpaint.lit.runner import run_experiment
from inpaint.models.discriminators import NoDiscriminator
from inpaint.models.generators.classical import ClassicalInpainter

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("telea", "ns")
SIZE = 64


def _batch(batch: int = 2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Float images that are not on the uint8 grid (so "known pixels exact" means the float input, not its uint8)."""
    g = torch.Generator().manual_seed(seed)
    image = torch.rand(batch, 3, SIZE, SIZE, generator=g) * 2 - 1
    known = torch.ones(batch, 1, SIZE, SIZE)
    known[0, :, 10:30, 12:40] = 0.0
    known[-1, :, 36:60, 4:28] = 0.0
    return image, known


def _bool(known: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return known.bool().expand_as(like)


@pytest.mark.parametrize("method", METHODS)
def test_known_pixels_bit_identical_and_only_holes_change(method: str) -> None:
    image, known = _batch()
    out = ClassicalInpainter(method).eval()(image=image, mask=known).image
    assert out.shape == image.shape and out.dtype == image.dtype and out.abs().max() <= 1.0
    assert torch.equal(out[_bool(known, image)], image[_bool(known, image)])  # the float input, bit for bit
    assert torch.equal(composite(image, out, known), out)  # the composite metrics score is the raw output
    hole = ~_bool(known, image)
    assert (out[hole] != image[hole]).float().mean() > 0.99  # random hole values are replaced, not kept


@pytest.mark.parametrize("method", METHODS)
def test_hole_next_to_structure_is_filled_from_its_side(method: str) -> None:
    """A vertical edge (left -0.8, right 0.6) through a white hole: each side's border pixels take that side's value."""
    image = torch.full((1, 3, SIZE, SIZE), -0.8)
    image[..., SIZE // 2:] = 0.6
    known = torch.ones(1, 1, SIZE, SIZE)
    known[..., 20:44, 24:40] = 0.0
    image_with_hole = torch.where(known.bool(), image, torch.ones_like(image))
    out = ClassicalInpainter(method)(image_with_hole, known).image
    hole = ~known.bool().expand_as(image)
    assert (out[hole] != 1.0).all()  # every hole pixel changed
    left, right = out[..., 30, 24], out[..., 30, 39]  # hole pixels touching the known left / right part
    assert torch.allclose(left, torch.tensor(-0.8), atol=0.05), left
    assert torch.allclose(right, torch.tensor(0.6), atol=0.05), right


@pytest.mark.parametrize("method", METHODS)
def test_equals_cv2_inpaint_on_the_same_uint8_image_and_mask(method: str) -> None:
    """No hidden resampling or colour conversion: the hole pixels are OpenCV's own result on the uint8 image."""
    image, known = _batch()
    out = ClassicalInpainter(method, radius=5)(image, known).image
    flag = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}[method]
    for i in range(image.shape[0]):
        pixels = to_uint8(image[i]).permute(1, 2, 0).numpy().copy()  # the untouched image: holes hold noise
        hole = np.where(known[i, 0].numpy() > 0.5, 0, 255).astype(np.uint8)
        expected = cv2.inpaint(pixels, hole, 5.0, flag)
        got = to_uint8(out[i]).permute(1, 2, 0).numpy()
        assert np.array_equal(got[hole > 0], expected[hole > 0])
        assert (got[hole > 0] != pixels[hole > 0]).any()


def test_the_two_methods_differ_and_radius_matters() -> None:
    image, known = _batch()
    telea = ClassicalInpainter("telea")(image, known).image
    assert not torch.equal(telea, ClassicalInpainter("ns")(image, known).image)
    assert not torch.equal(telea, ClassicalInpainter("telea", radius=9)(image, known).image)


@pytest.mark.parametrize("method", METHODS)
def test_all_known_mask_returns_the_input_exactly(method: str) -> None:
    image, _ = _batch()
    out = ClassicalInpainter(method)(image, torch.ones(2, 1, SIZE, SIZE)).image
    assert torch.equal(out, image)


def test_soft_masks_are_binarised_by_the_suites_rule() -> None:
    """Mask values above 0.5 are known (inpaint.conventions.known_mask), as everywhere else in the suite."""
    image, known = _batch(1)
    soft = torch.where(known.bool(), torch.full_like(known, 0.7), torch.full_like(known, 0.2))
    generator = ClassicalInpainter("telea")
    assert torch.equal(generator(image, soft).image, generator(image, known).image)


def test_wrong_shapes_and_arguments_raise_clear_errors() -> None:
    generator = ClassicalInpainter("telea")
    with pytest.raises(ValueError, match="mask must be B×1×H×W"):
        generator(torch.zeros(1, 3, SIZE, SIZE), torch.ones(1, 3, SIZE, SIZE))
    with pytest.raises(ValueError, match="mask must be B×1×H×W"):
        generator(torch.zeros(2, 3, SIZE, SIZE), torch.ones(1, 1, SIZE, SIZE))
    with pytest.raises(ValueError, match="image must be B×3×H×W"):
        generator(torch.zeros(1, 1, SIZE, SIZE), torch.ones(1, 1, SIZE, SIZE))
    with pytest.raises(ValueError, match="method must be one of"):
        ClassicalInpainter("patchmatch")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="radius must be a positive integer"):
        ClassicalInpainter("ns", radius=0)
    with pytest.raises(ValueError, match="size must be one of"):
        ClassicalInpainter("ns", size="tiny")  # type: ignore[arg-type]


def test_no_parameters_no_gradient_any_size() -> None:
    generator = ClassicalInpainter("telea", size="small")
    assert list(generator.parameters()) == [] and generator.size == "small" and generator.model_name == "Telea"
    assert ClassicalInpainter("ns").model_name == "NS"
    image = (torch.rand(1, 3, 37, 50) * 2 - 1).requires_grad_()
    known = torch.ones(1, 1, 37, 50)
    known[..., 5:20, 10:30] = 0.0
    out = generator(image, known).image
    assert out.shape == image.shape and not out.requires_grad  # not differentiable: detached by design


def test_fit_is_refused_in_one_line_and_writes_nothing(tmp_path: Path, capsys) -> None:
    module = InpaintingGAN(ClassicalInpainter("telea"), NoDiscriminator(), losses={"lambda_adv": 0.0})
    with pytest.raises(NothingToTrainError, match="Telea has nothing to train"):
        module.configure_optimizers()
    run_dir = tmp_path / "fit"
    code = run_cli(["fit", "--config", str(ROOT / "experiments/data/embedded.yaml"),
                    "--config", str(ROOT / "experiments/model/ns.yaml"), "--run.logger=none",
                    f"--run.dir={run_dir}", "--trainer.max_steps=1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("inpaint: error: NS has nothing to train") and "use test" in err[0]
    assert not [p for p in run_dir.rglob("*") if p.is_file()]  # no config, checkpoint or log written
    with pytest.raises(NothingToTrainError, match="use test"):
        run_experiment([str(ROOT / "experiments/model/telea.yaml")], None, str(tmp_path / "runner"), stage="fit")


def test_info_reports_zero_parameters_and_zero_macs(capsys) -> None:
    config = ROOT / "experiments/model/telea.yaml"
    assert info.main(["--config", str(config), "--size", "small", "--resolution", "64", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["generator"] == "Telea"
    assert data["params"]["total"] == 0 and data["params"]["trainable"] == 0
    assert data["macs"]["total"] == 0  # the counter counts network ops (conv, matmul, attention); OpenCV has none
    assert "paper: n/a" in data["paper_comparison"]


def _score(method: str, run_dir: Path, stage: str) -> dict:
    configs = [str(ROOT / f"experiments/{name}.yaml")
               for name in ("data/embedded", f"model/{method}", "trainer/cpu-small")]
    overrides = {"data.init_args.eval_per_bucket": 2, "run.logger": "none", "trainer.enable_progress_bar": False,
                 "run.evaluation.fid": False, "run.evaluation.lpips_net": None, "run.evaluation.save_images": False,
                 "run.image_grid_samples": 0}
    return run_experiment(configs, overrides, str(run_dir), stage=stage)  # type: ignore[arg-type]


@pytest.mark.parametrize("method", METHODS)
def test_sweep_trial_scores_without_training(method: str, tmp_path: Path, capsys) -> None:
    """A sweep trial's fit+test on the embedded data at 64² (the cpu profile; 2 eval masks per ratio bucket) skips
    fit and writes metrics.json with finite PSNR / SSIM; measured values are in docs/evaluation.md."""
    result = _score(method, tmp_path / "trial", "fit+test")
    assert result["ckpt_path"] is None and not (tmp_path / "trial" / "checkpoints").exists()
    report = json.loads((tmp_path / "trial" / "metrics.json").read_text())
    assert report == result["metrics"]["test"]
    overall = next(row for row in report["buckets"] if row["bucket"] == "all")
    composite_values, raw_values = overall["values"]["composite"], overall["values"]["raw"]
    assert overall["n"] == 8 and math.isfinite(composite_values["psnr"]) and math.isfinite(composite_values["ssim"])
    assert 15.0 < composite_values["psnr"] < 60.0 and 0.0 < composite_values["ssim"] < 1.0
    assert composite_values == raw_values  # the raw output is its own composite
    from inpaint.sweeps.lightning_trial import metrics_as_dict, objective_value

    stored = metrics_as_dict(result["metrics"])  # what a sweep trial stores and a compare study will read
    assert objective_value(stored, {"metric": "psnr", "bucket": "all", "scheme": "all"}) == composite_values["psnr"]
    print(f"\n{method}: N={overall['n']} PSNR {composite_values['psnr']:.3f} SSIM {composite_values['ssim']:.4f} "
          f"L1 {composite_values['l1']:.5f}")
    if method == "telea":  # stage "test" alone needs no checkpoint either and gives the same numbers
        again = json.loads(json.dumps(_score(method, tmp_path / "test", "test")["metrics"]["test"]))
        assert again["buckets"] == report["buckets"]


def test_export_from_config_then_predict_keeps_known_pixels(tmp_path: Path, capsys) -> None:
    """`inpaint export --config telea.yaml` writes a weightless export; `inpaint predict` fills only the hole of a
    non-square image of any size, at its own size, known pixels bit-identical."""
    from inpaint.commands import export as export_cmd
    from inpaint.commands import predict as predict_cmd

    out = tmp_path / "telea.pt"
    assert export_cmd.main(["--config", str(ROOT / "experiments/model/telea.yaml"), "--out", str(out)]) == 0
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (45, 70, 3), dtype=np.uint8)
    hole = np.zeros((45, 70), np.uint8)
    hole[10:30, 20:50] = 255
    cv2.imwrite(str(tmp_path / "in.png"), pixels[..., ::-1])
    cv2.imwrite(str(tmp_path / "mask.png"), hole)
    capsys.readouterr()
    assert predict_cmd.main(["--ckpt", str(out), "--image", str(tmp_path / "in.png"), "--mask",
                             str(tmp_path / "mask.png"), "--out", str(tmp_path / "out.png")]) == 0
    assert "records no training resolution" not in capsys.readouterr().err  # no training size exists: no warning
    filled = cv2.imread(str(tmp_path / "out.png"))[..., ::-1]
    assert np.array_equal(filled[hole == 0], pixels[hole == 0])
    assert np.array_equal(filled[hole > 0], cv2.inpaint(pixels, hole, 3.0, cv2.INPAINT_TELEA)[hole > 0])
    code = export_cmd.main(["--config", str(ROOT / "experiments/model/pconv_unet.yaml"), "--out",
                            str(tmp_path / "pconv.pt")])
    assert code == 2 and "export it from a trained checkpoint" in capsys.readouterr().err


def test_bench_times_the_forward_and_no_training_step(tmp_path: Path) -> None:
    from inpaint.commands import bench

    out = tmp_path / "bench.json"
    assert bench.main(["--config", str(ROOT / "experiments/model/ns.yaml"), "--resolution", "64", "--repeats", "2",
                       "--warmup", "1", "--no-progress", "--quiet", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["forward_s_median"] > 0 and len(result["forward_s_all"]) == 2
    assert result["train_step_s_median"] is None and result["train_step_s_all"] is None
    assert "NS has nothing to train" in result["train_step_note"]
