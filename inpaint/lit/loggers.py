"""The logger chosen by ``run.logger``: W&B offline (default), TensorBoard, CSV or none, all inside the run folder."""

from __future__ import annotations

import os

from lightning.pytorch.loggers import CSVLogger, Logger, TensorBoardLogger, WandbLogger


def build_logger(
    kind: str, run_dir: str, experiment: str, variant: str, version: str, project: str = "inpaint",
    tags: list[str] | None = None,
) -> Logger | bool:
    """A logger writing under ``run_dir`` (``wandb/``, ``logs/tensorboard`` or ``logs/csv``); ``False`` for none.

    W&B runs are grouped by ``<experiment>/<variant>`` and named ``<experiment>/<variant>/<version>``. They are
    offline unless ``WANDB_MODE=online`` is set, so no account or network is needed; ``wandb sync`` uploads later.
    Lightning creates the W&B run on rank 0 only, so a DDP job makes one run, not one per process.
    """
    if kind == "wandb":
        return WandbLogger(
            save_dir=run_dir,
            project=project,
            group=f"{experiment}/{variant}",
            name=f"{experiment}/{variant}/{version}",
            tags=[experiment, variant, *(tags or [])],
            offline=os.environ.get("WANDB_MODE", "offline") != "online",
        )
    if kind == "tensorboard":
        return TensorBoardLogger(save_dir=run_dir, name="logs", version="tensorboard", default_hp_metric=False)
    if kind == "csv":
        return CSVLogger(save_dir=run_dir, name="logs", version="csv")
    if kind == "none":
        return False
    raise ValueError(f"run.logger must be one of wandb, tensorboard, csv, none; got {kind!r}")
