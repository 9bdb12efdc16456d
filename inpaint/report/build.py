"""Rebuild a study's report from the storage alone: which report a study gets is stored on the study
(``report``, a kind of :data:`inpaint.report.registry.REPORT_BUILDERS`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import optuna

from inpaint.errors import UserInputError
from inpaint.report.records import TrialRecord, completed_records, config_value, load_study
from inpaint.report.registry import DEFAULT_KIND, get_report_builder
from inpaint.report.study_report import StudyInput, StudyReport

__all__ = ["EXTERNAL_KINDS", "StudyReport", "build_study_report", "study_kind", "facts_from_configs", "list_studies"]


def facts_from_configs(records: list[TrialRecord]) -> dict[str, str]:
    """Caption facts read from the trials' resolved configs (the truth), e.g. ``steps: 40 steps × batch 8``."""
    def one(key: str) -> str | None:
        values = {str(config_value(r.config, key)) for r in records if config_value(r.config, key) is not None}
        return " / ".join(sorted(values)) if values else None

    facts: dict[str, str] = {}
    resolution = one("data.init_args.resolution")
    if resolution:
        facts["resolution"] = resolution if "x" in resolution or "[" in resolution else f"{resolution}×{resolution}"
    steps, epochs, batch = one("trainer.max_steps"), one("trainer.max_epochs"), one("data.init_args.batch_size")
    if steps and steps not in ("-1", "None"):
        facts["steps"] = f"{steps} step{'' if steps == '1' else 's'}" + (f" × batch {batch}" if batch else "")
    elif epochs:
        facts["steps"] = f"{epochs} epochs" + (f" × batch {batch}" if batch else "")
    return facts


#: report kinds that take ``--external NAME=DIR`` rows
EXTERNAL_KINDS: tuple[str, ...] = ("compare",)


def study_kind(storage_url: str, study_name: str) -> str:
    """The report kind stored on a study."""
    return str(load_study(storage_url, study_name).user_attrs.get("report", DEFAULT_KIND))


def build_study_report(storage_url: str, study_name: str, out_dir: str | Path | None = None,
                       external: Sequence[tuple[str, str | Path]] = ()) -> StudyReport:
    """Write the report files of one study and return them with the Markdown text.

    The study's user attributes (set by ``inpaint sweep``) say which report (``report``), where it goes
    (``out_dir``) and the caption facts (``facts``); ``out_dir`` here overrides the stored folder. ``external``:
    ``(name, folder)`` result folders of other systems, for the kinds in :data:`EXTERNAL_KINDS` (an error for others).
    """
    study = load_study(storage_url, study_name)
    attrs = dict(study.user_attrs)
    kind = attrs.get("report", DEFAULT_KIND)
    if external and kind not in EXTERNAL_KINDS:
        raise UserInputError(f"--external: study {study_name!r} has a {kind!r} report, which takes no external rows "
                             f"(only {', '.join(EXTERNAL_KINDS)} studies do)")
    builder = get_report_builder(kind)
    records = completed_records(study)
    facts = {**dict(attrs.get("facts", {})), **facts_from_configs(records)}
    target = Path(out_dir or attrs.get("out_dir") or Path("results") / study_name)
    from inpaint.sweeps.queue import unavailable_cells

    unavailable = list(unavailable_cells(study).values())
    return builder(StudyInput(study, records, facts, target, attrs, unavailable,
                              [(name, Path(folder)) for name, folder in external]))


def list_studies(storage_url: str) -> list[str]:
    from inpaint.sweeps.storage import normalise_url

    return [s.study_name for s in optuna.get_all_study_summaries(normalise_url(storage_url), include_best_trial=False)]
