"""The one table model and its writers, on a tiny hand-made table: exact Markdown / CSV / LaTeX text, best-marking
within the table or within a group, ± and n/a, the paper column beside ours."""

from __future__ import annotations

import pytest

from inpaint.report.table import Cell, Column, Row, make_table, seed_cell
from inpaint.report.writers import latex_text, to_csv, to_latex, to_long_csv, to_markdown, to_wandb, write_table

COLUMNS = [Column("psnr", "10-30%", "PSNR↑ 10–30 %", True, 2, latex_label="10–30%", span="PSNR↑"),
           Column("fid", "10-30%", "FID↓ 10–30 %", False, 1, latex_label="10–30%", span="FID↓")]


def tiny(best_within: str = "table"):
    rows = [Row("A->B", [0, 1], {"psnr_10-30pct": seed_cell([30.0, 31.0], [29.5]),
                                 "fid_10-30pct": seed_cell([None, None], [12.0])}, group="I"),
            Row("C", [0], {"psnr_10-30pct": seed_cell([29.0], [30.25]), "fid_10-30pct": seed_cell([9.0], [None])},
                group="II")]
    return make_table("tiny", "Tiny 50%", COLUMNS, rows, notes=["FID n/a: no weights"], best_within=best_within,
                      label_header="Variant", label_key="variant", group_header="Group",
                      group_titles={"I": "first", "II": "second"}, source_keys=("",))


def test_markdown_exact_best_across_the_table():
    assert to_markdown(tiny()) == """**Tiny 50%**

| Group | Variant | Seeds | PSNR↑ 10–30 % ours | paper | FID↓ 10–30 % ours | paper |
|---|---|---|---:|---:|---:|---:|
| I | A→B | 2 | **30.50 ± 0.71** | 29.50 | n/a | **12.0** |
| II | C | 1 | 29.00 | **30.25** | **9.0** | n/a |

Groups: I. first; II. second.
Note: FID n/a: no weights
"""


def test_best_within_a_group_marks_every_group():
    table = tiny("group")
    assert table.best_row("psnr_10-30pct", group="II").label == "C"
    assert "| II | C | 1 | **29.00** | **30.25** | **9.0** | n/a |" in to_markdown(table)
    assert table.row("A->B").cells["psnr_10-30pct"].best_paper == (True,)  # alone in group I


def test_csv_wide_and_long_exact():
    assert to_csv(tiny()).splitlines() == [
        "group,variant,seeds,psnr_10-30pct_mean,psnr_10-30pct_std,psnr_10-30pct_n,psnr_10-30pct_paper,"
        "psnr_10-30pct_diff,psnr_10-30pct_best,fid_10-30pct_mean,fid_10-30pct_std,fid_10-30pct_n,fid_10-30pct_paper,"
        "fid_10-30pct_diff,fid_10-30pct_best",
        "I,A->B,0 1,30.5,0.7071067811865476,2,29.5,1.0,1,n/a,n/a,0,12.0,n/a,0",
        "II,C,0,29.0,n/a,1,30.25,-1.25,0,9.0,n/a,1,n/a,n/a,1",
    ]
    assert to_long_csv(tiny(), condition_header="bucket").splitlines() == [
        "variant,metric,bucket,mean,std,n,paper,diff,best",
        "A->B,psnr,10-30%,30.5,0.7071067811865476,2,29.5,1.0,1",
        "A->B,fid,10-30%,n/a,n/a,0,12.0,n/a,0",
        "C,psnr,10-30%,29.0,n/a,1,30.25,-1.25,0",
        "C,fid,10-30%,9.0,n/a,1,n/a,n/a,1",
    ]


def test_latex_exact_with_spans_and_group_titles():
    assert to_latex(tiny()) == r"""\begin{table*}[t]
\centering
\caption{Tiny 50\%}
\label{tab:tiny-reproduction}
\resizebox{\textwidth}{!}{%
\begin{tabular}{llrrrr}
\toprule
 &  & \multicolumn{2}{c}{PSNR$\uparrow$} & \multicolumn{2}{c}{FID$\downarrow$} \\
 &  & \multicolumn{2}{c}{10--30\%} & \multicolumn{2}{c}{10--30\%} \\
Variant & Seeds & ours & paper & ours & paper \\
\midrule
\multicolumn{6}{l}{\emph{I. first}} \\
A$\rightarrow$B & 2 & \textbf{30.50 $\pm$ 0.71} & 29.50 & n/a & \textbf{12.0} \\
\midrule
\multicolumn{6}{l}{\emph{II. second}} \\
C & 1 & 29.00 & \textbf{30.25} & \textbf{9.0} & n/a \\
\bottomrule
\end{tabular}}
\par\footnotesize FID n/a: no weights
\end{table*}
"""


def test_untitled_groups_two_sources_and_no_paper_layouts():
    cols = [Column("psnr", "a", "PSNR↑ a", True, 1)]
    rows = [Row("x", [0], {"psnr_a": seed_cell([2.0], [1.0, 3.0])}, group="g1"),
            Row("y", [0], {"psnr_a": seed_cell([1.0], [4.0, None])}, group="g1")]
    two = make_table("two", "c", cols, rows, paper_sources=("CelebA", "Places2"))
    md = to_markdown(two)
    assert "| Rows | Method | Seeds | PSNR↑ a ours | CelebA | Places2 |" in md
    assert "| g1 | x | 1 | **2.0** | 1.0 | **3.0** |" in md and "| g1 | y | 1 | 1.0 | **4.0** | n/a |" in md
    assert "psnr_a_paper_celeba,psnr_a_diff_celeba,psnr_a_paper_places2" in to_csv(two)
    assert "g1 & x & 1 & \\textbf{2.0} & 1.0 & \\textbf{3.0} \\\\" in to_latex(two)  # group as a first column
    bare = make_table("bare", "c", cols, [Row("1", [0, 1], {"psnr_a": seed_cell([1.0, None])})], paper_sources=(),
                      label_header="τ", label_key="tau", show_seeds=False)
    assert to_markdown(bare).splitlines()[2:5] == ["| τ | PSNR↑ a |", "|---|---:|", "| 1 | **1.0** |"]
    assert bare.row("1").cells["psnr_a"].ours.missing == 1


def test_make_table_fills_missing_cells_and_checks_sources():
    table = make_table("t", "c", COLUMNS, [Row("empty", [], {})])
    cell = table.row("empty").cells["fid_10-30pct"]
    assert cell.ours.mean is None and cell.paper == (None,) and not cell.best_ours
    assert table.best_row("psnr_10-30pct") is None
    with pytest.raises(ValueError, match="2 paper values for 1 sources"):
        make_table("t", "c", COLUMNS[:1], [Row("z", [], {"psnr_10-30pct": Cell(seed_cell([]).ours, (1.0, 2.0))})])
    with pytest.raises(KeyError, match="no row 'nope'"):
        table.row("nope")


def test_latex_text_and_files(tmp_path):
    assert latex_text("Ours_1 → 50% –") == r"Ours\_1 $\rightarrow$ 50\% --"
    paths = write_table(tiny(), tmp_path)
    assert [p.name for p in paths] == ["tiny.md", "tiny.csv", "tiny.tex"]
    assert paths[1].read_bytes().decode() == to_csv(tiny())


def test_wandb_table_has_the_csv_columns():
    pytest.importorskip("wandb")
    logged = to_wandb(tiny())
    assert logged.columns[:4] == ["group", "variant", "seeds", "psnr_10-30pct_mean"]
    assert logged.data[0][:4] == ["I", "A->B", "0 1", "30.5"]
