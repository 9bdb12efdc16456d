"""Table I report: the paper's values, rows → variants, aggregation over seeds, best marks per half, the shared model
note, n/a rows, the study definition and the writers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest

from inpaint.models.variants import VARIANTS
from inpaint.report.paper.table1 import TABLE1, TABLE1_BUCKETS, TABLE1_GROUP_TITLES, TABLE1_ROWS
from inpaint.report.records import TrialRecord
from inpaint.report.registry import get_report_builder
from inpaint.report.table1 import COLUMNS, TABLE1_VARIANTS, build_table1, trained_variants
from inpaint.report.writers import to_csv, to_latex, to_markdown, write_table
from inpaint.sweeps.spec import load_spec

SWEEPS = Path(__file__).resolve().parents[1] / "sweeps"
NEW = "Global->Global+Texture->Structure"


def metrics(fid: tuple[float | None, ...]) -> dict:
    """A metrics report as the evaluation writes it: the paper scheme's four buckets, composite image."""
    rows = [{"scheme": "paper", "bucket": b, "n": 4, "values": {"composite": {"fid": f, "psnr": 25.0}}}
            for b, f in zip(TABLE1_BUCKETS, fid)]
    rows.append({"scheme": "all", "bucket": "all", "n": 16, "values": {"composite": {"fid": 1.0}}})
    return {"protocol": {"fid_backend": "tf-inception"}, "buckets": rows}


def record(number: int, variant: str, seed: int, fid: tuple[float | None, ...]) -> TrialRecord:
    return TrialRecord(number=number, params={"variant": variant, "seed": seed}, metrics=metrics(fid))


@pytest.fixture
def records() -> list[TrialRecord]:
    return [
        record(0, "Global->Global", 0, (20.0, 30.0, 40.0, 50.0)),
        record(1, "Global->Global", 1, (22.0, 32.0, 42.0, 52.0)),
        record(2, "Baseline", 0, (25.0, 29.0, 45.0, 55.0)),
        record(3, "Baseline", 1, (27.0, 31.0, 47.0, 57.0)),
        record(4, NEW, 0, (19.0, 35.0, None, 60.0)),
    ]


def test_paper_values_as_printed() -> None:
    assert [k for _, k, _ in TABLE1_ROWS] == ["a_with", "a_without", "b_with", "b_without"]
    assert set(TABLE1_GROUP_TITLES) == {g for g, _, _ in TABLE1_ROWS} == {"a", "b"}
    assert [TABLE1["a_with"][("fid", b)] for b in TABLE1_BUCKETS] == [23.18, 29.71, 40.52, 57.37]
    assert [TABLE1["a_without"][("fid", b)] for b in TABLE1_BUCKETS] == [26.55, 31.33, 42.64, 58.35]
    assert [TABLE1["b_with"][("fid", b)] for b in TABLE1_BUCKETS] == [15.41, 29.76, 43.49, 64.04]
    assert [TABLE1["b_without"][("fid", b)] for b in TABLE1_BUCKETS] == [15.00, 29.64, 42.97, 63.69]


def test_rows_read_as_variants_and_the_study_trains_each_once() -> None:
    assert set(TABLE1_VARIANTS) == set(TABLE1) and all(v in VARIANTS for v in TABLE1_VARIANTS.values())
    assert TABLE1_VARIANTS["a_without"] == "Baseline" and TABLE1_VARIANTS["b_with"] == NEW
    assert TABLE1_VARIANTS["a_with"] == TABLE1_VARIANTS["b_without"] == "Global->Global"
    assert trained_variants() == ["Global->Global", "Baseline", NEW]
    spec = load_spec("table1", SWEEPS)
    assert spec.report == "table1" and get_report_builder(spec.report).__name__ == "table1_report"
    assert spec.grid_axes([0, 1]) == {"seed": [0, 1], "variant": trained_variants()}
    cpu = spec.profile("cpu")
    assert cpu.seeds == [0, 1] and cpu.overrides["trainer.max_steps"] == 48
    assert cpu.configs == ["experiments/runs/smoke_cpu.yaml"] and not cpu.requires_data_root
    assert spec.profile("paper").requires_data_root


def test_table1_cells_best_marks_and_notes(records) -> None:
    table = build_table1(records, facts={"data": "embedded", "resolution": "64×64", "steps": "48 steps"})
    assert [(r.group, r.label) for r in table.rows] == [(g, label) for g, _, label in TABLE1_ROWS]
    assert [c.key for c in table.columns] == ["fid_10-20pct", "fid_20-30pct", "fid_30-40pct", "fid_40-50pct"]
    a_with, a_without, b_with, b_without = table.rows
    assert a_with.seeds == [0, 1] and a_with.text == {"variant": "Global->Global"}
    cell = a_with.cells["fid_10-20pct"]
    assert cell.ours.mean == pytest.approx(21.0) and cell.ours.std == pytest.approx(np.sqrt(2.0))
    assert cell.paper == (23.18,)
    # (b) w/o is the same trials as (a) w.; (b) w. has one seed and a missing bucket
    assert b_without.seeds == [0, 1] and b_without.cells["fid_40-50pct"].ours.mean == pytest.approx(51.0)
    assert b_with.seeds == [0] and b_with.cells["fid_30-40pct"].ours.mean is None
    # lower FID is better, marked within each half
    assert a_with.cells["fid_10-20pct"].best_ours and not a_without.cells["fid_10-20pct"].best_ours
    assert a_without.cells["fid_20-30pct"].best_ours
    assert b_with.cells["fid_10-20pct"].best_ours and b_without.cells["fid_20-30pct"].best_ours
    assert b_without.cells["fid_30-40pct"].best_ours  # the only value of (b) there
    assert a_with.cells["fid_10-20pct"].best_paper == (True,) and b_without.cells["fid_10-20pct"].best_paper == (True,)
    assert any("one model (Global->Global)" in n for n in table.notes)
    assert "Global->Global+Texture->Structure" in table.caption and "64×64" in table.caption
    assert "N per bucket: 10-20%: 4, 20-30%: 4, 30-40%: 4, 40-50%: 4;" in table.caption


def test_missing_rows_and_foreign_variants_are_noted() -> None:
    table = build_table1([record(0, "Baseline", 0, (1.0, 2.0, 3.0, 4.0)),
                          record(1, "Local->Local", 0, (1.0, 2.0, 3.0, 4.0))])
    assert any("outside Table I" in n and "Local->Local" in n for n in table.notes)
    missing = next(n for n in table.notes if n.startswith("not run yet"))
    assert "(b) w. texture feature map" in missing and "(a) w/o" not in missing


def test_writers(records, tmp_path) -> None:
    table = build_table1(records, facts={"data": "embedded"})
    md = to_markdown(table)
    assert "| Table I | Model | Seeds | Variant | FID↓ 10–20 % ours | paper | FID↓ 20–30 % ours |" in md
    assert "21.00 ± 1.41" in md and "23.18" in md and TABLE1_GROUP_TITLES["b"] in md
    rows = list(csv.DictReader(io.StringIO(to_csv(table))))
    assert [r["model"] for r in rows] == [label for _, _, label in TABLE1_ROWS]
    assert rows[0]["fid_10-20pct_paper"] == "23.18" and rows[0]["variant"] == "Global->Global"
    latex = to_latex(table)
    assert "\\multicolumn{8}{c}{FID$\\downarrow$}" in latex and "Global$\\rightarrow$Global" in latex
    paths = write_table(table, tmp_path)
    assert sorted(p.name for p in paths) == ["table1.csv", "table1.md", "table1.tex"]
    assert len(COLUMNS) == 4
