"""No silent overwrites: predict never writes over its inputs, report never creates a database, a new fit never
reuses another run's folder."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image
from torch import nn

from inpaint.commands import predict as predict_cmd
from inpaint.commands import report as report_cmd
from inpaint.lit.cli import run_cli
from inpaint.models.interface import GeneratorOutput

TINY = """
seed_everything: 0
model:
  generator: {class_path: _tiny_models.TinyGenerator}
  discriminator: {class_path: _tiny_models.TinyDiscriminator}
data: {class_path: _tiny_models.TinyDataModule}
trainer: {accelerator: cpu, max_steps: 1, limit_val_batches: 1, num_sanity_val_steps: 0, enable_model_summary: false,
          enable_progress_bar: false, log_every_n_steps: 1, val_check_interval: 1, check_val_every_n_epoch: null}
run: {logger: none, checkpoint_every_n_steps: 1, image_grid_samples: 0}
"""


class Grey(nn.Module):
    size_multiple = 8
    priors: tuple[str, ...] = ()

    def forward(self, image, mask, **_):
        return GeneratorOutput(image=image * 0)


@pytest.fixture
def inputs(tmp_path, monkeypatch):
    (tmp_path / "imgs").mkdir()
    (tmp_path / "msk").mkdir()
    image = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    mask = np.zeros((16, 16), np.uint8)
    mask[4:8, 4:8] = 255
    Image.fromarray(image).save(tmp_path / "imgs" / "a.png")
    Image.fromarray(mask).save(tmp_path / "msk" / "a.png")
    monkeypatch.setattr(predict_cmd, "load_model", lambda ckpt, device: (Grey(), {}))
    return tmp_path


def _snapshot(folder) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", ["out-is-image", "out-is-mask", "out-is-image-folder", "out-inside-image-folder",
                                  "out-is-mask-folder"])  # fmt: skip
def test_predict_refuses_to_write_over_its_inputs(inputs, case, capsys):
    root = inputs
    before = _snapshot(root)
    single = ["--image", str(root / "imgs" / "a.png"), "--mask", str(root / "msk" / "a.png")]
    folders = ["--images", str(root / "imgs"), "--masks", str(root / "msk")]
    argv = {
        "out-is-image": [*single, "--out", str(root / "imgs" / "a.png")],
        "out-is-mask": [*single, "--out", str(root / "msk" / ".." / "msk" / "a.png")],
        "out-is-image-folder": [*folders, "--out", str(root / "imgs")],
        "out-inside-image-folder": [*folders, "--out", str(root / "imgs" / "results")],
        "out-is-mask-folder": [*folders, "--out", str(root / "msk") + "/"],
    }[case]
    assert predict_cmd.main(["--ckpt", "x", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--out" in err and ("overwritten" in err or "inside" in err), err
    assert _snapshot(root) == before  # nothing written, nothing changed


def test_predict_elsewhere_still_works(inputs):
    root = inputs
    assert predict_cmd.main(["--ckpt", "x", "--images", str(root / "imgs"), "--masks", str(root / "msk"),
                             "--out", str(root / "results")]) == 0  # fmt: skip
    assert (root / "results" / "a.png").is_file()


def test_report_with_a_missing_storage_creates_nothing(tmp_path, capsys):
    missing = tmp_path / "typo" / "studies.db"
    assert report_cmd.main(["--all", "--storage", f"sqlite:///{missing}"]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "no such database file" in err
    assert not missing.exists() and not missing.parent.exists()
    assert report_cmd.main(["--all", "--storage", "sqlite:///:memory:"]) == 2


def test_new_fit_never_reuses_a_run_folder(tmp_path, capsys):
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    run_dir = tmp_path / "runs" / "mine"
    base = ["fit", "--config", str(config), f"--run.dir={run_dir}"]
    assert run_cli(base) == 0
    saved = (run_dir / "config.yaml").read_bytes()
    stamp = os.path.getmtime(run_dir / "config.yaml")
    assert run_cli([*base, "--trainer.max_steps=2", "--model.lr_g=0.1"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("inpaint: error:")]
    assert len(lines) == 1 and "already holds a run" in lines[0] and "--ckpt_path last" in lines[0]
    assert (run_dir / "config.yaml").read_bytes() == saved and os.path.getmtime(run_dir / "config.yaml") == stamp
    # run.version names a folder the same way
    versioned = ["fit", "--config", str(config), f"--run.root={tmp_path / 'r'}", "--run.version=v1"]
    assert run_cli(versioned) == 0
    assert run_cli(versioned) == 2
    # resuming the run is what the folder is for
    assert run_cli([*base, "--trainer.max_steps=2", "--ckpt_path=last"]) == 0
    assert b"max_steps: 2" in (run_dir / "config.yaml").read_bytes()
