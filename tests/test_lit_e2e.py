"""End-to-end runs in real subprocesses: TSGL (small widths, 64²) on the embedded photos through the console scripts.

* smoke fit with the ``lightning`` console script: checkpoints, config, PNG grids and an offline W&B run;
* SIGKILL mid-run, a truncated newest checkpoint planted, then ``--ckpt_path last`` reaches the same step count;
* SIGTERM mid-run: exit 143 with a resumable ``last.ckpt`` and a summary, then ``--ckpt_path last`` continues;
* a 2-process CPU DDP fit (gloo): ranks see different samples, end with identical weights, one W&B run.
"""

from __future__ import annotations

import csv
import glob
import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from inpaint.lit.callbacks.rank_audit import state_digest
from inpaint.lit.checkpointing import matches_checksum
from inpaint.lit.integrity import checksum_path

pytestmark = pytest.mark.slow

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
SMOKE = os.path.join(REPO, "experiments", "runs", "smoke_cpu.yaml")
# A few cheap steps: batch 2, one validation batch of one sample per bucket, a checkpoint every step.
FAST = [
    "--data.init_args.batch_size=2", "--data.init_args.eval_per_bucket=1", "--data.init_args.eval_batch_size=2",
    "--trainer.limit_val_batches=1", "--trainer.enable_model_summary=false", "--run.checkpoint_every_n_steps=1",
    "--run.image_grid_samples=2",
]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(WANDB_MODE="offline", WANDB_SILENT="true", PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    for var in ("SLURM_JOB_ID", "SLURM_NTASKS", "LOCAL_RANK", "INPAINT_RUN_DIR"):
        env.pop(var, None)
    return env


def _run(args: list[str], cwd, timeout: float = 150) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _run_dir(root) -> str:
    dirs = glob.glob(os.path.join(str(root), "smoke_cpu", "2global-local__global-local", "*"))
    assert len(dirs) == 1, dirs
    return dirs[0]


def test_lightning_fit_smoke_writes_everything(tmp_path):
    root = tmp_path / "runs"
    result = _run([os.path.join(BIN, "lightning"), "fit", "--config", SMOKE, *FAST, "--trainer.max_steps=2",
                   "--trainer.val_check_interval=2", f"--run.root={root}"], cwd=tmp_path)
    run_dir = _run_dir(root)
    assert os.path.isfile(os.path.join(run_dir, "config.yaml"))
    assert {"step00000001.ckpt", "step00000002.ckpt", "last.ckpt", "epoch0000.ckpt"} <= set(
        os.listdir(os.path.join(run_dir, "checkpoints")))
    assert os.listdir(os.path.join(run_dir, "images")) == ["val-step00000002.png"]
    assert len(glob.glob(os.path.join(run_dir, "wandb", "offline-run-*"))) == 1
    assert "wandb sync" in result.stderr + result.stdout
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    assert summary["global_step"] == 2 and summary["run_dir"] == run_dir


def _csv_losses(run_dir: str) -> list[float]:
    rows = list(csv.DictReader(open(os.path.join(run_dir, "logs", "csv", "metrics.csv"))))
    return [float(r[k]) for r in rows for k in ("train/loss_g", "train/loss_d") if r.get(k)]


def test_sigkill_then_resume_from_last_skips_a_truncated_checkpoint(tmp_path):
    root = tmp_path / "runs"
    args = [os.path.join(BIN, "inpaint"), "fit", "--config", SMOKE, *FAST, "--trainer.max_steps=4",
            "--trainer.val_check_interval=100", "--run.logger=csv", "--trainer.log_every_n_steps=1",
            f"--run.root={root}"]
    process = subprocess.Popen(args, cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    pattern = os.path.join(str(root), "smoke_cpu", "*", "*", "checkpoints", "step00000002.ckpt")
    while not glob.glob(pattern):
        assert process.poll() is None, process.stderr.read().decode()[-3000:]
        assert time.monotonic() < deadline, "no checkpoint after 120 s"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)  # mid-run: steps 3-4 not done
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    run_dir = _run_dir(root)
    assert not os.path.exists(os.path.join(run_dir, "summary.json"))

    # Plant the worst case: the newest file is a checkpoint cut mid-write.
    ckpt_dir = os.path.join(run_dir, "checkpoints")
    good = max(glob.glob(os.path.join(ckpt_dir, "step*.ckpt")))
    good_step = torch.load(good, weights_only=True)["global_step"]
    damaged = os.path.join(ckpt_dir, "last.ckpt")
    payload = open(good, "rb").read()
    with open(damaged, "wb") as handle:
        handle.write(payload[: len(payload) // 3])
    os.utime(damaged, (time.time() + 60, time.time() + 60))

    result = _run([*args, "--ckpt_path=last"], cwd=tmp_path)
    assert "skipping damaged checkpoint" in result.stderr
    assert f"resuming from {good}" in result.stderr
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    assert summary["global_step"] == 4
    assert summary["train_steps_run"] == 4 - good_step  # only the missing iterations were trained
    losses = _csv_losses(run_dir)
    assert losses and all(math.isfinite(v) for v in losses)
    assert torch.load(os.path.join(ckpt_dir, "last.ckpt"), weights_only=True)["global_step"] == 4


def test_sigterm_leaves_a_resumable_checkpoint_and_exits_143(tmp_path):
    root = tmp_path / "runs"
    args = [os.path.join(BIN, "inpaint"), "fit", "--config", SMOKE, *FAST, "--run.checkpoint_every_n_steps=1000",
            "--trainer.val_check_interval=1", "--run.logger=csv", f"--run.root={root}"]
    process = subprocess.Popen([*args, "--trainer.max_steps=200"], cwd=tmp_path, env=_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    first_grid = os.path.join(str(root), "smoke_cpu", "*", "*", "images", "val-step00000001.png")
    while not glob.glob(first_grid):  # one step trained and validated
        assert process.poll() is None, process.stderr.read()[-3000:]
        assert time.monotonic() < deadline, "no validation grid after 120 s"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, stderr[-3000:]
    run_dir = _run_dir(root)
    last = os.path.join(run_dir, "checkpoints", "last.ckpt")
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    stopped_at = summary["global_step"]
    assert summary["stopped_by"] == "SIGTERM" and summary["last_checkpoint"] == last and 1 <= stopped_at < 200
    assert f"stopped by SIGTERM at step {stopped_at}; resumable checkpoint {last}" in stderr
    assert torch.load(last, weights_only=True)["global_step"] == stopped_at
    assert matches_checksum(last) and os.path.isfile(checksum_path(last))  # written like every checkpoint

    _run([*args, f"--trainer.max_steps={stopped_at + 2}", "--ckpt_path=last"], cwd=tmp_path)
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    assert summary["global_step"] == stopped_at + 2 and summary["train_steps_run"] == 2
    assert summary["stopped_by"] is None


BATCHNORM_STATS = ("running_mean", "running_var", "num_batches_tracked")


def test_ddp_two_cpu_processes(tmp_path):
    root = tmp_path / "runs"
    _run([os.path.join(BIN, "inpaint"), "fit", "--config", SMOKE, *FAST, "--trainer.max_steps=2",
          "--trainer.val_check_interval=100", "--trainer.devices=2",
          "--trainer.strategy=ddp_find_unused_parameters_true", "--run.audit=true", f"--run.root={root}"],
         cwd=tmp_path, timeout=170)
    run_dir = _run_dir(root)
    audits = [json.load(open(os.path.join(run_dir, "audit", f"rank{r}.json"))) for r in (0, 1)]
    assert [a["world_size"] for a in audits] == [2, 2] and [a["global_step"] for a in audits] == [2, 2]
    assert [a["process_group_backend"] for a in audits] == ["gloo", "gloo"]  # CPU processes: gloo, not NCCL
    seen0, seen1 = set(audits[0]["seen_ids"]), set(audits[1]["seen_ids"])
    assert len(seen0) == 4 and len(seen1) == 4 and seen0.isdisjoint(seen1)  # 2 steps × batch 2, sharded
    # gradients were all-reduced: every parameter is bit-identical on both ranks and in the checkpoint
    saved = torch.load(os.path.join(run_dir, "checkpoints", "last.ckpt"), weights_only=True)
    parameter_names = set(audits[0]["parameter_names"])
    assert len(parameter_names) > 100  # the real TSGL generator + discriminator
    assert audits[0]["parameter_digest"] == audits[1]["parameter_digest"]
    assert state_digest(saved["state_dict"], parameter_names) == audits[0]["parameter_digest"]
    assert state_digest(saved["state_dict"]) == audits[0]["state_digest"]  # rank 0 wrote the checkpoint
    # only BatchNorm running statistics may differ (no SyncBatchNorm on CPU; rank 0's are broadcast each step)
    differing = [k for k, v in audits[0]["tensor_digests"].items() if audits[1]["tensor_digests"][k] != v]
    assert all(k.endswith(BATCHNORM_STATS) for k in differing), differing
    assert len(glob.glob(os.path.join(run_dir, "wandb", "offline-run-*"))) == 1  # rank 0 only
