"""Which report a study gets: report kind (the sweep definition's ``report:``, stored on the study) → builder.

A builder is a function ``(StudyInput) -> StudyReport`` (:mod:`inpaint.report.study_report`). Entries name it as
``"module:function"`` so that listing the kinds (``inpaint report --help``) imports nothing heavy; the module is
imported when a report of that kind is built. A report for a new system is a new module with its table builder
and report function, plus one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from inpaint.report.study_report import StudyInput, StudyReport

ReportBuilder = Callable[["StudyInput"], "StudyReport"]

#: report kind → ``"module:function"`` of its builder.
REPORT_BUILDERS: Final[dict[str, str]] = {
    "table": "inpaint.report.trials:trials_report",  # any study: one line per trial, best first
    "table1": "inpaint.report.table1:table1_report",  # Table I (direction of reconstruction)
    "table4": "inpaint.report.table4:table4_report",  # Table IV (architecture ablation)
    "tau": "inpaint.report.tau:tau_report",  # Fig. 23 (τ sensitivity)
    "swap": "inpaint.report.swap:swap_report",  # Tables II, III and VII (encoder swap)
    "pyramid": "inpaint.report.pyramid:pyramid_report",  # seed 002, Tables 3-5 (Pyramid Generator ablations)
    "pmrfn": "inpaint.report.pmrfn:pmrfn_report",  # seed 003, Table 2 (PMRFN ablations)
    "msfef": "inpaint.report.msfef:msfef_report",  # seed 004, Table 1 (MSFEF loss and module ablation)
    "table8": "inpaint.report.table8:table8_report",  # Table VIII (structure priors)
    "compare": "inpaint.report.compare:compare_report",  # issue 16: every system under one protocol (leaderboard)
}
#: the kind of a study that stores none.
DEFAULT_KIND: Final[str] = "table"


def report_kinds() -> list[str]:
    """The known report kinds, sorted."""
    return sorted(REPORT_BUILDERS)


def get_report_builder(kind: str) -> ReportBuilder:
    """The builder of ``kind``; an unknown kind is a ``ValueError`` that lists the known ones."""
    if kind not in REPORT_BUILDERS:
        raise ValueError(f"unknown report kind {kind!r}; known kinds: {', '.join(report_kinds())} "
                       "(inpaint.report.registry.REPORT_BUILDERS)")
    module, _, function = REPORT_BUILDERS[kind].partition(":")
    return getattr(import_module(module), function)
