"""Rebuild a study's report from the storage alone: which report a study gets is stored on the study."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna

from inpaint.report.paper_values import TABLE4_ROWS
from inpaint.report.qualitative import pick_run_dirs, qualitative_grid
from inpaint.report.records import TrialRecord, completed_records, load_study
from inpaint.report.table4 import build_table4, to_markdown, write_table4
from inpaint.report.tau import build_tau_table, tau_markdown, write_tau_report


@dataclass
class StudyReport:
    study: str
    kind: str
    paths: list[Path] = field(default_factory=list)
    markdown: str = ""
    notes: list[str] = field(default_factory=list)


def _flat_row(record: TrialRecord, scheme: str, bucket: str) -> dict[str, Any]:
    params = {k: float(f"{v:.4g}") if isinstance(v, float) else v for k, v in record.params.items()}
    row: dict[str, Any] = {"trial": record.number, **params}
    for metric in ("psnr", "ssim", "l1", "fid", "lpips"):
        value = record.value(metric, bucket, scheme)
        row[metric] = "n/a" if value is None else round(value, 4)
    row["wall_s"] = record.attrs.get("wall_s", "n/a")
    return row


def _generic_report(records: list[TrialRecord], study: optuna.Study, out_dir: Path, stem: str) -> StudyReport:
    """Search / swap studies: one line per completed trial, best first (by the study's objective value)."""
    reverse = study.direction == optuna.study.StudyDirection.MAXIMIZE
    values = {t.number: t.value for t in study.get_trials(deepcopy=False) if t.value is not None}
    ordered = sorted(records, key=lambda r: values.get(r.number, float("nan")), reverse=reverse)
    rows = [{**_flat_row(r, "all", "all"), "value": round(values[r.number], 4) if r.number in values else "n/a"}
            for r in ordered]
    out_dir.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(k for row in rows for k in row)) or ["trial"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(rows)
    (out_dir / f"{stem}.csv").write_text(buffer.getvalue())
    lines = [f"**{study.study_name}: completed trials, best first (all hole ratios, composite).**", "",
             "| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows]
    md = "\n".join(lines) + "\n"
    (out_dir / f"{stem}.md").write_text(md)
    return StudyReport(study.study_name, "table", [out_dir / f"{stem}.csv", out_dir / f"{stem}.md"], md)


def _dig(config: dict[str, Any], dotted: str) -> Any:
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def facts_from_configs(records: list[TrialRecord]) -> dict[str, str]:
    """Caption facts read from the trials' resolved configs (the truth), e.g. ``steps: 40 steps × batch 8``."""
    def one(key: str) -> str | None:
        values = {str(_dig(r.config, key)) for r in records if _dig(r.config, key) is not None}
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
    attrs = study.user_attrs
    kind = attrs.get("report", "table")
    target = Path(out_dir or attrs.get("out_dir") or Path("results") / study_name)
    records = completed_records(study)
    facts = {**dict(attrs.get("facts", {})), **facts_from_configs(records)}
    if kind == "table4":
        table = build_table4(records, facts=facts)
        report = StudyReport(study_name, kind, write_table4(table, target), to_markdown(table), list(table.notes))
        order = [v for _, v in TABLE4_ROWS]
        dirs = pick_run_dirs(records, "variant")
        dirs = {v: dirs[v] for v in order if v in dirs}
        grid = qualitative_grid(dirs, target / "table4_grid.png")
        if grid is None:
            report.notes.append("no qualitative grid: the trials' run dirs hold no saved test composites")
        else:
            report.paths.append(grid)
        return report
    if kind == "swap":
        return swap_report(records, study_name, facts, target)
    if kind == "tau":
        table = build_tau_table(records, scheme=attrs.get("tau_scheme", "paper"), facts=facts)
        return StudyReport(study_name, kind, write_tau_report(table, target), tau_markdown(table), list(table.notes))
    return _generic_report(records, study, target, "trials")


def swap_report(records: list[TrialRecord], study_name: str, facts: dict[str, Any], target: Path) -> StudyReport:
    """The encoder-swap study: Tables II, III and VII (md/csv/tex each) and a qualitative grid per generator."""
    from inpaint.report.comparison import to_markdown as table_markdown, write_table
    from inpaint.report.paper_swap_values import GENERATOR_LABELS
    from inpaint.report.table2 import build_table2
    from inpaint.report.table3 import build_table3
    from inpaint.report.table7 import build_table7

    report = StudyReport(study_name, "swap")
    for build in (build_table2, build_table3, build_table7):
        table = build(records, facts=facts)
        report.paths += write_table(table, target)
        report.markdown += table_markdown(table) + "\n"
    dirs = pick_run_dirs(records, "generator")
    grid = qualitative_grid({GENERATOR_LABELS.get(k, k): v for k, v in dirs.items()}, target / "swap_grid.png")
    if grid is None:
        report.notes.append("no qualitative grid: the trials' run dirs hold no saved test composites")
    else:
        report.paths.append(grid)
    return report


def list_studies(storage_url: str) -> list[str]:
    from inpaint.sweeps.storage import normalise_url

    return [s.study_name for s in optuna.get_all_study_summaries(normalise_url(storage_url), include_best_trial=False)]
