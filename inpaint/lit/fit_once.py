"""Train a config for a fixed number of steps into a run folder, once: ``inpaint fit`` as a reusable step of a tool.

``fit_once(configs, steps, run_dir)`` returns the checkpoint at ``steps``. A run folder whose newest intact checkpoint
already reached ``steps`` is reused without training; one with an earlier checkpoint (a killed run, or a smaller
budget before) resumes from it, exactly as ``inpaint fit … --ckpt_path <it>`` would. The fit is the LightningCLI's
own (same composition, callbacks and checkpoints as the command line); its final step is always checkpointed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch

from inpaint.lit.checkpointing import find_resumable_checkpoint


def checkpoint_step(path: str | Path) -> int:
    """The global step a Lightning checkpoint was saved at (0 when it records none)."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    return int(ckpt.get("global_step") or 0)


def finished_checkpoint(run_dir: str | Path, steps: int) -> Path | None:
    """The run's newest intact checkpoint when it reached ``steps``, else None."""
    found = find_resumable_checkpoint(os.path.join(run_dir, "checkpoints"))
    return Path(found) if found is not None and checkpoint_step(found) >= steps else None


def fit_once(config_files: Sequence[str], steps: int, run_dir: str | Path, extra_args: Sequence[str] = ()) -> Path:
    """The checkpoint of ``config_files`` trained for ``steps`` steps in ``run_dir`` (module doc); ``extra_args`` are
    more ``--key=value`` options of ``inpaint fit``. Errors are the CLI's own (bad config: a parser or user error)."""
    from inpaint.lit.cli import InpaintCLI, expand_defaults, ignore_explicit_args_warning

    if steps < 1:
        raise ValueError(f"fit_once: steps must be at least 1, got {steps}")
    done = finished_checkpoint(run_dir, steps)
    if done is not None:
        return done
    resume = find_resumable_checkpoint(os.path.join(run_dir, "checkpoints"))
    args = ["fit"]
    for path in config_files:
        args += ["--config", str(path)]
    args += [*extra_args, f"--trainer.max_steps={steps}", f"--run.checkpoint_every_n_steps={steps}",
             f"--run.dir={run_dir}"]
    if resume is not None:
        args.append(f"--ckpt_path={resume}")
    ignore_explicit_args_warning()
    InpaintCLI(args=expand_defaults(args), parser_kwargs={"exit_on_error": False})
    done = finished_checkpoint(run_dir, steps)
    if done is None:
        raise RuntimeError(f"fit of {', '.join(map(str, config_files))} in {run_dir} ended before step {steps} "
                           "(no checkpoint at that step)")
    return done


__all__ = ["checkpoint_step", "finished_checkpoint", "fit_once"]
