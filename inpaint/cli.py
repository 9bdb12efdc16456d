"""Command-line entry points.

``inpaint fit|validate|test|predict --config …`` go to the LightningCLI (``inpaint.lit.cli``); the suite's own
sub-commands live one per file in ``inpaint/commands/`` and are dispatched here by name.
``lightning …`` is the same LightningCLI (lightning 2.6 ships no such console script).
"""

from __future__ import annotations

import importlib
import sys

# sub-command → (module in inpaint.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "prepare": ("prepare", "precompute smoothed texture priors into a cache"),
    "info": ("info", "parameters and MACs of a model config"),
    "bench": ("bench", "time and memory benchmarks, written as JSON"),
    "evaluate": ("evaluate", "score a folder of predictions against ground truth"),
    "export": ("export", "write generator-only weights for inference"),
    "convert": ("convert", "convert the authors' TSGL checkpoint (--from official) to a .ckpt or .pt"),
    "sweep": ("sweep", "run an Optuna study (ablation, tau, search, swap, pyramid)"),
    "report": ("report", "rebuild tables and figures from stored studies"),
    "analyze": ("analyze", "feature figures of TSGL-encoder models: heat maps, spectrograms, entropy, KL"),
}
LIGHTNING_SUBCOMMANDS = ("fit", "validate", "test", "predict")


def _usage() -> str:
    lines = ["usage: inpaint <command> [options]", "", "Lightning commands (LightningCLI, take --config):"]
    lines += [f"  {name}" for name in LIGHTNING_SUBCOMMANDS]
    lines += ["", "Suite commands:"]
    lines += [f"  {name:<10} {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["  predict    --ckpt M --image I --mask K --out O: inpaint files of any size (see docs/evaluation.md);",
              "             with --config it is Lightning's predict loop over a data module"]
    return "\n".join(lines)


#: options only Lightning's ``predict`` takes (a config, trainer/model/data settings, a checkpoint path)
LIGHTNING_PREDICT_OPTIONS = ("-c", "--config", "--print_config", "--seed_everything", "--trainer", "--model", "--data",
                             "--ckpt_path", "--return_predictions", "--optimizer", "--lr_scheduler")


def runs_lightning_predict(argv: list[str]) -> bool:
    """``inpaint predict`` is the file-based predictor (``--ckpt --image --mask --out``, and its ``--help``) unless
    an option only LightningCLI's predict loop takes is given (``--config …``)."""
    return any(arg == option or arg.startswith((option + ".", option + "="))
               for arg in argv for option in LIGHTNING_PREDICT_OPTIONS)


def _run_command(module_name: str, argv: list[str]) -> int:
    module = importlib.import_module(f"inpaint.commands.{module_name}")
    return int(module.main(argv) or 0)


def lightning_main(argv: list[str] | None = None) -> int:
    """The LightningCLI (fit/validate/test/predict)."""
    from inpaint.lit.cli import run_cli

    return int(run_cli(list(sys.argv[1:] if argv is None else argv)) or 0)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name in COMMANDS:
        return _run_command(COMMANDS[name][0], rest)
    if name == "predict" and not runs_lightning_predict(rest):
        return _run_command("predict", rest)
    if name in LIGHTNING_SUBCOMMANDS or name.startswith("-"):
        return lightning_main(argv)
    print(f"inpaint: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
