"""``inpaint report`` rebuilds reports from a stored study alone (real Optuna storage, no training)."""

from __future__ import annotations

import time

import optuna
import pytest
from optuna.distributions import CategoricalDistribution

from inpaint.commands.report import main as report_main
from inpaint.report.paper.table4 import TABLE4_ROWS

VARIANTS = [v for _, v in TABLE4_ROWS]


def metrics(psnr: float) -> dict:
    rows = [{"scheme": "table4", "bucket": b, "n": 4,
             "values": {"composite": {"psnr": psnr - 5 * i, "ssim": 0.9 - 0.1 * i, "fid": 30.0 + 10 * i}}}
            for i, b in enumerate(("10-30%", "30-50%"))]
    return {"protocol": {"fid_backend": "stand-in", "ssim_window": "gaussian 11"}, "buckets": rows}


def make_study(results, name="ablation-cpu"):
    url = f"sqlite:///{results / 'studies.db'}"
    study = optuna.create_study(storage=url, study_name=name, direction="maximize")
    for key, value in {"report": "table4", "out_dir": str(results / "ablation"),
                       "facts": {"data": "toy", "resolution": "64×64", "steps": "3 steps"}}.items():
        study.set_user_attr(key, value)
    dists = {"variant": CategoricalDistribution(VARIANTS), "seed": CategoricalDistribution([0, 1])}
    for i, variant in enumerate(VARIANTS[:3]):
        for seed in (0, 1):
            study.add_trial(optuna.create_trial(
                params={"variant": variant, "seed": seed}, distributions=dists, value=20.0 + i,
                user_attrs={"metrics": metrics(20.0 + i + 0.5 * seed), "run_dir": str(results / "none")}))
    study.add_trial(optuna.create_trial(state=optuna.trial.TrialState.FAIL, params={"variant": VARIANTS[5], "seed": 0},
                                        distributions=dists))
    return url


def test_report_study_from_storage_only(tmp_path, capsys):
    url = make_study(tmp_path)
    started = time.perf_counter()
    assert report_main(["--study", "ablation-cpu", "--storage", url]) == 0
    assert time.perf_counter() - started < 30  # no training: seconds even on a loaded 2-core machine
    out = capsys.readouterr().out
    md = (tmp_path / "ablation" / "table4.md").read_text()
    assert (tmp_path / "ablation" / "table4.csv").is_file() and (tmp_path / "ablation" / "table4.tex").is_file()
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    assert len(rows) == 13
    assert "| II | Global→Local | 2 | **22.25 ± 0.35** | 31.02 |" in md  # best PSNR 10–30 % among ours
    assert "| IV | Texture→Global | 0 | n/a |" in md  # its only trial failed
    assert "Global→Local" in out and "64×64" in md and "3 steps" in md


def test_report_all_finds_default_storage_and_missing_study_fails(tmp_path, capsys):
    make_study(tmp_path)
    assert report_main(["--all", "--results", str(tmp_path)]) == 0
    assert (tmp_path / "ablation" / "table4.md").is_file()
    assert report_main(["--study", "nope", "--results", str(tmp_path)]) == 1
    assert report_main(["--all", "--results", str(tmp_path / "empty")]) == 1
    with pytest.raises(SystemExit):
        report_main([])
