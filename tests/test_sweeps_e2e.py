"""A miniature ablation end to end: `inpaint sweep` → Optuna study → Lightning fit + test → Table IV report.

Two variants × one seed, one training step, four evaluation images: real Optuna, real Lightning, real metrics.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml

from inpaint.commands.report import main as report_main
from inpaint.commands.sweep import main as sweep_main

REPO = Path(__file__).resolve().parents[1]
VARIANTS = ["Baseline", "2Global(Local)->Global(Local)"]

pytestmark = pytest.mark.slow


def mini_spec(tmp_path: Path) -> Path:
    spec = {
        "name": "mini",
        "kind": "grid",
        "report": "table4",
        "objective": {"metric": "psnr", "scheme": "table4", "bucket": "30-50%"},
        "axes": {"variant": VARIANTS, "seed": "@seeds"},
        "param_keys": {"variant": "model.generator.init_args.variant", "seed": "seed_everything"},
        "profiles": {
            "cpu": {
                "configs": [str(REPO / "experiments/runs/smoke_cpu.yaml")],
                "overrides": {
                    "trainer.max_steps": 1, "trainer.val_check_interval": 1, "trainer.limit_val_batches": 1,
                    "trainer.enable_checkpointing": False, "trainer.enable_progress_bar": False,
                    "trainer.enable_model_summary": False, "run.image_grid_samples": 0, "run.logger": "none",
                    "data.init_args.batch_size": 2, "data.init_args.eval_per_bucket": 1,
                },
                "seeds": [0],
                "results_dir": str(tmp_path / "results"),
                "facts": {"data": "embedded", "resolution": "64×64", "steps": "1 step"},
            }
        },
    }
    path = tmp_path / "sweeps" / "mini.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(spec, allow_unicode=True))
    return path


def test_miniature_ablation_end_to_end(tmp_path, capsys):
    spec = mini_spec(tmp_path)
    assert sweep_main([str(spec), "--profile", "cpu", "--quiet"]) == 0
    out_dir = tmp_path / "results" / "mini"
    md = (out_dir / "table4.md").read_text()
    assert md in capsys.readouterr().out  # printed at the end
    rows = {
        line.split(" | ")[1]: line.split(" | ")
        for line in md.splitlines()
        if line.startswith("| ") and "Variant" not in line
    }
    assert len(rows) == 12
    for variant in VARIANTS:
        cells = rows[variant.replace("->", "→")]
        assert cells[2] == "1"  # one seed
        psnr = float(cells[3].strip("*"))
        ssim = float(cells[7].strip("*"))
        assert 5.0 < psnr < 60.0 and 0.0 < ssim <= 1.0
        fid = cells[11].strip("*")
        assert fid == "n/a" or math.isfinite(float(fid))
        assert cells[4] != "n/a"  # the paper's value beside ours
    assert rows["Global→Global"][3] == "n/a"  # not part of this miniature grid
    assert (out_dir / "table4.csv").is_file() and (out_dir / "table4.tex").is_file()

    storage = f"sqlite:///{tmp_path / 'results' / 'studies.db'}"
    study = optuna.load_study(study_name="mini-cpu", storage=storage)
    trials = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert sorted(t.params["variant"] for t in trials) == sorted(VARIANTS)
    for t in trials:
        assert {"metrics", "run_dir", "config", "overrides", "wall_s"} <= set(t.user_attrs)
        assert t.user_attrs["config"]["model"]["generator"]["init_args"]["variant"] == t.params["variant"]
        assert any(row["scheme"] == "table4" for row in t.user_attrs["metrics"]["buckets"])
        assert list((Path(t.user_attrs["run_dir"]) / "composites").glob("*.png"))
    if (out_dir / "table4_grid.png").exists():
        from PIL import Image

        assert Image.open(out_dir / "table4_grid.png").size[1] >= 2 * 32

    # the report is rebuilt from the study alone, identically
    (out_dir / "table4.md").unlink()
    assert report_main(["--study", "mini-cpu", "--storage", storage]) == 0
    assert (out_dir / "table4.md").read_text() == md
    # re-running the sweep runs nothing new
    assert sweep_main([str(spec), "--profile", "cpu", "--quiet", "--no-report"]) == 0
    assert len(optuna.load_study(study_name="mini-cpu", storage=storage).trials) == 2


def test_sigterm_stops_the_sweep_with_exit_143_and_a_rerun_finishes_with_exit_0(tmp_path):
    """SIGTERM mid-trial: the trial's checkpoint is written, the command exits 143 and says how far it got; the re-run
    retries that cell and exits 0 although the study holds the interrupted (failed) trial."""
    spec = mini_spec(tmp_path)
    command = [str(Path(sys.executable).parent / "inpaint"), "sweep", str(spec), "--profile", "cpu", "--quiet",
               "--no-report", "--override", "trainer.enable_checkpointing=true",
               "--override", "run.checkpoint_every_n_steps=1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([*command, "--override", "trainer.max_steps=500"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runs = tmp_path / "results" / "mini" / "runs"
    deadline = time.monotonic() + 150
    while not list(runs.glob("*/trial-*/checkpoints/step*.ckpt")):  # the first trial is training
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "no training step after 150 s"
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, err[-3000:]
    assert "stopped by SIGTERM: 0 of 2 cells complete" in out
    assert len(list(runs.glob("*/trial-*/checkpoints/last.ckpt"))) == 1
    storage = f"sqlite:///{tmp_path / 'results' / 'studies.db'}"
    trials = optuna.load_study(study_name="mini-cpu", storage=storage).get_trials(deepcopy=False)
    assert [t.state.name for t in trials if t.state.name != "WAITING"] == ["FAIL"]
    assert "SIGTERM" in trials[0].user_attrs["error"]

    rerun = subprocess.run([c for c in command if c != "--quiet"] + ["--override", "trainer.max_steps=1"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    trials = optuna.load_study(study_name="mini-cpu", storage=storage).trials
    assert sorted(t.state.name for t in trials) == ["COMPLETE", "COMPLETE", "FAIL"]
    # a quiet console: the header, one line per finished cell, the live view; each trial's output is in its log
    console = (rerun.stdout + rerun.stderr).splitlines()
    assert len(console) <= 12, console
    assert sum("✓" in line for line in console) == 2
    for trial in trials:
        log = (Path(trial.user_attrs["run_dir"]) / "trial.log").read_text()
        assert "stopped by SIGTERM" in log if trial.state.name == "FAIL" else "run summary" in log
