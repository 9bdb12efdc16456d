"""The encoder-swap study's report: Tables II, III and VII (``.md``/``.csv``/``.tex`` each) and a qualitative grid
with one row per generator (labelled as the paper does)."""

from __future__ import annotations

from inpaint.report.paper.labels import GENERATOR_LABELS
from inpaint.report.qualitative import add_grid, pick_run_dirs
from inpaint.report.study_report import StudyInput, StudyReport
from inpaint.report.table2 import build_table2
from inpaint.report.table3 import build_table3
from inpaint.report.table7 import build_table7
from inpaint.report.writers import to_markdown, write_table


def swap_report(study: StudyInput) -> StudyReport:
    report = StudyReport(study.name, "swap")
    for build in (build_table2, build_table3, build_table7):
        table = build(study.records, facts=study.facts)
        report.paths += write_table(table, study.out_dir)
        report.markdown += to_markdown(table) + "\n"
        report.tables.append(table)
    dirs = pick_run_dirs(study.records, "generator")
    add_grid(report, {GENERATOR_LABELS.get(k, k): v for k, v in dirs.items()}, study.out_dir / "swap_grid.png")
    return report
