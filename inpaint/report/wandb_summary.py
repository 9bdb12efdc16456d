"""One W&B summary run per study: every table of the report as a ``wandb.Table`` and every figure as an image.

Paper tables go through :func:`inpaint.report.writers.to_wandb` (the wide CSV layout); other CSV files of the
report (e.g. a search's ``trials.csv``) are logged as they are.

Offline by default (no account, no network); the run is grouped under the study's name, like the study's trials
when they log to W&B (``-o run.logger=wandb``), so ``wandb sync`` uploads a study as one group.
"""

from __future__ import annotations

import csv
from pathlib import Path

from inpaint.report.study_report import StudyReport
from inpaint.report.writers import to_wandb


def log_study_summary(report: StudyReport, root: str | Path, project: str = "inpaint", mode: str = "offline") -> Path:
    """Log ``report``'s CSV tables and PNG figures to a W&B run named ``<study>-summary``; return its folder."""
    import wandb

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    run = wandb.init(
        project=project, group=report.study, name=f"{report.study}-summary", job_type="report", mode=mode,
        dir=str(root), config={"study": report.study, "report": report.kind},
    )
    try:
        for table in report.tables:
            run.log({table.name: to_wandb(table)})
        logged = {table.name for table in report.tables}
        for path in report.paths:
            if path.suffix == ".csv" and path.stem not in logged:
                with open(path, newline="") as handle:
                    header, *rows = list(csv.reader(handle))
                run.log({path.stem: wandb.Table(columns=header, data=rows)})
            elif path.suffix == ".png":
                run.log({path.stem: wandb.Image(str(path))})
        run.summary["report_markdown"] = report.markdown
        run.summary["notes"] = list(report.notes)
        return Path(run.dir).parent
    finally:
        run.finish()
