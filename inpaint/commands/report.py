"""``inpaint report --study <name> | --all``: rebuild tables and figures from stored studies, without training."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def default_storages(results: Path) -> list[str]:
    """The default SQLite files of the cpu and paper profiles that exist under ``results``."""
    found = sorted({p.resolve() for p in [results / "studies.db", *results.glob("*/studies.db")] if p.is_file()})
    return [f"sqlite:///{p}" for p in found]


def main(argv: list[str] | None = None) -> int:
    from inpaint.report.registry import report_kinds

    parser = argparse.ArgumentParser(
        prog="inpaint report", description=__doc__,
        epilog="report kinds (a study's stored `report`, set by its sweep definition): " + ", ".join(report_kinds())
               + " (inpaint.report.registry.REPORT_BUILDERS)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--study", help="study name, e.g. ablation-cpu")
    which.add_argument("--all", action="store_true", help="every study in the storage(s)")
    parser.add_argument(
        "--storage", default=None, help="storage URL (default: results/studies.db and results/*/studies.db)"
    )
    parser.add_argument("--results", default="results", help="results folder searched for default storages")
    parser.add_argument("--out", default=None, help="output folder (default: the folder stored with the study)")
    parser.add_argument("--external", action="append", default=[], metavar="NAME=DIR",
                        help="compare studies: a folder of another system's results for the study's exported test set "
                             "(inpaint sweep compare --export-test-set), scored as the extra row 'NAME (external)'; "
                             "repeatable (docs/compare.md)")
    parser.add_argument(
        "--wandb",
        action="store_true",
        help="also log the tables and figures to one W&B summary run per study "
        "(offline unless WANDB_MODE says otherwise)",
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)

    import optuna
    from rich.console import Console

    from inpaint.errors import UserInputError
    from inpaint.report.build import EXTERNAL_KINDS, build_study_report, list_studies, study_kind
    from inpaint.report.compare_external import parse_external

    try:
        externals = [parse_external(text) for text in args.external]
    except UserInputError as err:
        print(f"inpaint report: error: {err}", file=sys.stderr)
        return 2

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    console = Console()
    if args.storage:  # a read-only command: never let the database driver create a mistyped file
        from inpaint.sweeps.storage import sqlite_path

        try:
            db_file = sqlite_path(args.storage)
        except ValueError as err:
            print(f"inpaint report: error: {err}", file=sys.stderr)
            return 2
        if db_file is not None and not db_file.is_file():
            print(f"inpaint report: error: storage {args.storage}: no such database file {db_file} (report never "
                  "creates one); check the path, or run the sweep first", file=sys.stderr)  # fmt: skip
            return 2
    storages = [args.storage] if args.storage else default_storages(Path(args.results))
    if not storages:
        console.print(
            f"[red]no studies found: no {args.results}/studies.db; run `make ablation` first or pass --storage[/red]"
        )
        return 1
    built = 0
    with_external = 0
    for url in storages:
        names = list_studies(url) if args.all else [args.study]
        for name in names:
            if not args.all and name not in list_studies(url):
                continue
            # with --all, the external rows go to the studies whose report takes them (the compare leaderboards)
            takes = bool(externals) and (not args.all or study_kind(url, name) in EXTERNAL_KINDS)
            try:
                report = build_study_report(url, name, args.out, externals if takes else ())
            except UserInputError as err:
                print(f"inpaint report: error: {name}: {err}", file=sys.stderr)
                return 2
            with_external += takes
            print(report.markdown, flush=True)  # raw, unwrapped: copy-paste ready Markdown
            for note in report.notes:
                console.print(f"[yellow]{note}[/yellow]")
            console.print(f"[bold]{name}[/bold] → " + ", ".join(str(p) for p in report.paths))
            if args.wandb:
                import os

                from inpaint.report.wandb_summary import log_study_summary

                mode = os.environ.get("WANDB_MODE", "offline")
                run_dir = log_study_summary(
                    report, Path(report.paths[0]).parent if report.paths else Path(args.results), mode=mode
                )
                console.print(f"W&B summary run ({mode}): {run_dir} — upload later with `wandb sync {run_dir}`")
            built += 1
    if built == 0:
        console.print(f"[red]study {args.study!r} not found in {storages}[/red]")
        return 1
    if externals and not with_external:
        print(f"inpaint report: error: --external: no {' or '.join(EXTERNAL_KINDS)} study in {storages} to put the "
              "rows beside", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
