"""τ study table/plot and the qualitative grid, from hand-made records and PNGs."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inpaint.report.qualitative import pick_run_dirs, qualitative_grid
from inpaint.report.records import TrialRecord
from inpaint.report.tau import TAU_FILES, build_tau_table, write_tau_report
from inpaint.report.writers import to_markdown

BUCKETS = ("10-20%", "20-30%")


def tau_record(number: int, tau: int, seed: int, psnr: tuple[float, float]) -> TrialRecord:
    rows = [{"scheme": "paper", "bucket": b, "n": 2, "values": {"composite": {"psnr": p, "fid": None}}}
            for b, p in zip(BUCKETS, psnr)]
    return TrialRecord(number, {"tau": tau, "seed": seed}, {"protocol": {}, "buckets": rows})


def test_tau_table_means_best_and_na(tmp_path):
    records = [tau_record(0, 0, 0, (20.0, 18.0)), tau_record(1, 0, 1, (22.0, 18.0)),
               tau_record(2, 100, 0, (25.0, 17.0)), tau_record(3, 100, 1, (25.0, 19.0))]
    table = build_tau_table(records, scheme="paper", metrics=("psnr", "fid"))
    assert [r.label for r in table.rows] == ["0", "100"]
    assert [c.condition for c in table.columns if c.metric == "psnr"] == list(BUCKETS)
    assert table.row("0").cells["psnr_10-20pct"].ours.mean == pytest.approx(21.0)
    assert table.row("0").cells["psnr_10-20pct"].ours.std == pytest.approx(np.sqrt(2.0))
    assert table.best_row("psnr_10-20pct").label == "100"
    assert table.best_row("psnr_20-30pct").label == "0"  # equal means (18 vs 18): the first τ wins
    assert table.best_row("fid_10-20pct") is None
    md = to_markdown(table)
    assert "| 100 | **25.00 ± 0.00**" in md and "n/a" in md
    assert "100,psnr,10-20%,25.0,0.0,2,1" in TAU_FILES["csv"](table)
    paths = write_tau_report(table, tmp_path)
    png = [p for p in paths if p.suffix == ".png"][0]
    with Image.open(png) as img:
        assert img.size[0] > 400 and img.size[1] > 200


def write_png(path, color, size=8):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size, size, 3), color, np.uint8)).save(path)


def test_qualitative_grid_rows_columns_and_pixels(tmp_path):
    dirs = {}
    for i, variant in enumerate(["Baseline", "Global->Local"]):
        run = tmp_path / variant.replace(">", "")
        for j in range(3):
            write_png(run / "composites" / f"{j:03d}.png", (40 * i, 10 * j, 200))
        dirs[variant] = run
    for j in range(3):
        write_png(dirs["Baseline"] / "masked" / f"{j:03d}.png", (255, 255, 255))
        write_png(dirs["Global->Local"] / "targets" / f"{j:03d}.png", (7, 7, 7))
    out = qualitative_grid(dirs, tmp_path / "grid.png", n_images=2, tile=16, label_width=50)
    grid = np.asarray(Image.open(out))
    assert grid.shape == (4 * 16, 50 + 2 * 16, 3)  # masked row + 2 variants + GT row; label + 2 images
    assert (grid[0:16, 50:66] == 255).all()  # masked input first
    assert (grid[48:64, 50:] == 7).all()  # ground truth last
    assert tuple(grid[16 + 8, 50 + 16 + 8]) == (0, 10, 200)  # Baseline, second image
    assert tuple(grid[32 + 8, 50 + 8]) == (40, 0, 200)  # Global->Local, first image
    assert qualitative_grid({"x": tmp_path / "empty"}, tmp_path / "none.png") is None


def test_pick_run_dirs_takes_lowest_seed():
    records = [TrialRecord(0, {"variant": "a", "seed": 1}, {}, run_dir="r1"),
               TrialRecord(1, {"variant": "a", "seed": 0}, {}, run_dir="r0"),
               TrialRecord(2, {"variant": "b", "seed": 0}, {}, run_dir=None)]
    assert {k: str(v) for k, v in pick_run_dirs(records, "variant").items()} == {"a": "r0"}
