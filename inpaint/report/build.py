"""Rebuild a study's report from the storage alone: which report a study gets is stored on the study
(``report``, a kind of :data:`inpaint.report.registry.REPORT_BUILDERS`)."""

from __future__ import annotations

from pathlib import Path

import optuna

from inpaint.report.records import TrialRecord, completed_records, config_value, load_study
from inpaint.report.registry import DEFAULT_KIND, get_report_builder
from inpaint.report.study_report import StudyInput, StudyReport

__all__ = ["StudyReport", "build_study_report", "facts_from_configs", "list_studies"]


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


def build_study_report(storage_url: str, study_name: str, out_dir: str | Path | None = None) -> StudyReport:
    """Write the report files of one study and return them with the Markdown text.

    The study's user attributes (set by ``inpaint sweep``) say which report (``report``), where it goes
    (``out_dir``) and the caption facts (``facts``); ``out_dir`` here overrides the stored folder.
    """
    study = load_study(storage_url, study_name)
    attrs = dict(study.user_attrs)
    builder = get_report_builder(attrs.get("report", DEFAULT_KIND))
    records = completed_records(study)
    facts = {**dict(attrs.get("facts", {})), **facts_from_configs(records)}
    target = Path(out_dir or attrs.get("out_dir") or Path("results") / study_name)
    from inpaint.sweeps.queue import unavailable_cells

    unavailable = list(unavailable_cells(study).values())
    return builder(StudyInput(study, records, facts, target, attrs, unavailable))


def list_studies(storage_url: str) -> list[str]:
    from inpaint.sweeps.storage import normalise_url

    return [s.study_name for s in optuna.get_all_study_summaries(normalise_url(storage_url), include_best_trial=False)]
