"""``inpaint fit|validate|test|predict --config …`` (and the ``lightning`` console script): the suite's LightningCLI.

On top of Lightning's CLI this adds

* ``run:`` — where the run lives and how it is logged/checkpointed (:class:`~inpaint.lit.run_dir.RunOptions`);
* ``location:`` — machine-specific paths (LaMa's "location" idea), referenced elsewhere as ``${location.<key>}``;
  keep them in one overlay file (``experiments/location.yaml``) instead of in every config;
* ``defaults:`` — a list of config files (relative to the file naming them) merged *before* it, so a named run is
  a short composition of data / model / trainer files; entries starting with ``?`` are skipped when missing;
* the standard callbacks (atomic periodic + epoch-end checkpoints, validation image grids, rich progress bar,
  end-of-fit summary, the evaluation writer for ``test``) and the chosen logger, all inside the run folder;
* ``--ckpt_path last`` resolved to the newest *intact* checkpoint of the run; one-line errors for bad input.
"""

from __future__ import annotations

import os
import re
import sys
import typing
from typing import Any

import torch
import yaml
from jsonargparse import Namespace
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import Callback, ProgressBar, RichProgressBar
from lightning.pytorch.cli import LightningCLI, SaveConfigCallback
from lightning.pytorch.plugins.io import CheckpointIO
from lightning.pytorch.utilities.rank_zero import rank_zero_info, rank_zero_warn

from inpaint.lit.callbacks import RankAudit, RunSummary, ValidationImageGrid
from inpaint.lit.checkpointing import AtomicCheckpointIO, checkpoint_callbacks, find_resumable_checkpoint
from inpaint.lit.loggers import build_logger
from inpaint.lit.module import InpaintingGAN
from inpaint.lit.nan_guard import NonFiniteLossError
from inpaint.lit.run_dir import RUN_DIR_ENV, RunOptions, resolve_run_dir, slug

LOCATION_REF = re.compile(r"\$\{location\.([A-Za-z0-9_\-]+)\}")
DEBUG_ENV = "INPAINT_DEBUG"


class CLIInputError(ValueError):
    """Bad user input detected by the CLI (reported as one line, exit status 2)."""


# ---------------------------------------------------------------------------------------------- config composition
def expand_defaults(argv: list[str]) -> list[str]:
    """Insert the files listed under ``defaults:`` of every ``--config FILE`` before that file (recursively)."""
    expanded: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        path = None
        if arg == "--config" and i + 1 < len(argv):
            path, i = argv[i + 1], i + 2
        elif arg.startswith("--config="):
            path, i = arg.split("=", 1)[1], i + 1
        else:
            expanded.append(arg)
            i += 1
            continue
        for file in _composition(path, seen=()):
            expanded += ["--config", file]
    return expanded


def _composition(path: str, seen: tuple[str, ...]) -> list[str]:
    if not os.path.isfile(path):
        raise CLIInputError(f"config file not found: {path}")
    real = os.path.realpath(path)
    if real in seen:
        raise CLIInputError(f"config 'defaults' form a cycle: {' -> '.join((*seen, real))}")
    with open(path) as handle:
        try:
            content = yaml.safe_load(handle) or {}
        except yaml.YAMLError as err:
            raise CLIInputError(f"{path} is not valid YAML: {str(err).splitlines()[0]}") from err
    files: list[str] = []
    defaults = content.get("defaults") if isinstance(content, dict) else None
    for entry in defaults or []:
        optional = str(entry).startswith("?")
        target = os.path.join(os.path.dirname(path), str(entry).lstrip("?").strip())
        if optional and not os.path.isfile(target):
            continue
        files += _composition(target, (*seen, real))
    return [*files, path]


def substitute_locations(value: Any, location: dict[str, str], location_hint: str) -> Any:
    """Replace ``${location.<key>}`` in every string of a (nested) config value."""
    if isinstance(value, Namespace):
        for key in list(value.keys()):
            value[key] = substitute_locations(value[key], location, location_hint)
        return value
    if isinstance(value, dict):
        return {k: substitute_locations(v, location, location_hint) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute_locations(v, location, location_hint) for v in value]
    if isinstance(value, str) and "${location." in value:
        def lookup(match: re.Match) -> str:
            key = match.group(1)
            if key not in location or location[key] in (None, ""):
                raise CLIInputError(
                    f"the config refers to ${{location.{key}}} but no path is set for '{key}': add "
                    f"'location: {{{key}: /path/to/it}}' to {location_hint} (copy experiments/location.example.yaml)"
                )
            return str(location[key])

        return LOCATION_REF.sub(lookup, value)
    return value


# ---------------------------------------------------------------------------------------------- callbacks
class RunConfigSaver(SaveConfigCallback):
    """Save the resolved config as ``<run dir>/config.yaml`` (rank 0; rewritten on resume).

    Other stages run inside an existing run folder write ``config.<stage>.yaml`` so the training record stays.
    """

    def save_config(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if trainer.is_global_zero:
            name = self.config_filename
            stage = str(getattr(stage, "value", stage))  # Lightning passes a TrainerFn enum
            if stage != "fit":
                root, ext = os.path.splitext(name)
                name = f"{root}.{stage}{ext}"
            path = os.path.join(trainer.default_root_dir, name)
            self.parser.save(self.config, path, skip_none=False, overwrite=True, multifile=False)


def _evaluation_writer(run_dir: str, options: Any) -> Callback:
    """The metrics callback for ``test`` (:class:`inpaint.lit.evaluation.EvaluationWriter`) configured by
    ``run.evaluation``, writing into the run folder (``metrics.json``, ``metrics.csv``, ``composites/``, …)."""
    from inpaint.lit.evaluation import EvaluationOptions, EvaluationWriter

    if isinstance(options, Namespace):
        options = options.as_dict()
    if isinstance(options, dict):
        options = EvaluationOptions(**options)
    return EvaluationWriter.from_options(options or EvaluationOptions(), out_dir=run_dir)


# ---------------------------------------------------------------------------------------------- count-or-fraction
#: Trainer arguments where an int counts batches and a float is a fraction (``limit_val_batches=1`` is one batch,
#: ``1.0`` is all of them).
COUNT_OR_FRACTION_KEYS: tuple[str, ...] = (
    "limit_train_batches", "limit_val_batches", "limit_test_batches", "limit_predict_batches", "overfit_batches",
)


def prefer_int_for_count_or_fraction(trainer_class: type) -> None:
    """Make ``--trainer.limit_val_batches=1`` parse as the int 1 whatever the import order.

    jsonargparse tries the members of a Union in order and keeps the first that accepts the value, so "1" becomes
    1.0 (100 % of the batches) under ``Union[float, int]``. Lightning writes ``Optional[Union[int, float]]``, but
    ``typing`` caches unions by *equality* and ``Union[int, float] == Union[float, int]``: when any module imported
    before Lightning built ``Optional[Union[float, int]]`` first (importing ``rich.console`` first does, as the sweep
    command did), the Trainer's annotation is float-first. Rewriting it as the (uncached) ``int | float | None``
    restores the documented order; only the annotation changes, never Lightning's behaviour.
    """
    annotations = getattr(trainer_class.__init__, "__annotations__", {})
    for key in COUNT_OR_FRACTION_KEYS:
        hint = annotations.get(key)
        if hint is not None and set(typing.get_args(hint)) == {int, float, type(None)}:
            annotations[key] = int | float | None


# ---------------------------------------------------------------------------------------------- the CLI
class InpaintCLI(LightningCLI):
    """LightningCLI with run folders, location overlays, crash-safe checkpoints and the suite's callbacks.

    ``stage`` is only needed with ``run=False`` (programmatic use): ``"fit"``, ``"test"`` or ``"fit+test"``.
    """

    def __init__(self, *args: Any, stage: str | None = None, **kwargs: Any) -> None:
        self._stage_override = stage
        self.run_dir: str | None = None
        self.run_options: RunOptions | None = None
        kwargs.setdefault("model_class", InpaintingGAN)
        kwargs.setdefault("save_config_callback", RunConfigSaver)
        kwargs.setdefault("save_config_kwargs", {"save_to_log_dir": False, "overwrite": True})
        kwargs.setdefault("auto_configure_optimizers", False)
        prefer_int_for_count_or_fraction(kwargs.get("trainer_class", Trainer))
        super().__init__(*args, **kwargs)

    @property
    def stage(self) -> str:
        return self.subcommand or self._stage_override or "fit"

    def add_arguments_to_parser(self, parser) -> None:
        parser.add_class_arguments(RunOptions, "run")
        parser.add_argument(
            "--location", type=dict[str, str | None] | None, default=None,
            help="machine-specific paths, referenced in configs as ${location.<key>}",
        )
        parser.add_argument(
            "--defaults", type=list[str] | None, default=None,
            help="config files merged before the file that lists them (expanded by inpaint's CLI)",
        )

    def _active(self, config: Namespace) -> Namespace:
        return config[self.subcommand] if self.subcommand else config

    def before_instantiate_classes(self) -> None:
        cfg = self._active(self.config)
        options = RunOptions(**cfg.run.as_dict()) if isinstance(cfg.run, Namespace) else cfg.run
        if options.num_threads:
            torch.set_num_threads(options.num_threads)
        location = dict(cfg.get("location") or {})
        hint = "experiments/location.yaml (passed with --config)"
        for key in ("model", "data", "trainer"):
            if cfg.get(key) is not None:
                cfg[key] = substitute_locations(cfg[key], location, hint)

        ckpt_path = cfg.get("ckpt_path")
        resume = ckpt_path == "last"
        if ckpt_path and not resume and ckpt_path not in ("best", "hpc", "registry"):
            if not os.path.isfile(ckpt_path):
                raise CLIInputError(f"checkpoint not found: {ckpt_path} (from --ckpt_path); check the path")
            parent = os.path.dirname(os.path.abspath(ckpt_path))
            if os.path.basename(parent) == "checkpoints" and not options.dir and not options.version:
                options.dir = os.path.dirname(parent)  # evaluate inside the run that produced it

        variant = options.variant or self._generator_name(cfg)
        self.run_dir = resolve_run_dir(options, variant, resume=resume)
        options.variant = variant
        self.run_options = options
        os.environ[RUN_DIR_ENV] = self.run_dir  # DDP worker processes started by Lightning inherit it
        cfg.trainer.default_root_dir = self.run_dir

        if resume:
            found = find_resumable_checkpoint(os.path.join(self.run_dir, "checkpoints"))
            if found is None:
                if self.stage != "fit":
                    raise CLIInputError(f"--ckpt_path last: no intact checkpoint in {self.run_dir}/checkpoints")
                rank_zero_warn(f"--ckpt_path last: nothing to resume in {self.run_dir}; starting from scratch")
            else:
                rank_zero_info(f"resuming from {found}")
            cfg.ckpt_path = found

    @staticmethod
    def _generator_name(cfg: Namespace) -> str:
        generator = cfg.get("model.generator")
        if generator is None:
            return "model"
        init_args = generator.get("init_args") if isinstance(generator, Namespace) else None
        variant = init_args.get("variant") if isinstance(init_args, Namespace) else None
        if variant:
            return str(variant)
        class_path = generator.get("class_path") if isinstance(generator, Namespace) else None
        return str(class_path).rsplit(".", 1)[-1] if class_path else "model"

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        assert self.run_options is not None and self.run_dir is not None
        options, run_dir = self.run_options, self.run_dir
        trainer_cfg = self._get(self.config_init, "trainer", default={}) or {}
        callbacks = list(trainer_cfg.get("callbacks") or [])
        if isinstance(trainer_cfg.get("callbacks"), Callback):
            callbacks = [trainer_cfg["callbacks"]]
        if trainer_cfg.get("enable_checkpointing", True) is not False and "fit" in self.stage:
            callbacks += checkpoint_callbacks(
                os.path.join(run_dir, "checkpoints"), options.checkpoint_every_n_steps,
                options.keep_step_checkpoints, options.keep_epoch_checkpoints,
            )
        if options.image_grid_samples > 0:
            callbacks.append(ValidationImageGrid(max_images=options.image_grid_samples))
        if trainer_cfg.get("enable_progress_bar", True) is not False and not any(
            isinstance(c, ProgressBar) for c in callbacks
        ):
            callbacks.append(RichProgressBar())
        callbacks.append(RunSummary())
        if options.audit:
            callbacks.append(RankAudit())
        for callback in callbacks:  # a writer configured in trainer.callbacks writes into the run folder too
            if type(callback).__name__ == "EvaluationWriter" and getattr(callback, "out_dir", "") is None:
                callback.out_dir = run_dir
        if "test" in self.stage and not any(type(c).__name__ == "EvaluationWriter" for c in callbacks):
            callbacks.append(_evaluation_writer(run_dir, options.evaluation))
        kwargs["callbacks"] = callbacks

        if trainer_cfg.get("logger") is None:
            kwargs["logger"] = build_logger(
                options.logger, run_dir, options.experiment, slug(options.variant or "model"),
                os.path.basename(run_dir), options.project, options.tags,
            )
        plugins = trainer_cfg.get("plugins") or []
        plugins = list(plugins) if isinstance(plugins, list | tuple) else [plugins]
        if not any(isinstance(p, CheckpointIO) for p in plugins):
            plugins.append(AtomicCheckpointIO())
        kwargs["plugins"] = plugins
        return super().instantiate_trainer(**kwargs)


# ---------------------------------------------------------------------------------------------- entry point
def _one_line(message: str) -> str:
    """Condense a (jsonargparse) error into one line: the config key, the most specific reason, the given value."""
    text = str(message)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return text
    key = re.search(r'Parser key "([^"]+)"', text)
    if not key:
        return " ".join(lines[:2]) if len(lines) > 1 and lines[0].endswith(":") else lines[0]
    reasons: list[str] = []
    for i, line in enumerate(lines):
        if line.startswith("Problem with given class_path") and i + 1 < len(lines):
            reasons.append(f"{line.rstrip(':')}: {lines[i + 1]}")
        elif line.startswith("- ") and "Does not validate against" not in line and "Problem with" not in line:
            reasons.append(line[2:])
        elif line.startswith(("Key ", "No action for key", "Unexpected", "Expected")):
            reasons.append(line)
    given = re.search(r"Given value: (.*)", text)
    reason = "; ".join(dict.fromkeys(reasons)) or lines[-1]
    suffix = f" (given: {given.group(1)[:120]})" if given else ""
    return f"config key '{key.group(1)}': {reason}{suffix}"


# Errors that mean "fix your input" (a config value, a path, a checkpoint); ValueError covers the constructors'
# argument checks (data module, model, losses). The type name is printed so a genuine bug still stands out.
USER_ERRORS: tuple[type[BaseException], ...] = (CLIInputError, FileNotFoundError, NotADirectoryError,
                                                 NonFiniteLossError, ValueError)


def ignore_explicit_args_warning() -> None:
    """The suite always hands LightningCLI its argv explicitly (after expanding ``defaults:``); Lightning would warn
    each time that the process's own sys.argv (e.g. a sweep's or pytest's) is not used."""
    import warnings

    warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended")


def run_cli(argv: list[str]) -> int:
    """Run the CLI on ``argv`` (e.g. ``["fit", "--config", "x.yaml"]``); returns the exit status.

    Bad input (unknown key, wrong class_path, missing file or checkpoint, empty data folder, non-finite loss)
    prints one line ``inpaint: error: …`` and returns 2; set INPAINT_DEBUG=1 for the full traceback.
    """
    from jsonargparse import ArgumentError

    ignore_explicit_args_warning()
    try:
        InpaintCLI(args=expand_defaults(list(argv)), parser_kwargs={"exit_on_error": False})
    except SystemExit as exit_:  # --help, --print_config
        return int(exit_.code or 0) if not isinstance(exit_.code, str) else 1
    except ArgumentError as err:
        if os.environ.get(DEBUG_ENV):
            raise
        print(f"inpaint: error: {_one_line(str(err))}", file=sys.stderr)
        return 2
    except RuntimeError as err:
        if "Error(s) in loading state_dict" not in str(err) or os.environ.get(DEBUG_ENV):
            raise
        details = [line.strip() for line in str(err).splitlines()[1:] if line.strip()]
        print(f"inpaint: error: the checkpoint does not fit the configured model (was it trained with another "
              f"config? use the run's config.yaml): {details[0][:300] if details else ''}", file=sys.stderr)
        return 2
    except USER_ERRORS as err:
        if os.environ.get(DEBUG_ENV):
            raise
        kind = "" if isinstance(err, CLIInputError) else f"{type(err).__name__}: "
        print(f"inpaint: error: {kind}{_one_line(str(err))} (INPAINT_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 2
    return 0
