"""Seed 003's Table 2: the ``pmrfn`` study's rows and overlays (each = a row of ``PMRFN_TABLE2``), the recomputed
average over the six NVIDIA groups, and the report, on hand-made trial records."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import yaml

from inpaint.models.generators.pmrfn import PMRFN, PMRFN_TABLE2
from inpaint.report.paper.pmrfn import PMRFN_PAPER, PMRFN_ROWS
from inpaint.report.pmrfn import GROUPS, build_pmrfn_table
from inpaint.report.records import TrialRecord, bucket_mean
from inpaint.report.writers import to_csv, to_markdown
from inpaint.sweeps.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
ABLATION_ARGS = ("partial", "priority", "attention", "fusions_removed")


def record(number: int, variant: str, seed: int, psnr: float, groups=GROUPS) -> TrialRecord:
    """Group g (0-based) gets PSNR psnr − g, SSIM 0.9 − 0.1·g, relative ℓ1 1 + g, FID 10·(g + 1)."""
    rows = [{"scheme": "all", "bucket": "all", "n": 96, "values": {"composite": {"psnr": psnr, "fid": 5.0}}}]
    for g, group in enumerate(groups):
        values = {"psnr": psnr - g, "ssim": 0.9 - 0.1 * g, "rel_l1_pct": 1.0 + g, "fid": 10.0 * (g + 1)}
        rows.append({"scheme": "nvidia", "bucket": group, "n": 16, "values": {"composite": values}})
        rows.append({"scheme": "paper", "bucket": group, "n": 16, "values": {"composite": {"psnr": 0.0}}})
    return TrialRecord(number, {"variant": variant, "seed": seed}, {"protocol": {}, "buckets": rows})


def test_each_overlay_is_its_table2_row_and_the_sweep_runs_every_row() -> None:
    spec = load_spec("pmrfn", ROOT / "sweeps")
    assert spec.grid_axes([0])["variant"][0] == "full" and spec.report == "pmrfn"
    assert sorted(spec.grid_axes([0])["variant"]) == sorted(v for v, _ in PMRFN_ROWS)
    defaults = {name: p.default for name, p in inspect.signature(PMRFN).parameters.items() if name in ABLATION_ARGS}
    for variant, label in PMRFN_ROWS:
        overlay = yaml.safe_load((ROOT / "experiments/model/pmrfn_variants" / f"{variant}.yaml").read_text())
        args = overlay["model"]["generator"]["init_args"]
        assert set(args) == set(ABLATION_ARGS)  # every switch stated, so the row does not depend on the base file
        assert args == {**defaults, **PMRFN_TABLE2[label]}, variant
    assert list(PMRFN_TABLE2) == [label for _, label in PMRFN_ROWS]  # the same rows, the seed's order
    assert PMRFN_PAPER["full"] == {"rel_l1_pct": 3.54, "ssim": 0.841, "psnr": 25.475, "fid": 6.98}
    assert GROUPS == ("1-10%", "10-20%", "20-30%", "30-40%", "40-50%", "50-60%")


def test_the_average_is_the_plain_mean_of_the_six_groups_or_nothing() -> None:
    full = record(0, "full", 0, 30.0)
    assert bucket_mean(full, "psnr", "nvidia", GROUPS) == pytest.approx(27.5)  # 30 − mean(0 … 5)
    assert bucket_mean(full, "fid", "nvidia", GROUPS) == pytest.approx(35.0)
    assert bucket_mean(record(1, "full", 1, 30.0, groups=GROUPS[:5]), "psnr", "nvidia", GROUPS) is None


def test_table_rows_means_paper_values_best_and_notes() -> None:
    records = [record(0, "full", 0, 30.0), record(1, "full", 1, 32.0), record(2, "hrnet", 0, 30.5),
               record(3, "wo_arf", 0, 40.0, groups=GROUPS[:4])]
    table = build_pmrfn_table(records, facts={"data": "test"})
    assert [row.label for row in table.rows] == [label for _, label in PMRFN_ROWS]
    full = table.row("Full")
    assert full.seeds == [0, 1] and full.cells["psnr_ave"].ours.mean == pytest.approx(28.5)
    assert full.cells["ssim_ave"].ours.mean == pytest.approx(0.65) and full.cells["ssim_ave"].paper == (0.841,)
    assert full.cells["rel_l1_pct_ave"].ours.mean == pytest.approx(3.5)
    assert table.best_row("psnr_ave").label == "Full"  # 28.5 > HRNet's 28.0; w/o ARF has no average
    assert table.row("w/o ARF").cells["psnr_ave"].ours.mean is None
    notes = " | ".join(table.notes)
    assert "trials [3] lack some of the six groups" in notes
    assert "not run (no completed trial): w/o PConv, w/o MRF 1, w/o MRF 3, w/o MRF 5" in notes
    assert "N per group: 16 images" in notes
    assert "25.475" in to_markdown(table)
    header = to_csv(table).splitlines()[0]
    assert "psnr_ave" in header and "fid_ave_paper" in header
