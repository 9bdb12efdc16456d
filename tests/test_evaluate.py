"""``inpaint evaluate``: pairing by name (missing / extra files are named), masks optional, numbers as the metrics."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from inpaint.commands.evaluate import evaluate_folders, main
from inpaint.metrics.image_quality import psnr_per_image, ssim_per_image

SIZE = 32


def _write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


@pytest.fixture
def folders(tmp_path, rng):
    """4 GT images (PNG), predictions (PNG), white-is-hole masks with 10, 25, 25, 45 % holes."""
    holes = [0.1, 0.25, 0.25, 0.45]
    for i, ratio in enumerate(holes):
        gt = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
        pred = np.clip(gt + rng.normal(0, 25, gt.shape), 0, 255).astype(np.uint8)
        mask = np.zeros((SIZE, SIZE), dtype=np.uint8)
        mask.reshape(-1)[: round(ratio * SIZE * SIZE)] = 255
        _write(tmp_path / "gt" / f"im{i}.png", gt)
        _write(tmp_path / "pred" / f"im{i}.png", pred)
        _write(tmp_path / "masks" / f"im{i}.png", mask)
    return tmp_path


def _arrays(root, name):
    gt = np.asarray(Image.open(root / "gt" / name))
    pred = np.asarray(Image.open(root / "pred" / name))
    known = np.asarray(Image.open(root / "masks" / name)) <= 127
    return gt, pred, known


def test_scores_the_composite_per_bucket(folders):
    report = evaluate_folders(str(folders / "pred"), str(folders / "gt"), str(folders / "masks"),
                              lpips_net=None, fid=False)  # fmt: skip
    gts, composites = [], []
    for i in range(4):
        gt, pred, known = _arrays(folders, f"im{i}.png")
        gts.append(gt)
        composites.append(np.where(known[..., None], gt, pred))
    gt_t = torch.from_numpy(np.stack(gts)).permute(0, 3, 1, 2)
    comp_t = torch.from_numpy(np.stack(composites)).permute(0, 3, 1, 2)
    assert report.overall.n == 4
    assert report.overall.get("psnr") == pytest.approx(float(psnr_per_image(comp_t, gt_t).mean()), abs=1e-9)
    bucket = report.bucket("paper", "20-30%")
    assert bucket.n == 2
    assert bucket.get("ssim") == pytest.approx(float(ssim_per_image(comp_t[1:3], gt_t[1:3]).mean()), abs=1e-9)
    assert report.bucket("nvidia", "1-10%").n == 1  # 10 % exactly: (0.01, 0.1]
    assert report.overall.get("psnr", "raw") < report.overall.get("psnr")


def test_command_writes_files(folders, capsys):
    out = folders / "scores"
    rc = main(["--pred", str(folders / "pred"), "--gt", str(folders / "gt"), "--masks", str(folders / "masks"),
               "--no-fid", "--lpips-net", "none", "--out", str(out), "--ssim-window", "uniform7"])  # fmt: skip
    assert rc == 0
    data = json.loads((out / "metrics.json").read_text())
    assert data["protocol"]["ssim_window"] == "uniform7" and data["protocol"]["fid_backend"] == "off"
    header = (out / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header[:3] == ["scheme", "bucket", "n"] and "ssim_window" in header and "raw_psnr" in header


def test_missing_prediction_is_named(folders, capsys):
    (folders / "pred" / "im2.png").unlink()
    rc = main(["--pred", str(folders / "pred"), "--gt", str(folders / "gt"), "--no-fid", "--lpips-net", "none"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "im2.png" in err and "no prediction counterpart" in err


def test_extra_prediction_is_named(folders, capsys):
    _write(folders / "pred" / "stray.png", np.zeros((SIZE, SIZE, 3), dtype=np.uint8))
    rc = main(["--pred", str(folders / "pred"), "--gt", str(folders / "gt"), "--no-fid", "--lpips-net", "none"])
    assert rc == 2
    assert "stray.png" in capsys.readouterr().err


def test_mask_size_mismatch_is_refused(folders, capsys):
    _write(folders / "masks" / "im1.png", np.zeros((SIZE, SIZE + 4), dtype=np.uint8))
    rc = main(["--pred", str(folders / "pred"), "--gt", str(folders / "gt"), "--masks", str(folders / "masks"),
               "--no-fid", "--lpips-net", "none"])  # fmt: skip
    assert rc == 2
    assert "im1.png" in capsys.readouterr().err


def test_without_masks_whole_images_in_one_bucket(folders):
    report = evaluate_folders(str(folders / "pred"), str(folders / "gt"), lpips_net=None, fid=False)
    assert [(r.scheme, r.bucket) for r in report.buckets] == [("all", "all")]
    gts = torch.from_numpy(np.stack([_arrays(folders, f"im{i}.png")[0] for i in range(4)])).permute(0, 3, 1, 2)
    preds = torch.from_numpy(np.stack([_arrays(folders, f"im{i}.png")[1] for i in range(4)])).permute(0, 3, 1, 2)
    assert report.overall.get("psnr") == pytest.approx(float(psnr_per_image(preds, gts).mean()), abs=1e-9)
    assert report.variants() == ["composite"]


def test_black_hole_polarity_flips_the_buckets(folders):
    report = evaluate_folders(str(folders / "pred"), str(folders / "gt"), str(folders / "masks"),
                              mask_hole_value="black", lpips_net=None, fid=False)  # fmt: skip
    assert report.bucket("nvidia", "50-60%").n == 1  # 45 % white → 55 % black hole
    assert report.protocol["mask_hole_value"] == "black"
