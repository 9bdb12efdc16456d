"""Table VIII as a study: the ``table8`` sweep's rows and profiles, its report on hand-made trial records (paper
values beside ours, the segmentation row n/a with its reason), and the segmentation cell end to end: refused on the
embedded photos (n/a in the table, no training), trained and scored on a tiny generated ADE20K-layout folder."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
import yaml
from _ade20k import ade_folder

from inpaint.commands.sweep import main as sweep_main
from inpaint.report.paper.table8 import TABLE8, TABLE8_LABELS, TABLE8_RANGES, TABLE8_ROWS
from inpaint.report.records import TrialRecord
from inpaint.report.table8 import build_table8, cell_reason
from inpaint.report.writers import to_csv, to_markdown
from inpaint.sweeps.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
SEGMENTATION_REASON = ("structure_prior='segmentation' needs segmentation maps: the embedded source has none; use "
                       "source='folder' with a data_root holding images/ and annotations/")


def record(number: int, prior: str, seed: int, psnr: float) -> TrialRecord:
    """PSNR ``psnr`` at 20–30 % and ``psnr`` − 4 at 40–50 %, SSIM 0.8 / 0.7, FID 50 / 90 (scheme ``paper``)."""
    rows = [{"scheme": "all", "bucket": "all", "n": 16, "values": {"composite": {"psnr": psnr - 2}}}]
    for i, bucket in enumerate(TABLE8_RANGES):
        rows.append({"scheme": "paper", "bucket": bucket, "n": 8,
                     "values": {"composite": {"psnr": psnr - 4 * i, "ssim": 0.8 - 0.1 * i, "fid": 50.0 + 40 * i}}})
    return TrialRecord(number, {"prior": prior, "seed": seed}, {"protocol": {"fid_backend": "test"}, "buckets": rows})


def test_the_sweep_runs_every_prior_of_the_table_through_its_overlay() -> None:
    spec = load_spec("table8", ROOT / "sweeps")
    assert spec.report == "table8" and spec.grid_axes([0])["prior"] == list(TABLE8_ROWS)
    assert spec.config_axes == ["prior"] and spec.objective["bucket"] in TABLE8_RANGES
    for prior in TABLE8_ROWS:
        overlay = yaml.safe_load((ROOT / "experiments/priors" / f"{prior}.yaml").read_text())
        assert overlay["data"]["init_args"]["structure_prior"] == prior
    for name, profile in spec.profiles.items():
        assert profile.configs[-1] == "experiments/priors/{prior}.yaml", name  # the overlay comes last
        buckets = [f"{round(100 * low)}-{round(100 * high)}%" for low, high in
                   profile.overrides["data.init_args.eval_buckets"]]
        assert buckets == list(TABLE8_RANGES), name  # the table's two columns, no test images spent elsewhere
    assert not spec.profile("cpu").requires_data_root  # the embedded photos
    assert spec.profile("ade20k_cpu").requires_data_root and spec.profile("paper").requires_data_root


def test_table_means_paper_values_best_and_the_segmentation_row_says_why_it_is_na() -> None:
    records = [record(0, "canny_gray", 0, 20.0), record(1, "canny_gray", 1, 22.0), record(2, "sobel_x", 0, 19.0),
               record(3, "lowres_rgb", 0, 18.0)]
    unavailable = [({"prior": "segmentation", "seed": 0}, SEGMENTATION_REASON),
                   ({"prior": "segmentation", "seed": 1}, SEGMENTATION_REASON)]
    table = build_table8(records, facts={"data": "test"}, unavailable=unavailable)
    assert [row.label for row in table.rows] == [TABLE8_LABELS[p] + (" (ours)" if p == "canny_gray" else "")
                                                 for p in TABLE8_ROWS]
    ours = table.row("Edge map + Grayscale (ours)")
    assert ours.seeds == [0, 1]
    assert ours.cells["psnr_20-30pct"].ours.mean == pytest.approx(21.0)
    assert ours.cells["psnr_20-30pct"].ours.std == pytest.approx(2 ** 0.5)  # sample std of 20, 22
    assert ours.cells["psnr_40-50pct"].ours.mean == pytest.approx(17.0)
    assert ours.cells["fid_40-50pct"].paper == (TABLE8["canny_gray"]["40-50%"]["fid"],) == (72.25,)
    assert ours.cells["psnr_20-30pct"].best_ours and ours.cells["fid_20-30pct"].best_paper == (True,)
    segmentation = table.row("Semantic Segmentation")
    assert segmentation.seeds == [] and all(c.ours.mean is None for c in segmentation.cells.values())
    assert {c.reason for c in segmentation.cells.values()} == {"needs segmentation maps"}
    assert f"n/a (Semantic Segmentation): {SEGMENTATION_REASON}" in table.notes
    assert any(note == "n/a: not run (no completed trial): Gradients-Y" for note in table.notes)
    md = to_markdown(table)
    assert "| n/a (needs segmentation maps) | 29.22 |" in md and "**30.62**" in md
    header, *lines = to_csv(table).splitlines()
    assert header.startswith("group,prior,seeds,") and "psnr_20-30pct_paper" in header
    assert len(lines) == len(TABLE8_ROWS)


def test_a_completed_attempt_wins_over_an_earlier_unavailable_one_and_long_reasons_stay_in_the_notes() -> None:
    table = build_table8([record(0, "segmentation", 0, 20.0)],
                         unavailable=[({"prior": "segmentation", "seed": 1}, SEGMENTATION_REASON)])
    assert table.row("Semantic Segmentation").cells["psnr_20-30pct"].reason is None
    assert not any(note.startswith("n/a (Semantic") for note in table.notes)
    assert cell_reason("x" * 80 + ": why") == "could not start" and cell_reason("no maps") == "no maps"
    assert cell_reason("n/a — 'vgg16.pth' is not in '/hub'") == "n/a — 'vgg16.pth' is not in '/hub'"


def _one_prior_spec(tmp_path: Path, prior: str) -> Path:
    """sweeps/table8.yaml with one prior, one step and two test images (the shipped profiles otherwise)."""
    data = yaml.safe_load((ROOT / "sweeps/table8.yaml").read_text())
    data["name"] = "table8mini"
    data["axes"]["prior"] = [prior]
    for profile in data["profiles"].values():
        profile["configs"] = [str(ROOT / c) for c in profile["configs"]]
        profile["results_dir"] = str(tmp_path / "results")
        profile["overrides"].update({"trainer.max_steps": 1, "trainer.val_check_interval": 1,
                                     "trainer.limit_val_batches": 1, "data.init_args.batch_size": 2,
                                     "data.init_args.eval_per_bucket": 1, "data.init_args.smoothing": "none"})
    path = tmp_path / "table8mini.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def _table_row(md: str, label: str) -> list[str]:
    return next(line.split(" | ") for line in md.splitlines() if line.startswith(f"| {label} |"))


@pytest.mark.slow
def test_segmentation_cell_is_na_on_the_embedded_photos_and_runs_on_an_ade20k_folder(tmp_path) -> None:
    spec = _one_prior_spec(tmp_path, "segmentation")
    out_dir = tmp_path / "results" / "table8mini"
    storage = f"sqlite:///{tmp_path / 'results' / 'studies.db'}"
    # embedded photos: the cell cannot start; the table says why (no training, no crash, exit 0: nothing failed)
    assert sweep_main([str(spec), "--profile", "cpu", "--seeds", "0", "--quiet"]) == 0
    row = _table_row((out_dir / "table8.md").read_text(), "Semantic Segmentation")
    assert row[1:3] == ["0", "n/a (needs segmentation maps)"]
    (trial,) = optuna.load_study(study_name="table8mini-cpu", storage=storage).trials
    assert trial.state == optuna.trial.TrialState.FAIL
    assert "the embedded source has none" in trial.user_attrs["unavailable"]
    # an ADE20K-layout folder: the same cell trains and is scored
    root = ade_folder(tmp_path / "ade", size=48, counts={"training": 3, "validation": 2})
    assert sweep_main([str(spec), "--profile", "ade20k_cpu", "--data-root", str(root), "--seeds", "0", "--quiet"]) == 0
    row = _table_row((tmp_path / "results" / "table8mini" / "table8.md").read_text(), "Semantic Segmentation")
    assert row[1] == "1" and 0.0 < float(row[2].strip("*")) < 100.0  # one seed, a finite PSNR at 20–30 %
