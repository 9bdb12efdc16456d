"""What a report builder gets (a study's completed trials and its stored settings) and what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna

from inpaint.report.records import TrialRecord
from inpaint.report.table import Table


@dataclass
class StudyInput:
    """One study, read back from its storage: the completed trials, caption facts, output folder and attributes.

    ``unavailable``: the cells that could not start on the machine that ran them, as (parameters, reason) — a
    weight file or the data's segmentation maps were missing (:func:`inpaint.sweeps.queue.unavailable_cells`);
    reports show them as n/a with the reason. ``external``: ``--external NAME=DIR`` folders (the ``compare`` report
    scores them as extra rows)."""

    study: optuna.Study
    records: list[TrialRecord]
    facts: dict[str, Any]
    out_dir: Path
    attrs: dict[str, Any] = field(default_factory=dict)
    unavailable: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    #: ``(name, folder)`` of result folders made outside the suite, for reports that take them (``compare``)
    external: list[tuple[str, Path]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.study.study_name


@dataclass
class StudyReport:
    """The files a report wrote (tables, figures), its Markdown text, notes for the console and the tables
    themselves (for W&B)."""

    study: str
    kind: str
    paths: list[Path] = field(default_factory=list)
    markdown: str = ""
    notes: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
