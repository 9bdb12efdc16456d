"""One W&B summary run per study: every table of the report as a ``wandb.Table`` and every figure as an image.

Offline by default (no account, no network); the run is grouped under the study's name, like the study's trials
when they log to W&B (``-o run.logger=wandb``), so ``wandb sync`` uploads a study as one group.
"""

from __future__ import annotations

import csv
from pathlib import Path

from inpaint.report.study_report import StudyReport


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
        for path in report.paths:
            if path.suffix == ".csv":
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
