"""Tables II / III / VII builders on hand-made trial records, the shared comparison writer and the structure metrics."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from inpaint.report.aggregate import SeedStat
from inpaint.report.paper.table2 import TABLE2
from inpaint.report.paper.table3 import TABLE3
from inpaint.report.paper.table7 import TABLE7
from inpaint.report.records import TrialRecord
from inpaint.report.structure_metrics import bucket_of, encode, run_dir_structure_metrics
from inpaint.report.table import Cell, Column, Row, make_table
from inpaint.report.table2 import build_table2
from inpaint.report.table3 import build_table3
from inpaint.report.table7 import build_table7
from inpaint.report.writers import to_csv, to_latex, to_markdown


def record(number: int, generator: str, seed: int, values: dict[tuple[str, str, str], float]) -> TrialRecord:
    """A completed trial whose metrics hold ``values[(scheme, bucket, metric)]`` for the composite image."""
    rows: dict[tuple[str, str], dict] = {}
    for (scheme, bucket, metric), value in values.items():
        rows.setdefault((scheme, bucket), {"scheme": scheme, "bucket": bucket, "n": 2, "values": {"composite": {}}})
        rows[(scheme, bucket)]["values"]["composite"][metric] = value
    metrics = {"protocol": {"fid_backend": "test", "notes": ["LPIPS n/a: no alex weights (test)"]},
               "buckets": list(rows.values())}
    return TrialRecord(number, {"generator": generator, "seed": seed}, metrics)


def test_table2_means_over_seeds_paper_values_and_best() -> None:
    records = [
        record(0, "pennet", 0, {("paper", "10-20%", "psnr"): 20.0}),
        record(1, "pennet", 1, {("paper", "10-20%", "psnr"): 22.0}),
        record(2, "ours_pennet", 0, {("paper", "10-20%", "psnr"): 25.0, ("paper", "10-20%", "fid"): 9.5}),
        record(3, "lama", 0, {("paper", "10-20%", "psnr"): 99.0}),  # not a Table II row
    ]
    table = build_table2(records, facts={"data": "hand-made"})
    rows = {row.label: row for row in table.rows}
    assert list(rows) == ["PENNet", "HiFill", "Ours(PENNet)", "Ours(HiFill)", "Ours"]
    psnr = rows["PENNet"].cells["psnr_10-20pct"]
    assert psnr.ours.mean == pytest.approx(21.0) and psnr.ours.std == pytest.approx(np.std([20, 22], ddof=1))
    assert psnr.paper == (
        TABLE2["CelebA"]["pennet"][("psnr", "10-20%")],
        TABLE2["Places2"]["pennet"][("psnr", "10-20%")],
    )
    assert psnr.paper == (30.54, 26.78)
    assert rows["Ours(PENNet)"].cells["psnr_10-20pct"].best_ours and not psnr.best_ours
    assert rows["Ours"].cells["fid_40-50pct"].best_paper == (True, True)  # 4.35 (CelebA), 34.80 (Places2)
    md = to_markdown(table)
    assert "| HiFill | 0 | n/a |" in md and "not run (no completed trial): HiFill, Ours(HiFill), Ours" in md
    assert "| PENNet | 2 | 21.00 ± 1.41 | 30.54 | 26.78 |" in md


def test_table3_complexity_beside_paper_and_na_reasons() -> None:
    lama = record(0, "lama", 0, {("lama", "thin", "fid"): 3.0})
    lama.config = {"model": {"generator": {"class_path": "inpaint.models.generators.lama.LaMaGenerator",
                                           "init_args": {"size": "small"}}},
                   "data": {"init_args": {"eval_masks": "irregular"}}}
    table = build_table3([lama])
    row = next(r for r in table.rows if r.label == "LaMa")
    assert row.cells["params_paper_widths"].ours.mean == pytest.approx(27.048835)  # paper widths, not the trial's
    assert row.cells["params_paper_widths"].paper == (27.0,)
    assert row.cells["macs_512px"].paper == (171.3,) and row.cells["macs_512px"].ours.mean == pytest.approx(
        127.32, abs=0.01
    )
    assert row.cells["fid_thin"].ours.mean == 3.0 and row.cells["fid_thin"].paper == (TABLE3["lama"][("fid", "thin")],)
    assert row.cells["lpips_thick"].ours.mean is None
    text = "\n".join(table.notes)
    assert "eval_masks=irregular" in text and "LPIPS n/a: no alex weights (test)" in text
    assert "-o data.init_args.lama_eval_kinds=[thin,medium,thick]" in text  # how a run without kind rows gets them
    assert not any(r.cells["params_paper_widths"].best_ours for r in table.rows)  # Params: no "best"


def test_table7_rows_per_range_and_best_within_a_range() -> None:
    records = [record(0, "ours_basic", 0, {}), record(1, "tsgl", 0, {})]

    def scores(psnr: float) -> dict:
        from inpaint.report.structure_metrics import StructureScores

        return {kind: StructureScores(n=2, psnr=psnr, ssim=0.5, fid=None, notes=["FID n/a: test"])
                for kind in ("global", "local")}

    table = build_table7(records, scores={0: {"10-30%": scores(12.0), "30-50%": scores(9.0)},
                                          1: {"10-30%": scores(11.0), "30-50%": scores(10.0)}})
    assert [(r.group[:7], r.label) for r in table.rows][:2] == [("10–30 %", "Ours(Basic)"), ("10–30 %", "Ours(PENNet)")]
    first = {r.label: r for r in table.rows if r.group.startswith("10")}
    second = {r.label: r for r in table.rows if r.group.startswith("30")}
    assert first["Ours(Basic)"].cells["psnr_global"].best_ours and second["Ours"].cells["psnr_global"].best_ours
    assert second["Ours"].cells["fid_local"].paper == (TABLE7["tsgl"]["30-50%"][("local", "fid")],) == (8.14,)
    assert first["Ours(HiFill)"].cells["psnr_local"].ours.mean is None
    assert "FID n/a: test" in table.notes


def test_comparison_writers_csv_and_latex() -> None:
    cols = [Column("psnr", "a", "PSNR↑ a", True, 2), Column("params", "p", "Params", None, 1)]
    rows = [
        Row(
            "x_1",
            [0, 1],
            {"psnr_a": Cell(SeedStat.of([1.0, 3.0]), (2.5,)), "params_p": Cell(SeedStat.of([5.0]), (None,))},
        ),
        Row("y", [], {}),
    ]
    table = make_table("tbl", "Cap 50%", cols, rows)
    parsed = list(csv.DictReader(io.StringIO(to_csv(table))))
    assert (
        parsed[0]["psnr_a_mean"] == "2.0"
        and parsed[0]["psnr_a_diff_paper"] == "-0.5"
        and parsed[0]["psnr_a_best"] == "1"
    )
    assert parsed[1]["psnr_a_mean"] == "n/a" and parsed[1]["params_p_paper_paper"] == "n/a"
    tex = to_latex(table)
    assert r"Cap 50\%" in tex and r"x\_1" in tex and r"\textbf{2.00 $\pm$ 1.41}" in tex and r"\textbf{2.50}" in tex
    with pytest.raises(ValueError, match="2 paper values for 1 sources"):
        make_table("t", "c", cols[:1], [Row("z", [], {"psnr_a": Cell(SeedStat.of([]), (1.0, 2.0))})])


def test_bucket_tag_and_local_encoding() -> None:
    assert bucket_of("coffee_0004__b20-30__m000.png") == (0.2, 0.3) and bucket_of("plain.png") is None
    flat = torch.full((1, 3, 8, 8), 0.3)
    assert torch.all(encode(flat, "local") == 128)  # zero residual sits mid-range
    assert encode(flat, "global").shape == (1, 3, 8, 8) and encode(flat, "global").dtype == torch.uint8


def _save(folder: Path, name: str, image: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(folder / name)


def test_structure_metrics_from_a_run_dir(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    out = gt.copy()
    out[2:, 8:16, 8:16] = 0  # the two 30–40 % images get a black square: the 10–20 % ones stay identical
    names = ["a__b10-20__m0.png", "b__b10-20__m1.png", "c__b30-40__m0.png", "d__b30-40__m1.png"]
    for name, g, o in zip(names, gt, out):
        _save(tmp_path / "targets", name, g)
        _save(tmp_path / "composites", name, o)
    scores = run_dir_structure_metrics(tmp_path, ["10-30%", "30-50%"], extractor=None, fid_reason="FID n/a: none")
    assert set(scores) == {"all", "10-30%", "30-50%"}
    same = scores["10-30%"]["local"]
    assert same.n == 2 and same.identical == 2 and same.psnr is None and same.ssim == pytest.approx(1.0)
    assert same.fid is None and same.notes == ["FID n/a: none"]
    from inpaint.conventions import from_uint8
    from inpaint.metrics.image_quality import psnr_per_image

    def local8(x: np.ndarray) -> torch.Tensor:
        return encode(from_uint8(torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()), "local")

    expected = psnr_per_image(local8(out[2:]), local8(gt[2:])).mean().item()
    assert scores["30-50%"]["local"].psnr == pytest.approx(expected)
    assert scores["30-50%"]["global"].ssim < 1.0 and scores["all"]["global"].n == 4
