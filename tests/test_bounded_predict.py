"""Bounded predict: the export's training resolution drives the default strategy, so a 6000×4000 photo with a 64²
model runs in bounded memory; an export without it runs at full size only when the memory estimate fits, and is
refused quickly (with the numbers) when it does not."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from inpaint import inference
from inpaint.commands import predict as predict_cmd
from inpaint.inference import PredictionTooLargeError, Predictor
from inpaint.lit.export import save_generator
from inpaint.models.generators.tsgl import TSGLGenerator

SPEC = {"class_path": "inpaint.models.generators.tsgl.TSGLGenerator",
        "init_args": {"variant": "Baseline", "size": "small"}}  # fmt: skip
BIG_H, BIG_W = 4000, 6000


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("bounded")
    generator = TSGLGenerator(variant="Baseline", size="small")
    save_generator(str(root / "model.pt"), SPEC, generator.state_dict(), {"resolution": [64, 64], "size_multiple": 32})
    save_generator(str(root / "old.pt"), SPEC, generator.state_dict(), {})  # exported before resolution was kept
    yy, xx = np.mgrid[0:BIG_H, 0:BIG_W]
    image = np.stack([xx % 256, yy % 256, (xx // 7 + yy // 5) % 256], axis=-1).astype(np.uint8)
    Image.fromarray(image).save(root / "big.png", compress_level=1)
    mask = np.zeros((BIG_H, BIG_W), np.uint8)
    mask[1500:2500, 2000:3500] = 255
    Image.fromarray(mask).save(root / "mask.png", compress_level=1)
    return root, image, mask


def test_big_photo_runs_at_the_training_resolution(files, tmp_path, capsys):
    root, image, mask = files
    rc = predict_cmd.main(["--ckpt", str(root / "model.pt"), "--image", str(root / "big.png"),
                           "--mask", str(root / "mask.png"), "--out", str(tmp_path / "out.png")])  # fmt: skip
    assert rc == 0
    err = capsys.readouterr().err
    assert "6000×4000, model at up to 64×64 (resize)" in err
    out = np.asarray(Image.open(tmp_path / "out.png"))
    assert out.shape == image.shape
    known = mask <= 127
    assert np.array_equal(out[known], image[known])


def test_export_without_resolution_is_refused_quickly_when_it_would_not_fit(files, tmp_path, monkeypatch, capsys):
    root, _, _ = files
    monkeypatch.setattr(inference, "available_memory_bytes", lambda: 4 * 2**30)
    generator, meta = predict_cmd.load_model(str(root / "old.pt"), "cpu")
    monkeypatch.setattr(predict_cmd, "load_model", lambda ckpt, device: (generator, meta))
    monkeypatch.setattr(predict_cmd, "read_rgb", lambda *a, **k: pytest.fail("decoded an image that cannot fit"))
    start = time.perf_counter()
    rc = predict_cmd.main(["--ckpt", str(root / "old.pt"), "--image", str(root / "big.png"),
                           "--mask", str(root / "mask.png"), "--out", str(tmp_path / "out.png")])  # fmt: skip
    elapsed = time.perf_counter() - start
    assert rc == 2 and not (tmp_path / "out.png").exists()
    err = capsys.readouterr().err
    assert "records no training resolution" in err
    (line,) = [line for line in err.splitlines() if "error:" in line]
    assert "6000×4000" in line and "would need about" in line and "4.0 GiB is available" in line
    assert "--resolution" in line
    assert elapsed < 10.0  # measured 0.17 s on an idle 2-core CPU (a loose bound: CI machines are shared)


def test_estimate_follows_the_strategy_and_refuses_with_the_numbers():
    predictor = Predictor(TSGLGenerator(variant="Baseline", size="small"), resolution=64, strategy="resize")
    small = predictor.check_fits(BIG_H, BIG_W, available=8 * 2**30)
    assert small["model_size"] == (64, 64) and small["total"] < 1.5 * 2**30  # mostly the full-size arrays
    full = Predictor(predictor.generator, resolution=64, strategy="original").estimate_memory(BIG_H, BIG_W)
    assert full["model_size"] == (4000, 6016) and full["total"] > 50 * small["total"]
    with pytest.raises(PredictionTooLargeError, match=r"would need about .* GiB .* 0\.5 GiB is available"):
        predictor.check_fits(BIG_H, BIG_W, name="big.png", available=2**29)
