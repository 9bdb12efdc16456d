"""Table IV report: aggregation over seeds, best-cell marking, n/a handling, Markdown/CSV/LaTeX content."""

from __future__ import annotations

import csv
import io
import statistics

import numpy as np
import pytest

from inpaint.report.aggregate import SeedStat, best_index
from inpaint.report.paper.table4 import TABLE4, TABLE4_OURS, TABLE4_ROWS
from inpaint.report.records import TrialRecord
from inpaint.report.table4 import COLUMNS, build_table4
from inpaint.report.writers import to_csv, to_latex, to_markdown, write_table


def metrics(psnr: tuple[float, float], ssim: tuple[float, float], fid: tuple[float | None, float | None], n=(3, 5)):
    """A metrics report as the evaluation writes it (scheme table4, composite image)."""
    rows = []
    for i, bucket in enumerate(("10-30%", "30-50%")):
        values = {"psnr": psnr[i], "ssim": ssim[i], "fid": fid[i]}
        rows.append({"scheme": "table4", "bucket": bucket, "n": n[i], "values": {"composite": values}})
    rows.append({"scheme": "all", "bucket": "all", "n": sum(n), "values": {"composite": {"psnr": 99.0}}})
    protocol = {"fid_backend": "tf-inception-2015-12-05 (fid-helper torchscript)", "ssim_window": "gaussian 11, σ 1.5"}
    return {"protocol": protocol, "buckets": rows}


def record(number, variant, seed, **kw) -> TrialRecord:
    return TrialRecord(number=number, params={"variant": variant, "seed": seed}, metrics=metrics(**kw))


@pytest.fixture
def records() -> list[TrialRecord]:
    return [
        record(0, "Baseline", 0, psnr=(30.0, 24.0), ssim=(0.9, 0.8), fid=(20.0, 50.0)),
        record(1, "Baseline", 1, psnr=(31.0, 25.0), ssim=(0.92, 0.82), fid=(22.0, 54.0)),
        record(2, TABLE4_OURS, 0, psnr=(32.0, 26.0), ssim=(0.95, 0.85), fid=(None, None)),
        record(3, TABLE4_OURS, 1, psnr=(32.5, 26.5), ssim=(0.96, 0.86), fid=(None, None)),
    ]


def test_seed_stat_matches_statistics_module():
    values = [31.2, 30.7, 31.9]
    stat = SeedStat.of(values)
    assert stat.mean == pytest.approx(statistics.mean(values), abs=1e-12)
    assert stat.std == pytest.approx(statistics.stdev(values), abs=1e-12)
    assert stat.std == pytest.approx(np.std(values, ddof=1), abs=1e-12)
    assert SeedStat.of([5.0]).format(2) == "5.00"
    assert SeedStat.of([None, float("nan")]).format(2) == "n/a"
    assert SeedStat.of([1.0, None]).missing == 1


def test_best_index_direction_and_missing():
    assert best_index([1.0, None, 3.0], higher_is_better=True) == 2
    assert best_index([1.0, None, 3.0], higher_is_better=False) == 0
    assert best_index([None, None], higher_is_better=True) is None
    assert best_index([2.0, 2.0], higher_is_better=True) == 0


def test_paper_values_cover_the_twelve_rows_of_the_model_registry():
    from inpaint.models.variants import VARIANTS

    assert all(v in VARIANTS for _, v in TABLE4_ROWS)
    assert len(TABLE4) == 12 and TABLE4_OURS == TABLE4_ROWS[-1][1]
    # spot checks against Table IV (arXiv version)
    assert TABLE4["Baseline"][("fid", "30-50%")] == 51.90
    assert TABLE4["Global(2Local)->Global(Local)"][("psnr", "30-50%")] == 25.72
    assert TABLE4[TABLE4_OURS][("ssim", "10-30%")] == 0.974


def test_table4_rows_stats_and_best_marks(records):
    table = build_table4(records, facts={"data": "embedded", "resolution": "64²", "steps": "100 steps"})
    assert [r.label for r in table.rows] == [v for _, v in TABLE4_ROWS]
    base = table.rows[0]
    ours = table.rows[-1]
    assert base.seeds == [0, 1] and ours.seeds == [0, 1]
    cell = base.cells["psnr_10-30pct"]
    assert cell.ours.mean == pytest.approx(30.5) and cell.ours.std == pytest.approx(np.sqrt(0.5))
    assert cell.paper == (29.93,)
    assert ours.cells["psnr_10-30pct"].best_ours and not cell.best_ours
    # FID: ours has none → baseline is the best available; paper's best FID is Ours' 13.12
    assert base.cells["fid_10-30pct"].best_ours
    assert ours.cells["fid_10-30pct"].ours.mean is None and ours.cells["fid_10-30pct"].best_paper == (True,)
    assert any("not run yet" in n for n in table.notes) and any("FID n/a" in n for n in table.notes)
    assert "N per bucket: 10-30%: 3, 30-50%: 5" in table.caption and "tf-inception" in table.caption
    assert "64²" in table.caption and "embedded" in table.caption and "gaussian 11" in table.caption
    assert "model:" not in table.caption  # the paper's model: nothing to declare
    changed = build_table4(records, facts={"data": "embedded", "model": "decoder upsampling resize-conv"})
    assert "model: decoder upsampling resize-conv;" in changed.caption  # a profile's model change is stated


def test_markdown_content(records):
    md = to_markdown(build_table4(records))
    lines = [line for line in md.splitlines() if line.startswith("| ")]
    assert len(lines) == 1 + 12  # header + 12 variants
    base = lines[1].split(" | ")
    assert base[1] == "Baseline" and base[2] == "2"
    assert base[3] == "30.50 ± 0.71" and base[4] == "29.93"
    ours = lines[-1]
    assert "2Global(Local)→Global(Local)" in ours and "**32.25 ± 0.35**" in ours and "**31.47**" in ours
    assert "n/a" in ours  # FID unavailable
    assert "Global->Global" not in md.split("Groups:")[0].split("\n", 2)[2]  # arrows rendered as →


def test_csv_content(records):
    rows = list(csv.DictReader(io.StringIO(to_csv(build_table4(records)))))
    assert len(rows) == 12
    base = rows[0]
    assert float(base["psnr_10-30pct_mean"]) == pytest.approx(30.5)
    assert float(base["psnr_10-30pct_diff"]) == pytest.approx(30.5 - 29.93)
    assert base["psnr_10-30pct_n"] == "2" and base["psnr_10-30pct_best"] == "0"
    assert rows[-1]["fid_30-50pct_mean"] == "n/a" and rows[-1]["psnr_30-50pct_best"] == "1"
    assert rows[1]["psnr_10-30pct_mean"] == "n/a" and rows[1]["psnr_10-30pct_paper"] == "30.74"
    assert len([c for c in rows[0] if c.endswith("_mean")]) == len(COLUMNS)


def test_latex_content(records, tmp_path):
    tex = to_latex(build_table4(records))
    assert tex.count(r"\multicolumn{14}{l}") == 5  # one header per group I–V
    assert r"\textbf{32.25 $\pm$ 0.35}" in tex and r"\textbf{31.47}" in tex
    assert r"2Global(Local)$\rightarrow$Global(Local)" in tex and "10--30\\%" in tex
    assert tex.strip().startswith(r"\begin{table*}") and tex.strip().endswith(r"\end{table*}")
    paths = write_table(build_table4(records), tmp_path)
    assert sorted(p.name for p in paths) == ["table4.csv", "table4.md", "table4.tex"]


def test_unknown_variant_is_reported_not_dropped_silently(records):
    extra = record(9, "Global(Local)->Global(Local)", 0, psnr=(1.0, 1.0), ssim=(0.1, 0.1), fid=(1.0, 1.0))
    table = build_table4([*records, extra])
    assert any("outside Table IV" in n and "Global(Local)->Global(Local)" in n for n in table.notes)
    with pytest.raises(ValueError, match="no parameter 'variant'"):
        build_table4([TrialRecord(0, {"seed": 0}, {})])
