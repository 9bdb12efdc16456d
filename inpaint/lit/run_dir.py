"""Where a run lives: ``<root>/<experiment>/<variant>/<version>/`` holding config.yaml, checkpoints/, images/, logs.

The version is chosen once per run and shared by all its processes:

1. ``run.dir`` (an explicit folder, used by the sweeps) or ``run.version`` given → used as is;
2. a DDP child process started by Lightning inherits the parent's choice through ``INPAINT_RUN_DIR``;
3. under SLURM the version is ``slurm-<job id>`` so a requeued job finds its own folder again;
4. ``--ckpt_path last`` without a version → the newest existing version folder (resume where you left off);
5. otherwise a new ``version_<N>``, claimed with an atomic ``mkdir`` so parallel runs never share a folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Literal

from inpaint.lit.evaluation import EvaluationOptions
from inpaint.naming import slug

RUN_DIR_ENV = "INPAINT_RUN_DIR"
LoggerKind = Literal["wandb", "tensorboard", "csv", "none"]


@dataclass
class RunOptions:
    """The ``run:`` section of a config.

    Args:
        root: folder that holds all runs.
        experiment: experiment name (first folder level, W&B group prefix).
        variant: second folder level; default: the generator's ``variant`` argument (slugged) or its class name.
        version: third level; default: chosen automatically (see module docstring).
        dir: the complete run folder, overriding root/experiment/variant/version (used by sweeps).
        logger: ``wandb`` (offline unless WANDB_MODE=online), ``tensorboard``, ``csv`` or ``none``; ignored
            when ``trainer.logger`` is set explicitly.
        project: W&B project name.
        checkpoint_every_n_steps: full checkpoint every this many optimisation steps (plus one at epoch end).
        keep_step_checkpoints: how many periodic checkpoints to keep (-1: all).
        keep_epoch_checkpoints: how many epoch-end checkpoints to keep (-1: all).
        image_grid_samples: rows of the validation image grid (0 disables it).
        num_threads: ``torch.set_num_threads`` for CPU runs (None: leave torch's default).
        audit: write per-rank sample ids and weight digests to ``audit/`` at the end of fit (DDP checks).
        evaluation: options of the evaluation writer added for ``test`` (e.g. ``--run.evaluation.raw_fid=false``);
            a writer listed in ``trainer.callbacks`` is used as configured instead.
    """

    root: str = "runs"
    experiment: str = "default"
    variant: str | None = None
    version: str | None = None
    dir: str | None = None
    logger: LoggerKind = "wandb"
    project: str = "inpaint"
    checkpoint_every_n_steps: int = 500
    keep_step_checkpoints: int = 2
    keep_epoch_checkpoints: int = 1
    image_grid_samples: int = 4
    num_threads: int | None = None
    audit: bool = False
    tags: list[str] = field(default_factory=list)
    evaluation: EvaluationOptions = field(default_factory=EvaluationOptions)


def _numbered_versions(folder: str) -> list[int]:
    if not os.path.isdir(folder):
        return []
    found = []
    for name in os.listdir(folder):
        match = re.fullmatch(r"version_(\d+)", name)
        if match:
            found.append(int(match.group(1)))
    return sorted(found)


def latest_version_dir(parent: str) -> str | None:
    """The most recently modified version folder under ``parent`` that holds a checkpoints/ folder."""
    if not os.path.isdir(parent):
        return None
    candidates = [os.path.join(parent, n) for n in os.listdir(parent)]
    candidates = [c for c in candidates if os.path.isdir(os.path.join(c, "checkpoints"))]
    if not candidates:
        return None
    return max(candidates, key=lambda c: os.path.getmtime(os.path.join(c, "checkpoints")))


def claim_new_version(parent: str) -> str:
    """Create and return ``parent/version_<N>`` with the next free N (atomic mkdir, safe under parallel runs)."""
    os.makedirs(parent, exist_ok=True)
    number = (max(_numbered_versions(parent)) + 1) if _numbered_versions(parent) else 0
    while True:
        path = os.path.join(parent, f"version_{number}")
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            number += 1


def slurm_version() -> str | None:
    """``slurm-<job>`` (``slurm-<array job>_<task>`` for arrays) inside a SLURM allocation, else None."""
    array_job, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    if array_job and task:
        return f"slurm-{array_job}_{task}"
    job = os.environ.get("SLURM_JOB_ID")
    return f"slurm-{job}" if job else None


def is_launched_child() -> bool:
    """True in a worker process that Lightning's DDP launcher started (it sets LOCAL_RANK ≥ 1 for them)."""
    return os.environ.get("LOCAL_RANK", "0") not in ("", "0") and RUN_DIR_ENV in os.environ


def resolve_run_dir(options: RunOptions, variant: str, resume: bool) -> str:
    """Pick (and create) the run folder following the rules of the module docstring."""
    if options.dir:
        path = options.dir
    elif is_launched_child():
        path = os.environ[RUN_DIR_ENV]
    else:
        parent = os.path.join(options.root, slug(options.experiment), slug(variant))
        version = options.version or slurm_version()
        if version:
            path = os.path.join(parent, version)
        elif resume and latest_version_dir(parent):
            path = latest_version_dir(parent)  # type: ignore[assignment]
        else:
            path = claim_new_version(parent)
    os.makedirs(path, exist_ok=True)
    return os.path.abspath(path)
