"""Checkpoint integrity on every load path: a SHA-256 beside every checkpoint and export, verified before loading;
a configured generator that is not the checkpoint's is refused."""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from inpaint.commands import export as export_cmd
from inpaint.commands import predict as predict_cmd
from inpaint.lit.checkpointing import AtomicCheckpointIO, find_resumable_checkpoint
from inpaint.lit.cli import run_cli
from inpaint.lit.export import export_generator, load_generator, training_resolution
from inpaint.lit.integrity import (
    ChecksumMismatchError,
    IntegrityWarning,
    checksum_path,
    file_sha256,
    verify_checksum,
)

TINY = """
seed_everything: 0
model:
  generator: {class_path: _tiny_models.TinyGenerator}
  discriminator: {class_path: _tiny_models.TinyDiscriminator}
data: {class_path: _tiny_models.TinyDataModule}
trainer: {accelerator: cpu, max_steps: 2, limit_val_batches: 1, limit_test_batches: 1, num_sanity_val_steps: 0,
          enable_model_summary: false, enable_progress_bar: false, log_every_n_steps: 1, val_check_interval: 1,
          check_val_every_n_epoch: null}
run: {logger: none, checkpoint_every_n_steps: 1, image_grid_samples: 0,
      evaluation: {fid: false, raw: false, lpips_net: null, save_images: false}}
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny fit (2 steps) whose checkpoints every test copies: (config path, run folder)."""
    root = tmp_path_factory.mktemp("integrity")
    config = root / "tiny.yaml"
    config.write_text(TINY)
    assert run_cli(["fit", "--config", str(config), f"--run.root={root / 'runs'}", "--run.experiment=x"]) == 0
    return str(config), str(root / "runs" / "x" / "tinygenerator" / "version_0")


def _flip_middle(path: str, size: int = 4096) -> None:
    """Invert 4 KiB in the middle of the file; its size stays the same."""
    data = bytearray(open(path, "rb").read())
    start = max(0, len(data) // 2 - size // 2)
    for i in range(start, min(len(data), start + size)):
        data[i] ^= 0xFF
    before = os.path.getsize(path)
    with open(path, "wb") as handle:
        handle.write(data)
    assert os.path.getsize(path) == before


def _error_lines(capsys) -> list[str]:
    err = capsys.readouterr().err.strip().splitlines()
    return [line for line in err if "error:" in line]


def test_every_checkpoint_gets_a_sha256_beside_it(trained):
    _, run_dir = trained
    folder = os.path.join(run_dir, "checkpoints")
    ckpts = sorted(n for n in os.listdir(folder) if n.endswith(".ckpt"))
    assert ckpts == ["epoch0000.ckpt", "last.ckpt", "step00000001.ckpt", "step00000002.ckpt"]
    assert sorted(n for n in os.listdir(folder) if n.endswith(".sha256")) == [f"{n}.sha256" for n in ckpts]
    for name in ckpts:
        path = os.path.join(folder, name)
        line = open(checksum_path(path)).read()
        assert line == f"{file_sha256(path)}  {name}\n"  # sha256sum's format
        assert verify_checksum(path) is True
    if shutil.which("sha256sum"):
        assert subprocess.run(["sha256sum", "-c", "last.ckpt.sha256"], cwd=folder, capture_output=True).returncode == 0


def test_checksum_is_removed_with_its_checkpoint(tmp_path):
    io = AtomicCheckpointIO()
    path = str(tmp_path / "step1.ckpt")
    io.save_checkpoint({"state_dict": {"w": torch.ones(3)}}, path)
    assert os.path.isfile(checksum_path(path))
    io.remove_checkpoint(path)
    assert os.listdir(tmp_path) == []


def test_flipped_checkpoint_is_refused_on_every_load_path(trained, tmp_path, monkeypatch, capsys):
    config, run_dir = trained
    ckpt = str(tmp_path / "damaged.ckpt")
    source = os.path.join(run_dir, "checkpoints", "last.ckpt")
    shutil.copy(source, ckpt)
    shutil.copy(checksum_path(source), checksum_path(ckpt))
    _flip_middle(ckpt)

    with pytest.raises(ChecksumMismatchError, match="damaged.ckpt"):  # the library loader (predict uses it)
        load_generator(ckpt, allow_any_class=True)
    assert export_cmd.main(["--ckpt", ckpt, "--out", str(tmp_path / "g.pt")]) == 2  # export
    (line,) = _error_lines(capsys)
    assert "damaged.ckpt" in line and "SHA-256" in line
    assert not (tmp_path / "g.pt").exists()

    rc = run_cli(["test", "--config", config, f"--run.root={tmp_path / 'runs'}", f"--ckpt_path={ckpt}"])  # test
    assert rc == 2
    (line,) = _error_lines(capsys)
    assert "damaged.ckpt" in line and "does not match" in line

    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "in.png")
    Image.fromarray(np.full((8, 8), 255, np.uint8)).save(tmp_path / "mask.png")
    rc = predict_cmd.main(["--ckpt", ckpt, "--image", str(tmp_path / "in.png"), "--mask", str(tmp_path / "mask.png"),
                           "--out", str(tmp_path / "out.png")])  # fmt: skip
    assert rc == 2 and not (tmp_path / "out.png").exists()
    (line,) = _error_lines(capsys)
    assert "damaged.ckpt" in line

    folder = tmp_path / "resume"  # --ckpt_path last: the damaged newest is skipped, an older intact one is used
    shutil.copytree(os.path.join(run_dir, "checkpoints"), folder)
    _flip_middle(str(folder / "last.ckpt"))
    os.utime(folder / "last.ckpt")
    with pytest.warns(UserWarning, match="damaged"):
        chosen = find_resumable_checkpoint(str(folder))
    assert chosen is not None and os.path.basename(chosen) != "last.ckpt"


def test_export_writes_a_checksum_and_predict_verifies_it(trained, tmp_path, capsys):
    _, run_dir = trained
    out = str(tmp_path / "model.pt")
    meta = export_generator(os.path.join(run_dir, "checkpoints", "last.ckpt"), out)
    assert verify_checksum(out) is True
    assert "sha256" in open(os.path.splitext(out)[0] + ".yaml").read()
    assert "size_multiple" not in meta  # a class outside inpaint.* is not instantiated by export
    generator, info = load_generator(out, allow_any_class=True)
    assert info["size_multiple"] == 4  # read from the loaded generator instead
    _flip_middle(out, size=64)
    with pytest.raises(ChecksumMismatchError, match="model.pt"):
        load_generator(out, allow_any_class=True)


def test_file_without_checksum_loads_with_one_warning(trained, tmp_path, capsys):
    _, run_dir = trained
    foreign = str(tmp_path / "foreign.ckpt")
    shutil.copy(os.path.join(run_dir, "checkpoints", "last.ckpt"), foreign)  # no .sha256 beside it
    with pytest.warns(IntegrityWarning, match="foreign.ckpt has no foreign.ckpt.sha256"):
        load_generator(foreign, allow_any_class=True)
    assert export_cmd.main(["--ckpt", foreign, "--out", str(tmp_path / "g.pt")]) == 0
    warnings_printed = [line for line in capsys.readouterr().err.splitlines() if "warning:" in line]
    assert len(warnings_printed) == 1 and "integrity" in warnings_printed[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", IntegrityWarning)
        load_generator(str(tmp_path / "g.pt"), allow_any_class=True)  # the export itself has one now


def test_configured_generator_other_than_the_checkpoints_is_refused(trained, tmp_path, capsys):
    config, run_dir = trained
    ckpt = os.path.join(run_dir, "checkpoints", "last.ckpt")
    rc = run_cli(["test", "--config", config, f"--run.dir={tmp_path / 'other'}", f"--ckpt_path={ckpt}",
                  "--model.generator.init_args.width=6"])  # fmt: skip
    assert rc == 2
    (line,) = _error_lines(capsys)
    assert "another generator" in line and "width: 6 vs 8" in line
    # the same configuration as the checkpoint's: tested as usual
    assert run_cli(["test", "--config", config, f"--run.dir={tmp_path / 'same'}", f"--ckpt_path={ckpt}"]) == 0


def test_training_resolution_is_read_from_the_data_module():
    assert training_resolution({"datamodule_hyper_parameters": {"resolution": 64}}) == (64, 64)
    assert training_resolution({"datamodule_hyper_parameters": {"resolution": [64, 96]}}) == (64, 96)
    assert training_resolution({"datamodule_hyper_parameters": {"init_args": {"resolution": 128}}}) == (128, 128)
    assert training_resolution({"datamodule_hyper_parameters": {"size": 16}}) is None
    assert training_resolution({}) is None
