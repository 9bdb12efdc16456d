"""``inpaint sweep <name> --profile cpu|paper``: run (or resume) an Optuna study, then report (names: the YAML files
of ``sweeps/``, listed under the ``sweep`` argument; some have further profiles, e.g. ``table8``'s ``ade20k_cpu``).

Re-running the same command resumes the study: finished trials are kept, trials of a killed run are failed
(after the heartbeat grace period) and re-queued. ``--workers N`` starts N worker processes on the study;
workers on other machines join by running the same command with the same ``--storage postgresql://…``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

import yaml

THREADS_KEY = "run.num_threads"  # torch threads of one run (RunOptions.num_threads)


def parse_override(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"override {text!r} must look like key=value (e.g. trainer.max_steps=50)")
    key, value = text.split("=", 1)
    return key, yaml.safe_load(value)


def _shipped_sweeps() -> list[str]:
    from inpaint.sweeps.spec import default_sweeps_dir

    return sorted(p.stem for p in default_sweeps_dir().glob("*.yaml")) or ["none found"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inpaint sweep", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep", help=f"sweep name (sweeps/<name>.yaml: {', '.join(_shipped_sweeps())}) or a "
                                      "YAML path")
    parser.add_argument("--profile", default="cpu", help="profile in the sweep file (cpu | paper | …); default cpu")
    parser.add_argument("--data-root", default=None, help="dataset folder for profiles that train on your data")
    parser.add_argument("--storage", default=None, help="Optuna storage URL (default sqlite:///<results>/studies.db)")
    parser.add_argument("--results", default=None, help="results folder (default: the profile's, e.g. results)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes on this machine (default 1)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="seeds (default: the profile's)")
    parser.add_argument("--override", "-o", type=parse_override, action="append", default=[],
                        help="extra config override key=value for every trial (repeatable)")
    parser.add_argument("--sweeps-dir", default=None, help="folder of sweep YAML files (default ./sweeps)")
    parser.add_argument("--no-report", action="store_true", help="skip writing the report at the end")
    parser.add_argument("--external", action="append", default=[], metavar="NAME=DIR",
                        help="compare: a folder of another system's results for the exported test set, scored as an "
                             "extra leaderboard row 'NAME (external)' (repeatable; docs/compare.md)")
    parser.add_argument("--export-test-set", default=None, metavar="DIR",
                        help="write the profile's fixed test set (images/, masks/ white = hole, manifest.json) into "
                             "DIR for another system to run on, then stop (nothing is trained)")
    parser.add_argument("--worker-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quiet", action="store_true", help="no progress display")
    parser.add_argument("--verbose", action="store_true",
                        help="show every trial's own output here (default: in its run folder's trial.log)")
    return parser


def export_test_set(objective: Any, plan: Any, folder: str) -> int:
    """``--export-test-set``: the fixed test set of the plan's trials (every cell has the same one: the data settings
    do not vary over the grid) into ``folder``; built through the first cell's configs, the classical Telea row
    when the study has it (the cheapest model to instantiate)."""
    from inpaint.data.test_set import export_test_set as write_set
    from inpaint.errors import UserInputError
    from inpaint.report.compare_external import datamodule_from_section

    cells = plan.cells  # a cell of the grid (its only_where rules applied), not any combination of the axes
    params = next((cell for cell in cells if cell.get("system") == "telea"), cells[0])
    try:
        # from the resolved config as a trial stores it: the report rebuilds the set from that same section
        path = write_set(datamodule_from_section(objective.resolved_config(params)["data"]), folder)
    except UserInputError as err:
        print(f"inpaint sweep: error: {err}", file=sys.stderr)
        return 2
    import json

    content = json.loads(path.read_text())
    protocol = content["protocol"]
    print(f"{plan.study_name}: wrote the fixed test set ({content['n']} images at "
          f"{'×'.join(map(str, protocol['resolution']))}, masks {protocol['eval_masks']}, fingerprint "
          f"{content['fingerprint'][:12]}…) to {folder}: images/, masks/ (white = hole), {path.name}. Run the other "
          "system on it, write one result per image with the same name into a folder, copy manifest.json there, then "
          f"`inpaint report --study {plan.study_name} --external NAME=FOLDER`")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.workers < 1:
        print("inpaint sweep: --workers must be >= 1", file=sys.stderr)
        return 2
    import optuna
    from lightning.pytorch.utilities.exceptions import SIGTERMException
    from rich.console import Console

    from inpaint.report.build import build_study_report
    from inpaint.sweeps.lightning_trial import LightningTrial
    from inpaint.sweeps.queue import unavailable_cells
    from inpaint.sweeps.run import make_plan, open_study, run_plan, sweep_status
    from inpaint.sweeps.spec import load_spec
    from inpaint.sweeps.stop import StopRequest

    if args.workers > 1 and not any(key == THREADS_KEY for key, _ in args.override):
        # Worker processes share the cores instead of each spinning up as many threads as there are cores.
        threads = max(1, (os.cpu_count() or 1) // args.workers)
        args.override.append((THREADS_KEY, threads))
        argv = [*argv, "--override", f"{THREADS_KEY}={threads}"]
    from inpaint.errors import UserInputError
    from inpaint.report.compare_external import parse_external

    try:
        externals = [parse_external(text) for text in args.external]
    except UserInputError as err:
        print(f"inpaint sweep: error: {err}", file=sys.stderr)
        return 2
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    console = Console()
    spec = load_spec(args.sweep, args.sweeps_dir)
    if externals and spec.report != "compare":
        print(f"inpaint sweep: error: --external is for the compare study (its leaderboard), not {spec.name!r}",
              file=sys.stderr)
        return 2
    plan = make_plan(spec, args.profile, storage=args.storage, results_dir=args.results, seeds=args.seeds,
                     data_root=args.data_root, overrides=dict(args.override))
    root = spec.source.parent.parent if spec.source else Path.cwd()
    objective = LightningTrial(spec, plan.profile, root=root, data_root=args.data_root,
                               extra_overrides=plan.overrides,
                               prune_monitor=spec.pruning.get("monitor") if spec.kind == "search" else None,
                               experiment=plan.study_name)
    if args.export_test_set:
        return export_test_set(objective, plan, args.export_test_set)
    if not args.worker_only:
        console.print(f"[bold]{plan.study_name}[/bold]: storage {plan.storage_url} · results {plan.out_dir} · "
                      f"{args.workers} worker(s)  (dashboard: optuna-dashboard {plan.storage_url})")
    stop = StopRequest().install()
    try:
        study = run_plan(plan, objective, workers=args.workers, argv=[a for a in argv if a != "--worker-only"],
                         show_progress=not (args.quiet or args.worker_only), stop=stop, quiet=not args.verbose)
    except SIGTERMException:
        if not args.worker_only:
            done, total, _ = sweep_status(plan, open_study(plan))
            unit = "cells" if plan.spec.kind == "grid" else "trials"
            console.print(f"[yellow]stopped by {stop.name}: {done} of {total} {unit} complete; run the same command "
                          "again to resume (an interrupted cell is retried)[/yellow]")
        return stop.exit_code
    if args.worker_only:
        return 0
    _, _, missing = sweep_status(plan, study)
    if not args.no_report:
        try:
            report = build_study_report(plan.storage_url, plan.study_name, plan.out_dir, externals)
        except UserInputError as err:
            print(f"inpaint sweep: error: {err}", file=sys.stderr)
            return 2
        print(report.markdown, flush=True)  # raw, unwrapped: copy-paste ready Markdown
        for note in report.notes:
            console.print(f"[yellow]{note}[/yellow]")
        console.print("written: " + ", ".join(str(p) for p in report.paths))
    unavailable = unavailable_cells(study) if plan.spec.kind == "grid" else {}
    for reason in sorted({reason for _, reason in unavailable.values()}):
        cells = [key for key, (_, why) in unavailable.items() if why == reason]
        console.print(f"[yellow]n/a here: {len(cells)} cell(s) cannot start on this machine or data (a re-run "
                      f"tries them again once what they need is there): {reason}[/yellow]")
    failed = [key for key in missing if key not in unavailable]
    if failed:
        console.print(f"[red]not complete: {', '.join(failed)} (their failed trials' 'error' attribute says why; "
                      "re-run to retry)[/red]")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
