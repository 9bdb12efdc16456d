"""``inpaint fit|validate|test|predict --config …`` (and the ``lightning`` console script): the suite's LightningCLI.

This module is the Lightning wiring only; the parts that are not Lightning live next to it:

* config composition (``defaults:`` lists, ``${location.<key>}`` paths) — :mod:`inpaint.config.compose`;
* which errors are reported as one line — :mod:`inpaint.lit.cli_errors`;
* the Trainer annotation fix for count-or-fraction arguments — :mod:`inpaint.lit.trainer_annotations`.

On top of Lightning's CLI it adds the ``run:`` section (where the run lives, how it is logged and checkpointed:
:class:`~inpaint.lit.run_dir.RunOptions`), the ``location:`` and ``defaults:`` keys, the standard callbacks (atomic
periodic + epoch-end checkpoints, validation image grids, rich progress bar, end-of-fit summary, the evaluation
writer for ``test``) and the chosen logger, all inside the run folder, runs ``trainer.precision: bf16-mixed`` in
``32-true`` on a CPU without native bf16 (one line; :mod:`inpaint.lit.precision`), and resolves ``--ckpt_path
last`` to the newest *intact* checkpoint of the run. A ``--ckpt_path`` file is checked against its SHA-256
(:mod:`inpaint.lit.integrity`) before anything reads it, and a generator configured differently from the one the
checkpoint holds is refused (Lightning would otherwise replace the configured model by the checkpoint's silently).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import torch
from jsonargparse import Namespace
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import Callback, ProgressBar, RichProgressBar
from lightning.pytorch.cli import LightningCLI, SaveConfigCallback
from lightning.pytorch.plugins.io import CheckpointIO
from lightning.pytorch.utilities.exceptions import SIGTERMException
from lightning.pytorch.utilities.rank_zero import rank_zero_info, rank_zero_warn

from inpaint.config.compose import expand_defaults, preset_deviations, preset_names, substitute_locations
from inpaint.errors import MissingPathError, NothingToTrainError, UserInputError
from inpaint.lit.callbacks import SIGTERM_EXIT, CheckpointOnSigterm, RankAudit, RunSummary, ValidationImageGrid
from inpaint.lit.checkpointing import AtomicCheckpointIO, checkpoint_callbacks, find_resumable_checkpoint
from inpaint.lit.cli_errors import DEBUG_ENV, user_error_message
from inpaint.lit.evaluation import EvaluationOptions, EvaluationWriter
from inpaint.lit.integrity import verify_checksum
from inpaint.lit.loggers import build_logger
from inpaint.lit.module import InpaintingGAN, nothing_to_train
from inpaint.lit.precision import resolve_precision, trainer_device
from inpaint.lit.run_dir import RUN_DIR_ENV, RunOptions, is_launched_child, resolve_run_dir
from inpaint.lit.trainer_annotations import prefer_int_for_count_or_fraction
from inpaint.naming import slug

#: Kept for callers that catch the CLI's input errors by this name; it is the library-wide type.
CLIInputError = UserInputError
#: ``--ckpt_path`` values that Lightning resolves itself (not file names)
SPECIAL_CKPT_PATHS = ("last", "best", "hpc", "registry")


class CheckpointConfigError(UserInputError):
    """The configured generator is not the one the ``--ckpt_path`` checkpoint holds."""


class RunFolderInUseError(UserInputError):
    """A new ``fit`` (no ``--ckpt_path``) aimed at a run folder that already holds another run's config."""


def _plain(value: Any) -> Any:
    """A config value as plain, comparable data (Namespaces → dicts, tuples → lists)."""
    if isinstance(value, Namespace):
        value = value.as_dict()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def describe_generator_difference(configured: dict[str, Any], stored: dict[str, Any]) -> str:
    """``class_path`` / ``init_args`` entries that differ, as ``key: configured vs checkpoint``."""
    parts = []
    if configured.get("class_path") != stored.get("class_path"):
        parts.append(f"class_path: {configured.get('class_path')!r} vs {stored.get('class_path')!r}")
    mine, theirs = configured.get("init_args") or {}, stored.get("init_args") or {}
    for key in sorted(set(mine) | set(theirs)):
        if mine.get(key) != theirs.get(key):
            parts.append(f"{key}: {mine.get(key)!r} vs {theirs.get(key)!r}")
    return "; ".join(parts) or "their configs differ"
LOCATION_HINT = "experiments/location.yaml (passed with --config)"


# ---------------------------------------------------------------------------------------------- callbacks
class RunConfigSaver(SaveConfigCallback):
    """Save the resolved config as ``<run dir>/config.yaml`` (rank 0; rewritten on resume — a new fit into a folder
    that already holds one is refused before anything is written, :class:`RunFolderInUseError`).

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
    if isinstance(options, Namespace):
        options = options.as_dict()
    if isinstance(options, dict):
        options = EvaluationOptions(**options)
    return EvaluationWriter.from_options(options or EvaluationOptions(), out_dir=run_dir)


# ---------------------------------------------------------------------------------------------- the CLI
class InpaintCLI(LightningCLI):
    """LightningCLI with run folders, location overlays, crash-safe checkpoints and the suite's callbacks.

    ``stage`` is only needed with ``run=False`` (programmatic use): ``"fit"``, ``"test"`` or ``"fit+test"``.
    """

    def __init__(self, *args: Any, stage: str | None = None, **kwargs: Any) -> None:
        self._stage_override = stage
        self._configured_generator: dict[str, Any] | None = None
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
        parser.add_argument(
            "--preset", type=str | None, default=None,
            help=f"run preset applied whole ({', '.join(preset_names())}): generator preset, loss preset, LR "
                 "schedule, smoothing (inpaint/config/presets/<name>.yaml)",
        )
        parser.add_argument(
            "--preset_overrides", type=dict[str, str] | None, default=None,
            help="written by the CLI, not read: the preset keys this run sets differently ('preset -> run')",
        )

    def _active(self, config: Namespace) -> Namespace:
        return config[self.subcommand] if self.subcommand else config

    def parse_arguments(self, parser, args) -> None:
        """Parse as Lightning does, then, before Lightning reads a ``--ckpt_path`` file's hyper-parameters into the
        config: verify the file's checksum and remember the generator the configuration asks for."""
        super().parse_arguments(parser, args)
        subcommand = self.config.get("subcommand")
        active = self.config[subcommand] if subcommand else self.config
        ckpt_path = active.get("ckpt_path")
        if not ckpt_path or ckpt_path in SPECIAL_CKPT_PATHS or not os.path.isfile(ckpt_path):
            return
        verify_checksum(ckpt_path)
        generator = _plain(active.get("model.generator")) if active.get("model") is not None else None
        self._configured_generator = generator if isinstance(generator, dict) else None

    def _check_generator_matches_checkpoint(self, cfg: Namespace) -> None:
        """Lightning replaces the configured model by the checkpoint's hyper-parameters; refuse when they differ."""
        configured, stored = self._configured_generator, _plain(cfg.get("model.generator"))
        if configured is None or not isinstance(stored, dict) or configured == stored:
            return
        raise CheckpointConfigError(
            f"--ckpt_path {cfg.get('ckpt_path')} holds another generator than the one configured "
            f"(configured vs checkpoint: {describe_generator_difference(configured, stored)}); drop the model options "
            "to use the checkpoint's own (its run's config.yaml), or pick a checkpoint of the configured model"
        )

    def before_instantiate_classes(self) -> None:
        cfg = self._active(self.config)
        options = RunOptions(**cfg.run.as_dict()) if isinstance(cfg.run, Namespace) else cfg.run
        if options.num_threads:
            torch.set_num_threads(options.num_threads)
        self._record_preset(cfg)
        location = dict(cfg.get("location") or {})
        for key in ("model", "data", "trainer"):
            if cfg.get(key) is not None:
                cfg[key] = substitute_locations(cfg[key], location, LOCATION_HINT)

        ckpt_path = cfg.get("ckpt_path")
        resume = ckpt_path == "last"
        if ckpt_path and not resume and ckpt_path not in SPECIAL_CKPT_PATHS:
            if not os.path.isfile(ckpt_path):
                raise MissingPathError(f"checkpoint not found: {ckpt_path} (from --ckpt_path); check the path")
            self._check_generator_matches_checkpoint(cfg)
            parent = os.path.dirname(os.path.abspath(ckpt_path))
            if os.path.basename(parent) == "checkpoints" and not options.dir and not options.version:
                options.dir = os.path.dirname(parent)  # evaluate inside the run that produced it

        variant = options.variant or self._generator_name(cfg)
        self.run_dir = resolve_run_dir(options, variant, resume=resume)
        existing = os.path.join(self.run_dir, "config.yaml")
        if "fit" in self.stage and not ckpt_path and not is_launched_child() and os.path.isfile(existing):
            raise RunFolderInUseError(
                f"run folder {self.run_dir} already holds a run ({existing}); a new fit would overwrite its config "
                "and mix its checkpoints: resume it with --ckpt_path last, or start a new run without "
                "run.version / run.dir (a new version folder is claimed) or with another one"
            )
        options.variant = variant
        self.run_options = options
        os.environ[RUN_DIR_ENV] = self.run_dir  # DDP worker processes started by Lightning inherit it
        cfg.trainer.default_root_dir = self.run_dir

        if resume:
            found = find_resumable_checkpoint(os.path.join(self.run_dir, "checkpoints"))
            if found is None:
                if self.stage != "fit":
                    raise MissingPathError(f"--ckpt_path last: no intact checkpoint in {self.run_dir}/checkpoints")
                rank_zero_warn(f"--ckpt_path last: nothing to resume in {self.run_dir}; starting from scratch")
            else:
                rank_zero_info(f"resuming from {found}")
            cfg.ckpt_path = found

    @staticmethod
    def _record_preset(cfg: Namespace) -> None:
        """Record in the run's config which preset keys it overrides; a declared preset that is overridden warns.

        Without ``preset:``, a TSGL generator's own ``preset`` is checked against the run preset of that name, so
        a generator preset without its loss/schedule/smoothing (a silent hybrid) is recorded as well."""
        declared = cfg.get("preset")
        plain = {key: cfg[key].as_dict() if isinstance(cfg.get(key), Namespace) else cfg.get(key)
                 for key in ("model", "data")}
        name = declared or (plain["model"] or {}).get("generator", {}).get("init_args", {}).get("preset")
        if not isinstance(name, str) or name not in preset_names():
            return
        deviations = preset_deviations(name, plain)
        cfg.preset_overrides = {key: f"{want!r} -> {got!r}" for key, (want, got) in deviations.items()} or None
        if deviations:
            what = ", ".join(f"{key}={got!r}" for key, (_, got) in deviations.items())
            message = f"{'preset' if declared else 'generator preset'} {name!r} is not applied whole: {what}"
            (rank_zero_warn if declared else rank_zero_info)(f"{message} (recorded as preset_overrides)")

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

    def before_fit(self) -> None:
        """``inpaint fit`` of a model with nothing to train (the classical inpainters) is refused in one line, before
        the run folder receives a config or checkpoint."""
        reason = nothing_to_train(self.model.generator) if isinstance(self.model, InpaintingGAN) else None
        if reason is not None:
            raise NothingToTrainError(reason)

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
            callbacks.append(CheckpointOnSigterm(os.path.join(run_dir, "checkpoints")))
        if options.image_grid_samples > 0:
            callbacks.append(ValidationImageGrid(max_images=options.image_grid_samples))
        if trainer_cfg.get("enable_progress_bar", True) is not False and not any(
            isinstance(c, ProgressBar) for c in callbacks
        ):
            callbacks.append(RichProgressBar())
        callbacks.append(RunSummary())
        if options.audit:
            callbacks.append(RankAudit())
        writers = [c for c in callbacks if isinstance(c, EvaluationWriter)]
        for writer in writers:  # a writer configured in trainer.callbacks writes into the run folder too
            if writer.out_dir is None:
                writer.out_dir = run_dir
        if "test" in self.stage and not writers:
            callbacks.append(_evaluation_writer(run_dir, options.evaluation))
        kwargs["callbacks"] = callbacks

        if trainer_cfg.get("logger") is None:
            kwargs["logger"] = build_logger(
                options.logger, run_dir, options.experiment, slug(options.variant or "model"),
                os.path.basename(run_dir), options.project, options.tags,
            )
        # bf16-mixed only where bf16 is native: elsewhere on a CPU one line, and 32-true (inpaint.lit.precision);
        # the saved config keeps what was asked, the run's summary and cost record what ran
        precision = trainer_cfg.get("precision")
        resolved = resolve_precision(precision, trainer_device(trainer_cfg.get("accelerator")))
        if resolved != precision:
            kwargs["precision"] = resolved
        plugins = trainer_cfg.get("plugins") or []
        plugins = list(plugins) if isinstance(plugins, list | tuple) else [plugins]
        if not any(isinstance(p, CheckpointIO) for p in plugins):
            plugins.append(AtomicCheckpointIO())
        kwargs["plugins"] = plugins
        return super().instantiate_trainer(**kwargs)


# ---------------------------------------------------------------------------------------------- entry point
def ignore_explicit_args_warning() -> None:
    """The suite always hands LightningCLI its argv explicitly (after expanding ``defaults:``); Lightning would warn
    each time that the process's own sys.argv (e.g. a sweep's or pytest's) is not used."""
    import warnings

    warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended")


def run_cli(argv: list[str]) -> int:
    """Run the CLI on ``argv`` (e.g. ``["fit", "--config", "x.yaml"]``); returns the exit status.

    Bad input (unknown key, wrong class_path, missing file or checkpoint, empty data folder, non-finite loss)
    prints one line ``inpaint: error: …`` and returns 2 (:mod:`inpaint.lit.cli_errors`); set INPAINT_DEBUG=1 for
    the full traceback. Any other exception is a bug and propagates with its traceback.
    """
    ignore_explicit_args_warning()
    try:
        InpaintCLI(args=expand_defaults(list(argv)), parser_kwargs={"exit_on_error": False})
    except SIGTERMException:  # a SystemExit without a code: the checkpoint and message come from CheckpointOnSigterm
        return SIGTERM_EXIT
    except SystemExit as exit_:  # --help, --print_config
        return int(exit_.code or 0) if not isinstance(exit_.code, str) else 1
    except Exception as err:
        message = user_error_message(err)
        if message is None or os.environ.get(DEBUG_ENV):
            raise
        print(f"inpaint: error: {message}", file=sys.stderr)
        return 2
    return 0
