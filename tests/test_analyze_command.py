"""``inpaint analyze`` end to end at 64²: untrained models from configs, a briefly trained checkpoint, image files,
and one-line refusals of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from inpaint.commands.analyze import main

ROOT = Path(__file__).resolve().parents[1]
DATA = str(ROOT / "experiments/data/embedded.yaml")
TRAINER = str(ROOT / "experiments/trainer/cpu-small.yaml")
TSGL = str(ROOT / "experiments/model/tsgl.yaml")
BASELINE = f"{TSGL},{ROOT / 'experiments/model/variants/baseline.yaml'}"
FIGURE_SET = ["analysis.json", "attention.png", "entropy.png", "heatmap.png", "kl.png", "spectrogram.png"]


def _written(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.is_file())


def _batch_overlay(tmp: Path, batch_size: int = 2) -> str:
    """A trainer overlay that shrinks the training batch (a test trains one step, not a model)."""
    path = tmp / "batch.yaml"
    path.write_text(f"data:\n  init_args:\n    batch_size: {batch_size}\n")
    return str(path)


def _write_pair(folder: Path, name: str, size: tuple[int, int] = (64, 64), mask_size: tuple[int, int] | None = None,
                seed: int = 0) -> tuple[str, str]:  # fmt: skip
    rng = np.random.default_rng(seed)
    image = folder / f"{name}.png"
    Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(image)
    hole = np.zeros(mask_size or size, np.uint8)
    hole[16:40, 20:44] = 255  # white = hole
    mask = folder / f"{name}_mask.png"
    Image.fromarray(hole).save(mask)
    return str(image), str(mask)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    """One training step of the Baseline through the command (``--train-steps 1``), shared by the tests below."""
    tmp = tmp_path_factory.mktemp("trained")
    out, runs = tmp / "out", tmp / "runs"
    argv = ["--data", DATA, "--trainer", TRAINER, "--trainer", _batch_overlay(tmp), "--model", f"Baseline={BASELINE}",
            "--train-steps", "1", "--runs", str(runs), "--count", "2", "--out", str(out)]
    assert main(argv) == 0
    return {"argv": argv, "out": out, "run": runs / "baseline"}


def test_untrained_configs_write_the_figure_set_and_the_numbers_of_the_analysis_functions(tmp_path):
    from inpaint.analysis.figures import analyze_generator
    from inpaint.analysis.inputs import inputs_from_test_set
    from inpaint.analysis.taps import EncoderTaps
    from inpaint.lit.config_sections import datamodule_from_configs, generator_from_configs

    out = tmp_path / "out"
    assert main(["--data", DATA, "--trainer", TRAINER, "--model", f"Baseline={BASELINE}", "--model", f"Ours={TSGL}",
                 "--count", "2", "--out", str(out)]) == 0
    assert _written(out) == FIGURE_SET
    data = json.loads((out / "analysis.json").read_text())
    assert [m["label"] for m in data["models"]] == ["Baseline", "Ours"]  # figure rows in command-line order
    assert data["provenance"]["images"]["size"] == [64, 64] and len(data["provenance"]["images"]["ids"]) == 2
    assert data["provenance"]["models"]["Ours"] == {"configs": [TSGL], "trained_steps": 0}

    inputs = inputs_from_test_set(datamodule_from_configs([DATA, TRAINER]), 2)
    assert inputs.ids == data["provenance"]["images"]["ids"]
    torch.manual_seed(0)  # the command's untrained weights
    ours = generator_from_configs([DATA, TSGL, TRAINER]).eval()
    expected = analyze_generator("Ours", ours, inputs.tensors).numbers()
    assert data["models"][1] == json.loads(json.dumps(expected))
    # … and those are the analysis functions applied to the tapped maps
    from inpaint.analysis.complementarity import stage_kl_curve
    from inpaint.analysis.entropy import channel_entropy

    with torch.no_grad(), EncoderTaps(ours) as taps:
        ours(**inputs.tensors)
    levels = taps.maps["reconstructed"]
    assert data["models"][1]["kl"] == stage_kl_curve(levels)
    assert data["models"][1]["mean_entropy"] == [float(channel_entropy(f).mean()) for f in levels]
    assert data["models"][1]["sizes"] == [32, 16, 8, 4, 2]


def test_brief_training_leaves_a_checkpoint_that_a_rerun_reuses(trained):
    from inpaint.lit.fit_once import checkpoint_step, finished_checkpoint

    ckpt = finished_checkpoint(trained["run"], 1)
    assert ckpt is not None and checkpoint_step(ckpt) == 1
    data = json.loads((trained["out"] / "analysis.json").read_text())
    assert data["models"][0]["label"] == "Baseline"
    assert data["provenance"]["models"]["Baseline"]["trained_steps"] == 1
    assert data["provenance"]["models"]["Baseline"]["global_step"] == 1
    before = {p: p.stat().st_mtime_ns for p in (trained["run"] / "checkpoints").iterdir()}
    assert main(trained["argv"]) == 0  # the finished run is reused: no checkpoint written or touched
    assert {p: p.stat().st_mtime_ns for p in (trained["run"] / "checkpoints").iterdir()} == before


def test_a_checkpoint_on_image_files_with_wandb(trained, tmp_path, monkeypatch):
    from inpaint.lit.fit_once import finished_checkpoint

    monkeypatch.setenv("WANDB_MODE", "offline")
    ckpt = finished_checkpoint(trained["run"], 1)
    first, first_mask = _write_pair(tmp_path, "first", seed=1)
    second, second_mask = _write_pair(tmp_path, "second", seed=2)
    out = tmp_path / "out"
    assert main(["--checkpoint", f"Trained={ckpt}", "--image", first, "--mask", first_mask, "--image", second,
                 "--mask", second_mask, "--out", str(out), "--wandb"]) == 0
    assert _written(out) == FIGURE_SET
    data = json.loads((out / "analysis.json").read_text())
    assert data["provenance"]["images"]["ids"] == ["first", "second"]
    assert data["provenance"]["models"]["Trained"] == {"checkpoint": str(ckpt), "global_step": 1}
    run_dir = next((out / "wandb").glob("offline-run-*"))
    images = run_dir / "files" / "media" / "images"
    logged = {p.name.split("_")[0] for p in images.glob("*.png")}
    assert logged == {"heatmap", "spectrogram", "entropy", "kl", "attention"}
    assert list((run_dir / "files" / "media" / "table").glob("levels_*.table.json"))


def test_a_larger_budget_resumes_the_run_from_its_checkpoint(trained, monkeypatch):
    from inpaint.lit.fit_once import finished_checkpoint, fit_once

    class Started(Exception):
        pass

    def record(args, **_kwargs):
        calls.append(args)
        raise Started  # the arguments are what this test checks; the fit itself is Lightning's

    calls: list[list[str]] = []
    monkeypatch.setattr("inpaint.lit.cli.InpaintCLI", record)
    with pytest.raises(Started):
        fit_once([DATA, TSGL, TRAINER], 2, trained["run"])
    assert f"--ckpt_path={finished_checkpoint(trained['run'], 1)}" in calls[0]
    assert calls[0][0] == "fit"
    assert "--trainer.max_steps=2" in calls[0] and "--run.checkpoint_every_n_steps=2" in calls[0]


def _one_line_error(capsys, argv: list[str], expected: str) -> None:
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in lines if line.startswith("inpaint analyze: error:")]
    assert len(errors) == 1 and expected in errors[0], lines


def test_a_missing_checkpoint_is_one_line(tmp_path, capsys):
    _one_line_error(capsys, ["--checkpoint", f"Ours={tmp_path / 'nope.ckpt'}", "--data", DATA, "--out",
                             str(tmp_path / "out")], "does not exist")
    assert not (tmp_path / "out").exists()


def test_a_checkpoint_without_tsgl_encoder_taps_is_one_line(tmp_path, capsys):
    from inpaint.lit.export import save_generator
    from inpaint.models.generators.pconv_unet import PConvUNet

    spec = {"class_path": "inpaint.models.generators.pconv_unet.PConvUNet",
            "init_args": {"encoder": "pconv", "size": "small", "stages": 6}}
    weights = tmp_path / "pconv.pt"
    save_generator(str(weights), spec, PConvUNet(**spec["init_args"]).state_dict(), {"resolution": [64, 64]})
    _one_line_error(capsys, ["--checkpoint", f"PConv={weights}", "--data", DATA, "--out", str(tmp_path / "out")],
                    "PConvUNet has no TSGL encoder taps")


def test_image_and_mask_of_different_sizes_are_one_line(tmp_path, capsys):
    image, mask = _write_pair(tmp_path, "odd", size=(64, 64), mask_size=(64, 96))
    _one_line_error(capsys, ["--model", f"Ours={TSGL}", "--trainer", TRAINER, "--image", image, "--mask", mask,
                             "--out", str(tmp_path / "out")], "_mask.png is 96×64 but image")


@pytest.mark.parametrize("sizes, expected", [
    ([(64, 64), (64, 96)], "the images of one analysis form one batch"),
    ([(48, 64)], "must be a multiple of 32"),
])
def test_images_that_cannot_form_one_batch_are_one_line(sizes, expected, tmp_path, capsys):
    argv = ["--model", f"Base={BASELINE}", "--trainer", TRAINER, "--out", str(tmp_path / "out")]
    for index, size in enumerate(sizes):
        image, mask = _write_pair(tmp_path, f"image{index}", size=size)
        argv += ["--image", image, "--mask", mask]
    _one_line_error(capsys, argv, expected)


@pytest.mark.parametrize("argv, expected", [
    (["--out", "x"], "at least one model"),
    (["--model", f"Ours={TSGL}", "--out", "x"], "give --data CONFIG"),
    (["--checkpoint", "Ours=", "--data", DATA, "--out", "x"], "LABEL=PATH"),
    (["--model", "Ours=a.yaml,,b.yaml", "--data", DATA, "--out", "x"], "LABEL=PATH"),
    (["--model", f"Ours={TSGL}", "--image", "a.png", "--out", "x"], "one --mask per --image"),
    (["--model", f"A={TSGL}", "--model", f"A={TSGL}", "--data", DATA, "--out", "x"], "repeated: A"),
    (["--model", "=x.yaml", "--data", DATA, "--out", "x"], "LABEL=PATH"),
])
def test_unusable_option_combinations_are_usage_errors(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and expected in capsys.readouterr().err


def test_the_command_is_registered():
    from inpaint import cli

    assert "analyze" in cli.COMMANDS and "analyze" in cli._usage()
