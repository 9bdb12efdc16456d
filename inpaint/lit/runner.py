"""Run one experiment in-process through the same LightningCLI machinery as ``inpaint fit`` (for sweeps).

Example::

    from inpaint.lit.runner import run_experiment

    result = run_experiment(
        ["experiments/runs/smoke_cpu.yaml"],
        {"model.generator.init_args.variant": "Global->Global", "trainer.max_steps": 200, "seed_everything": 3},
        run_dir="results/ablation/trial-0007",
    )
    result["metrics"]["val/psnr"], result["ckpt_path"]

Config files are composed exactly like ``--config`` on the command line (``defaults:`` lists and
``${location.*}`` references included). ``overrides`` are dotted keys (a dict, values given as Python objects) or
ready-made ``--key=value`` strings. ``run_dir`` becomes ``run.dir``: config.yaml, checkpoints/, images/, logs and
summary.json land there. The test stage evaluates the weights in memory at the end of fit (the EMA copy when
enabled); ``stage="test"`` alone evaluates the newest intact checkpoint of ``run_dir``.

A model with nothing to train (no trainable parameters: the classical OpenCV inpainters) needs no checkpoint:
``"fit+test"`` skips fit and runs the test stage (and says so in one line), ``"test"`` scores it as configured, and
``"fit"`` alone raises :class:`~inpaint.errors.NothingToTrainError`.

Distributed strategies that re-launch the script (``ddp`` with several devices) do not work from an arbitrary
Python driver: use the command line (or SLURM's ``srun``) for those and single-device runs here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any, Literal

import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.utilities.rank_zero import rank_zero_info

Stage = Literal["fit+test", "fit", "test"]


def overrides_to_args(overrides: dict[str, Any] | Sequence[str] | None) -> list[str]:
    """``{"a.b": 1, "c": [1, 2]}`` → ``["--a.b=1", "--c=[1, 2]"]``; a list of strings passes through."""
    if overrides is None:
        return []
    if isinstance(overrides, dict):
        args = []
        for key, value in overrides.items():
            text = value if isinstance(value, str) else json.dumps(value)
            args.append(f"--{key.lstrip('-')}={text}")
        return args
    return [str(item) for item in overrides]


def _scalar_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key, value in metrics.items():
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            out[key] = float(value)
        elif isinstance(value, int | float):
            out[key] = float(value)
    return out


def run_experiment(
    config_files: list[str],
    overrides: dict[str, Any] | list[str] | None,
    run_dir: str,
    stage: Stage = "fit+test",
    callbacks: list[Callback] | None = None,
) -> dict[str, Any]:
    """Fit and/or test one configuration in this process; returns ``{"run_dir", "ckpt_path", "metrics", "config"}``.

    ``metrics`` merges ``trainer.callback_metrics`` after fit (e.g. ``val/psnr``), the test results (``test/*``)
    and, when the evaluation writer produced one, the contents of ``<run_dir>/metrics.json`` under ``"test"``.
    ``config`` is the resolved configuration as a plain dict. ``callbacks`` (e.g. an Optuna pruning callback) are
    added to the trainer.
    """
    from inpaint.errors import NothingToTrainError
    from inpaint.lit.checkpointing import find_resumable_checkpoint
    from inpaint.lit.cli import InpaintCLI, expand_defaults, ignore_explicit_args_warning
    from inpaint.lit.module import nothing_to_train

    if stage not in ("fit+test", "fit", "test"):
        raise ValueError(f"stage must be 'fit+test', 'fit' or 'test', got {stage!r}")
    args: list[str] = []
    for path in config_files:
        args += ["--config", path]
    args = expand_defaults(args) + overrides_to_args(overrides) + [f"--run.dir={run_dir}"]
    ignore_explicit_args_warning()
    cli = InpaintCLI(
        args=args,
        run=False,
        stage=stage,
        trainer_defaults={"callbacks": list(callbacks or [])},
        parser_kwargs={"exit_on_error": False},
    )
    trainer, model, datamodule = cli.trainer, cli.model, cli.datamodule
    metrics: dict[str, Any] = {}
    ckpt_path: str | None = None
    untrainable = nothing_to_train(model.generator)
    if untrainable is not None and stage == "fit":
        raise NothingToTrainError(untrainable)
    if untrainable is not None and stage == "fit+test":
        name = getattr(model.generator, "model_name", type(model.generator).__name__)
        rank_zero_info(f"{name} has no trainable parameters: fit skipped, running the test stage only")
    if "fit" in stage and untrainable is None:
        trainer.fit(model, datamodule=datamodule)
        metrics.update(_scalar_metrics(dict(trainer.callback_metrics)))
        ckpt_path = find_resumable_checkpoint(os.path.join(cli.run_dir or run_dir, "checkpoints"))
        if trainer.interrupted:
            return {"run_dir": cli.run_dir, "ckpt_path": ckpt_path, "metrics": metrics, "config": resolved_config(cli)}
    if "test" in stage:
        test_ckpt = None
        if stage == "test" and untrainable is None:
            test_ckpt = find_resumable_checkpoint(os.path.join(cli.run_dir or run_dir, "checkpoints"))
            if test_ckpt is None:
                raise FileNotFoundError(f"stage='test': no intact checkpoint in {run_dir}/checkpoints")
            ckpt_path = test_ckpt
        results = trainer.test(model, datamodule=datamodule, ckpt_path=test_ckpt, verbose=False)
        for result in results:
            metrics.update(_scalar_metrics(result))
        metrics_file = os.path.join(cli.run_dir or run_dir, "metrics.json")
        if os.path.isfile(metrics_file):
            with open(metrics_file) as handle:
                metrics["test"] = json.load(handle)
    return {"run_dir": cli.run_dir, "ckpt_path": ckpt_path, "metrics": metrics, "config": resolved_config(cli)}


def resolved_config(cli: Any) -> dict[str, Any]:
    """The CLI's resolved configuration as a plain dict (what a run returns as ``config`` and a sweep trial stores)."""
    import yaml

    text = cli.parser.dump(cli.config, skip_none=False, skip_validation=True)
    return yaml.safe_load(text)
