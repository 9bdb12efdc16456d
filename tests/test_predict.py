"""``inpaint predict`` / :class:`inpaint.inference.Predictor` on arbitrary sizes: output has the input's size and its
known pixels unchanged, bit for bit. A tiny stand-in generator replaces a trained checkpoint."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image
from torch import nn

from inpaint.commands import predict as predict_cmd
from inpaint.inference import Predictor
from inpaint.models.interface import GeneratorOutput

H, W = 300, 451


class MeanFill(nn.Module):
    """Stand-in generator: every pixel becomes the mean colour of the known pixels; records what it was fed."""

    size_multiple = 32

    def __init__(self, priors: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.priors = priors
        self.calls: list[dict[str, tuple[int, ...]]] = []

    def forward(self, image, mask, edge=None, gray=None, smooth=None):
        inputs = dict(image=image, mask=mask, edge=edge, gray=gray, smooth=smooth)
        self.calls.append({k: tuple(v.shape) for k, v in inputs.items() if v is not None})
        mean = (image * mask).sum(dim=(2, 3), keepdim=True) / mask.sum(dim=(2, 3), keepdim=True).clamp_min(1)
        return GeneratorOutput(image=mean.expand_as(image).contiguous())


def _hand_drawn(tmp_path, rng):
    """A photo-like 300×451 image whose hole region is painted pure red, and a white-is-hole stroke mask."""
    yy, xx = np.mgrid[0:H, 0:W]
    image = np.stack([(xx * 255 // W), (yy * 255 // H), ((xx + yy) % 256)], axis=-1).astype(np.uint8)
    image = np.clip(image + rng.integers(0, 20, image.shape), 0, 255).astype(np.uint8)
    mask = np.zeros((H, W), dtype=np.uint8)
    cv2.polylines(mask, [np.array([[40, 60], [120, 90], [200, 70], [260, 160]], np.int32)], False, 255, thickness=14)
    cv2.circle(mask, (380, 220), 35, 255, thickness=-1)
    cv2.line(mask, (300, 20), (430, 40), 255, thickness=6)
    image[mask > 127] = (255, 0, 0)
    Image.fromarray(image).save(tmp_path / "in.png")
    Image.fromarray(mask).save(tmp_path / "mask.png")
    return image, mask


@pytest.mark.parametrize(("strategy", "resolution"), [("resize", 128), ("crop", 128), ("original", None)])
def test_known_pixels_unchanged_and_size_kept(tmp_path, rng, strategy, resolution):
    image, mask = _hand_drawn(tmp_path, rng)
    generator = MeanFill()
    predictor = Predictor(generator, resolution=resolution, strategy=strategy, crop_margin=16)
    predict_cmd.predict_file(predictor, tmp_path / "in.png", tmp_path / "mask.png", tmp_path / "out.png")
    out = np.asarray(Image.open(tmp_path / "out.png"))
    assert out.shape == (H, W, 3) and out.dtype == np.uint8
    known = mask <= 127
    assert np.array_equal(out[known], image[known])  # exactly
    assert np.abs(out[~known].astype(int) - image[~known]).sum(axis=-1).min() > 0  # every hole pixel was filled
    for call in generator.calls:
        h, w = call["image"][-2:]
        assert h % 32 == 0 and w % 32 == 0  # padded to the model's multiple
        if resolution is not None:
            assert max(h, w) <= resolution + 31
    if strategy == "crop":  # one per connected hole region, after the memory estimate's 64² probe pass
        assert len(generator.calls) == 4 and generator.calls[0]["image"][-2:] == (64, 64)


def test_priors_are_computed_for_generators_that_read_them(tmp_path, rng):
    image, mask = _hand_drawn(tmp_path, rng)
    generator = MeanFill(priors=("edge", "gray", "smooth"))
    out = Predictor(generator, resolution=64, smoothing="none")(image, (mask <= 127).astype(np.float32))
    assert out.shape == image.shape
    call = generator.calls[0]
    assert call["edge"][1] == 1 and call["gray"][1] == 1 and call["smooth"][1] == 3
    assert call["edge"][-2:] == call["image"][-2:]


def test_cli_single_image_and_polarity(tmp_path, rng, monkeypatch):
    image, mask = _hand_drawn(tmp_path, rng)
    monkeypatch.setattr(predict_cmd, "load_model", lambda ckpt, device: (MeanFill(), {"resolution": 96}))
    rc = predict_cmd.main(["--ckpt", "stand-in.pt", "--image", str(tmp_path / "in.png"), "--mask",
                           str(tmp_path / "mask.png"), "--out", str(tmp_path / "out.png")])  # fmt: skip
    assert rc == 0
    out = np.asarray(Image.open(tmp_path / "out.png"))
    assert np.array_equal(out[mask <= 127], image[mask <= 127])

    Image.fromarray(255 - mask).save(tmp_path / "mask_black.png")  # same hole, drawn black on white
    rc = predict_cmd.main(["--ckpt", "x", "--image", str(tmp_path / "in.png"),
                           "--mask", str(tmp_path / "mask_black.png"),
                           "--mask-hole-value", "black", "--out", str(tmp_path / "out2.png")])  # fmt: skip
    assert rc == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out2.png")), out)


def test_cli_folder_mode(tmp_path, rng, monkeypatch):
    image, mask = _hand_drawn(tmp_path, rng)
    for name in ("a", "b"):
        (tmp_path / "imgs").mkdir(exist_ok=True)
        (tmp_path / "msk").mkdir(exist_ok=True)
        Image.fromarray(image).save(tmp_path / "imgs" / f"{name}.jpg")
        Image.fromarray(mask).save(tmp_path / "msk" / f"{name}.png")
    monkeypatch.setattr(predict_cmd, "load_model", lambda ckpt, device: (MeanFill(), {}))
    rc = predict_cmd.main(["--ckpt", "x", "--images", str(tmp_path / "imgs"), "--masks", str(tmp_path / "msk"),
                           "--out", str(tmp_path / "results")])  # fmt: skip
    assert rc == 0
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["a.png", "b.png"]


def test_mask_size_mismatch_is_refused(tmp_path, rng, monkeypatch, capsys):
    _hand_drawn(tmp_path, rng)
    Image.fromarray(np.zeros((H, W - 1), dtype=np.uint8)).save(tmp_path / "small.png")
    monkeypatch.setattr(predict_cmd, "load_model", lambda ckpt, device: (MeanFill(), {}))
    rc = predict_cmd.main(["--ckpt", "x", "--image", str(tmp_path / "in.png"), "--mask", str(tmp_path / "small.png"),
                           "--out", str(tmp_path / "out.png")])  # fmt: skip
    assert rc == 2
    err = capsys.readouterr().err
    assert "small.png" in err and "450×300" in err and "451×300" in err
    assert not (tmp_path / "out.png").exists()


def test_jpeg_output_is_refused(tmp_path, rng, monkeypatch, capsys):
    _hand_drawn(tmp_path, rng)
    monkeypatch.setattr(predict_cmd, "load_model", lambda ckpt, device: (MeanFill(), {}))
    rc = predict_cmd.main(["--ckpt", "x", "--image", str(tmp_path / "in.png"), "--mask", str(tmp_path / "mask.png"),
                           "--out", str(tmp_path / "out.jpg")])  # fmt: skip
    assert rc == 2 and ".png" in capsys.readouterr().err


def test_dispatcher_routes_image_flags_to_this_command(tmp_path, rng, monkeypatch):
    from inpaint import cli

    _hand_drawn(tmp_path, rng)
    monkeypatch.setattr(predict_cmd, "load_model", lambda ckpt, device: (MeanFill(), {}))
    rc = cli.main(["predict", "--ckpt", "x", "--image", str(tmp_path / "in.png"), "--mask", str(tmp_path / "mask.png"),
                   "--out", str(tmp_path / "via_cli.png")])  # fmt: skip
    assert rc == 0 and (tmp_path / "via_cli.png").is_file()


def test_predict_help_is_the_file_predictors(capsys):
    from inpaint import cli

    with pytest.raises(SystemExit) as stopped:
        cli.main(["predict", "--help"])
    out = capsys.readouterr().out
    assert stopped.value.code == 0
    assert out.startswith("usage: inpaint predict") and "--mask-hole-value" in out and "--config run.yaml" in out
    assert "--trainer" not in out


@pytest.mark.parametrize(("argv", "lightning"), [
    (["--help"], False), ([], False), (["--ckpt", "m.pt", "--image", "a.png"], False),
    (["--config", "run.yaml"], True), (["-c", "run.yaml", "--help"], True), (["--config=run.yaml"], True),
    (["--trainer.devices", "1"], True), (["--ckpt_path", "last"], True), (["--model.generator", "x"], True),
])
def test_predict_goes_to_lightning_only_with_its_options(argv, lightning):
    from inpaint.cli import runs_lightning_predict

    assert runs_lightning_predict(argv) is lightning
