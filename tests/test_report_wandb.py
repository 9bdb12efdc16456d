"""The per-study W&B summary run holds every report table as a wandb.Table and every figure as an image."""

import json

import numpy as np
from PIL import Image

from inpaint.report.build import StudyReport
from inpaint.report.wandb_summary import log_study_summary


def test_summary_run_logs_tables_and_figures_offline(tmp_path):
    table = tmp_path / "table4.csv"
    table.write_text("variant,psnr\nBaseline,18.6\nGlobal->Global,17.9\n")
    figure = tmp_path / "table4_grid.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(figure)
    report = StudyReport("ablation-test", "table4", [table, tmp_path / "table4.md", figure], "| md |")

    run_dir = log_study_summary(report, tmp_path / "wandb-root", mode="offline")

    assert run_dir.name.startswith("offline-run-")
    tables = list((run_dir / "files" / "media" / "table").glob("table4_*.table.json"))
    assert len(tables) == 1
    logged = json.loads(tables[0].read_text())
    assert logged["columns"] == ["variant", "psnr"]
    assert logged["data"] == [["Baseline", "18.6"], ["Global->Global", "17.9"]]
    assert list((run_dir / "files" / "media" / "images").glob("table4_grid_*.png"))
