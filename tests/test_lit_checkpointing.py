"""Atomic checkpoint writes, choosing an intact checkpoint to resume from, run-folder rules, export round trip."""

from __future__ import annotations

import os

import pytest
import torch
from _tiny_models import TinyDiscriminator, TinyGenerator, tiny_batch

from inpaint.lit import checkpointing
from inpaint.lit.checkpointing import AtomicCheckpointIO, find_resumable_checkpoint, is_intact_checkpoint
from inpaint.lit.export import ExportError, export_generator, load_generator
from inpaint.lit.module import InpaintingGAN
from inpaint.lit.run_dir import RUN_DIR_ENV, RunOptions, resolve_run_dir, slug


def _write(path, value: float) -> None:
    AtomicCheckpointIO().save_checkpoint({"state_dict": {"w": torch.full((64,), value)}}, path)


def test_atomic_save_survives_a_crash_mid_write(tmp_path, monkeypatch):
    path = tmp_path / "last.ckpt"
    _write(path, 1.0)
    real_save = torch.save

    def dying_save(obj, handle, *args, **kwargs):
        handle.write(b"PK\x03\x04 half a checkpoint")  # some bytes hit the disk, then the process "dies"
        raise KeyboardInterrupt("killed mid-save")

    monkeypatch.setattr(checkpointing.torch, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        _write(path, 2.0)
    monkeypatch.setattr(checkpointing.torch, "save", real_save)
    loaded = torch.load(path, weights_only=True)
    assert torch.equal(loaded["state_dict"]["w"], torch.full((64,), 1.0))  # the last good checkpoint is intact
    assert sorted(os.listdir(tmp_path)) == ["last.ckpt", "last.ckpt.sha256"]  # no partial file left behind


def test_truncated_checkpoint_is_never_chosen(tmp_path):
    older, newer = tmp_path / "step00000002.ckpt", tmp_path / "last.ckpt"
    _write(older, 1.0)
    _write(newer, 2.0)
    data = newer.read_bytes()
    newer.write_bytes(data[: len(data) // 2])  # cut mid-file, as a non-atomic writer killed mid-save would
    os.utime(older, (1, 1))  # make sure the damaged file is the newest
    assert is_intact_checkpoint(str(older)) and not is_intact_checkpoint(str(newer))
    with pytest.warns(UserWarning, match="damaged"):
        assert find_resumable_checkpoint(str(tmp_path)) == str(older)
    (tmp_path / ".last.ckpt.partial-123").write_bytes(b"junk")  # leftovers are ignored
    newer.unlink()
    assert find_resumable_checkpoint(str(tmp_path)) == str(older)
    older.unlink()
    assert find_resumable_checkpoint(str(tmp_path)) is None


def test_run_dir_rules(tmp_path, monkeypatch):
    for var in ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "LOCAL_RANK", RUN_DIR_ENV):
        monkeypatch.delenv(var, raising=False)
    options = RunOptions(root=str(tmp_path), experiment="Exp 1")
    first = resolve_run_dir(options, "2Global(Local)->Global(Local)", resume=False)
    assert first == str(tmp_path / "exp-1" / "2global-local__global-local" / "version_0")
    second = resolve_run_dir(options, "2Global(Local)->Global(Local)", resume=False)
    assert second.endswith("version_1")
    os.makedirs(os.path.join(first, "checkpoints"))
    assert resolve_run_dir(options, "2Global(Local)->Global(Local)", resume=True) == first  # newest with checkpoints
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    assert resolve_run_dir(options, "v", resume=False).endswith(os.path.join("v", "slurm-4242"))
    monkeypatch.setenv(RUN_DIR_ENV, str(tmp_path / "parent-choice"))
    monkeypatch.setenv("LOCAL_RANK", "1")  # a DDP worker started by Lightning follows its parent
    assert resolve_run_dir(options, "v", resume=False) == str(tmp_path / "parent-choice")
    explicit = RunOptions(dir=str(tmp_path / "sweep" / "trial-3"))
    assert resolve_run_dir(explicit, "v", resume=False) == str(tmp_path / "sweep" / "trial-3")
    assert slug("Global(2Local)->Global(Local)") == "global-2local__global-local"


def _checkpoint(tmp_path, ema: bool) -> str:
    """A real InpaintingGAN checkpoint written by Lightning after one step."""
    from lightning.pytorch import Trainer

    model = InpaintingGAN(TinyGenerator(width=6), TinyDiscriminator(), ema_decay=0.9 if ema else None)
    model.hparams["generator"]["init_args"] = {"width": 6}  # built in Python: say how to rebuild it

    class Once:
        def __iter__(self):
            yield tiny_batch(2, 16)

        def __len__(self):
            return 1

    trainer = Trainer(accelerator="cpu", max_steps=1, logger=False, enable_progress_bar=False,
                      enable_model_summary=False, enable_checkpointing=False, default_root_dir=str(tmp_path))
    trainer.fit(model, train_dataloaders=Once())
    path = str(tmp_path / "model.ckpt")
    trainer.save_checkpoint(path)
    return path


def test_export_round_trip_and_loader_accepts_both_formats(tmp_path):
    ckpt = _checkpoint(tmp_path, ema=True)
    state = torch.load(ckpt, weights_only=True)["state_dict"]
    out = str(tmp_path / "export" / "model.pt")
    meta = export_generator(ckpt, out)
    assert meta["ema"] is True and meta["global_step"] == 1
    assert os.path.isfile(os.path.splitext(out)[0] + ".yaml")
    payload = torch.load(out, weights_only=True)  # plain data only
    assert set(payload) == {"format", "generator", "state_dict", "meta"}
    assert not any(k.startswith(("discriminator", "generator")) for k in payload["state_dict"])
    batch = tiny_batch(2, 16, seed=5)
    inputs = {k: batch[k] for k in ("image", "mask", "edge", "gray", "smooth")}
    results = []
    for path in (out, ckpt):
        # tests/_tiny_models is not under inpaint.*: loading it needs the explicit opt-in
        with pytest.raises(ExportError, match="refusing"):
            load_generator(path)
        generator, info = load_generator(path, allow_any_class=True)
        assert info["ema"] is True and not generator.training
        for name, tensor in generator.state_dict().items():
            assert torch.equal(tensor, state[f"generator_ema.module.{name}"])
        with torch.no_grad():
            results.append(generator(**inputs).image)
    assert torch.equal(results[0], results[1])
    raw = str(tmp_path / "raw.pt")
    assert export_generator(ckpt, raw, use_ema=False)["ema"] is False
    assert torch.equal(torch.load(raw, weights_only=True)["state_dict"]["to_image.weight"],
                       state["generator.to_image.weight"])


def test_export_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        export_generator(str(tmp_path / "missing.ckpt"), str(tmp_path / "x.pt"))
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ExportError, match="weights_only"):
        load_generator(str(bad))
    torch.save({"format": "something/9"}, tmp_path / "foreign.pt")
    with pytest.raises(ExportError, match="format"):
        load_generator(str(tmp_path / "foreign.pt"))


def test_export_command_line(tmp_path, capsys):
    from inpaint.commands.export import main

    ckpt = _checkpoint(tmp_path, ema=False)
    out = str(tmp_path / "g.pt")
    assert main(["--ckpt", ckpt, "--out", out]) == 0
    assert "wrote generator" in capsys.readouterr().out
    assert torch.load(out, weights_only=True)["meta"]["ema"] is False
    assert main(["--ckpt", str(tmp_path / "missing.ckpt"), "--out", out]) == 2
    assert capsys.readouterr().err.startswith("inpaint export: error: no such checkpoint")


def test_logger_choices_write_inside_the_run_folder(tmp_path):
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger, WandbLogger

    from inpaint.lit.loggers import build_logger

    run_dir = str(tmp_path)
    wandb = build_logger("wandb", run_dir, "exp", "var", "version_0")
    assert isinstance(wandb, WandbLogger) and wandb.save_dir == run_dir
    assert wandb._wandb_init["group"] == "exp/var" and wandb._offline is True
    tensorboard = build_logger("tensorboard", run_dir, "exp", "var", "version_0")
    assert isinstance(tensorboard, TensorBoardLogger) and tensorboard.log_dir == os.path.join(run_dir, "logs",
                                                                                              "tensorboard")
    csv_logger = build_logger("csv", run_dir, "exp", "var", "version_0")
    assert isinstance(csv_logger, CSVLogger) and csv_logger.log_dir == os.path.join(run_dir, "logs", "csv")
    assert build_logger("none", run_dir, "exp", "var", "version_0") is False
    with pytest.raises(ValueError, match="run.logger"):
        build_logger("mlflow", run_dir, "exp", "var", "version_0")
