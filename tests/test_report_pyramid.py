"""Seed 002's Tables 3–5: the ``pyramid`` study's rows, variant overlays and report, on hand-made trial records."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from _small_runs import small_cli

from inpaint.report.paper.pyramid import PYRAMID_NOT_CONVERGED, PYRAMID_PAPER, PYRAMID_ROWS
from inpaint.report.pyramid import build_pyramid_table
from inpaint.report.records import TrialRecord
from inpaint.report.writers import to_csv, to_markdown
from inpaint.sweeps.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = list(dict.fromkeys(v for _, v, _ in PYRAMID_ROWS))


def record(number: int, variant: str, seed: int, ssim: float, psnr: float, l1: float,
           free_form: bool = True) -> TrialRecord:
    """Square-mask values as given; the free-form (kind set) row 10 dB lower, as the kind scheme stores it."""
    square = {"ssim": ssim, "psnr": psnr, "l1": l1}
    rows = [{"scheme": "all", "bucket": "all", "n": 16, "values": {"composite": square}}]
    if free_form:
        rows.append({"scheme": "kind", "bucket": "deepfill", "n": 16,
                     "values": {"composite": {"ssim": ssim / 2, "psnr": psnr - 10, "l1": 2 * l1}}})
    metrics = {"protocol": {"fid_backend": "test"}, "buckets": rows}
    return TrialRecord(number, {"variant": variant, "seed": seed}, metrics)


def test_the_sweep_axis_runs_every_row_and_each_variant_has_its_overlay() -> None:
    spec = load_spec("pyramid", ROOT / "sweeps")
    axis = spec.grid_axes([0])["variant"]
    assert sorted(axis) == sorted(VARIANTS) and axis[0] == "ours" and spec.report == "pyramid"  # the model first
    for variant in VARIANTS:
        overlay = yaml.safe_load((ROOT / "experiments/model/pyramid_variants" / f"{variant}.yaml").read_text())
        args = overlay["model"]["generator"]["init_args"]
        levels = args.get("levels", [4, 2, 1])
        # a pyramid of n levels needs n discriminators and n weights (the base config has 3)
        assert overlay["model"].get("discriminator", {}).get("init_args", {}).get("levels", 3) == len(levels)
        assert len(overlay["model"].get("losses", {}).get("level_weights", [10.0, 1.0, 1.0])) == len(levels)
    assert PYRAMID_PAPER["ours"] == {"ssim": 0.840, "psnr": 26.74, "l1": 0.034}
    assert PYRAMID_NOT_CONVERGED == {"fusion_feature_refine"}


def test_table_means_paper_values_groups_and_best_per_group() -> None:
    records = [record(0, "ours", 0, 0.80, 20.0, 0.050), record(1, "ours", 1, 0.82, 22.0, 0.030),
               record(2, "levels_128_256", 0, 0.70, 23.0, 0.060), record(3, "dilations_standard", 0, 0.9, 19.0, 0.02)]
    table = build_pyramid_table(records, facts={"data": "test"})
    assert [row.group for row in table.rows] == [t for t, _, _ in PYRAMID_ROWS]
    ours3 = table.row("PG 128+256+512 (ours)", "3")
    assert ours3.seeds == [0, 1] and ours3.cells["psnr_square"].ours.mean == pytest.approx(21.0)
    assert ours3.cells["l1_square"].ours.mean == pytest.approx(0.040) and ours3.cells["psnr_square"].paper == (26.74,)
    # free-form: the kind set's deepfill row; the seed publishes no ablation numbers for it
    assert ours3.cells["psnr_free-form"].ours.mean == pytest.approx(11.0)
    assert ours3.cells["psnr_free-form"].paper == (None,)
    # the same trials fill "ours" in every table
    assert table.row("adaptive (ours)", "5").cells["ssim_square"].ours.mean == pytest.approx(0.81)
    # best within each table: Table 3's PSNR is the two-level pyramid's, Table 5's L1 is the standard dilations'
    assert table.best_row("psnr_square", "3").label == "PG 128+256"
    assert table.best_row("l1_square", "5").label == "standard {2, 4, 8, 16}"
    assert table.best_row("ssim_square", "3").label == "PG 128+256+512 (ours)"
    refine = table.row("feature / refine", "4").cells["psnr_square"]
    assert refine.ours.n == 0 and refine.paper == (None,)
    assert any("not run" in note and "feature / coarse" in note for note in table.notes)
    assert any("did not converge" in note for note in table.notes)
    text = to_markdown(table)
    assert "4. fusion" in text and "26.74" in text and "n/a" in text
    header = to_csv(table).splitlines()[0]
    assert "psnr_square" in header and "psnr_square_paper" in header and "psnr_free-form" in header
    assert not any("free-form n/a" in note for note in table.notes)
    without = build_pyramid_table([record(0, "ours", 0, 0.8, 20.0, 0.05, free_form=False)])
    assert any("free-form n/a" in note and "eval_kinds" in note for note in without.notes)


def test_unknown_variants_are_named_not_dropped_silently() -> None:
    table = build_pyramid_table([record(0, "levels_64", 0, 0.5, 10.0, 0.1)])
    assert any("levels_64" in note for note in table.notes)
    assert all(row.cells["psnr_square"].ours.mean is None for row in table.rows)


@pytest.mark.filterwarnings("ignore:LightningCLI's args parameter is intended")  # pytest's own argv is not ours
def test_a_two_level_variant_trains_a_step_with_two_discriminators(tmp_path: Path) -> None:
    cli = small_cli(tmp_path, ["experiments/model/pyramid.yaml",
                               "experiments/model/pyramid_variants/levels_128_256.yaml"])
    assert cli.model.generator.factors == (4, 2) and len(cli.model.discriminator) == 2
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    metrics = cli.trainer.callback_metrics
    assert math.isfinite(float(metrics["train/rec_1"])) and "train/rec_2" not in metrics
