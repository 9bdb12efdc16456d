"""Every validation: a picture grid saved as PNG in the run directory and sent to the active logger.

Columns: masked input | edge prior | smoothed prior | output | composite | ground truth (one row per sample).
The priors are shown masked, as the generator sees them; holes of the masked input are drawn white.
"""

from __future__ import annotations

import os
from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from PIL import Image

from inpaint.conventions import is_known, to_uint8

COLUMNS = ("masked input", "edge prior", "smoothed prior", "output", "composite", "ground truth")


def _as_rgb(tensor: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
    """B×C×H×W in [-1, 1] (C = 1 or 3) → B×3×H×W; a missing prior becomes mid-grey."""
    if tensor is None:
        return torch.zeros_like(like)
    tensor = tensor.float()
    return tensor.expand(-1, 3, -1, -1) if tensor.shape[1] == 1 else tensor


def make_grid_rows(batch: dict[str, Any], result: dict[str, Any], max_images: int) -> torch.Tensor:
    """The grid as a uint8 H'×W'×3 tensor: rows are samples, columns are :data:`COLUMNS`."""
    n = min(max_images, result["target"].shape[0])
    target = result["target"][:n].float().cpu()
    mask = result["mask"][:n].float().cpu()
    white = torch.ones_like(target)
    masked_input = torch.where(is_known(mask), target, white)

    def prior(key: str, to_signed: bool, hole_fill: float) -> torch.Tensor:
        value = batch.get(key)
        if not isinstance(value, torch.Tensor):
            return _as_rgb(None, target)
        value = _as_rgb(value[:n].float().cpu(), target)
        value = value * 2.0 - 1.0 if to_signed else value  # {0,1} edges shown on the [-1,1] scale
        return torch.where(is_known(mask).expand_as(value), value, torch.full_like(value, hole_fill))

    columns = [
        masked_input,
        prior("edge" if "structure" not in batch else "structure", to_signed=True, hole_fill=-1.0),  # Table VIII
        prior("smooth", to_signed=False, hole_fill=1.0),
        result["output"][:n].float().cpu(),
        result["composite"][:n].float().cpu(),
        target,
    ]
    tiles = torch.stack([to_uint8(c) for c in columns], dim=1)  # n × 6 × 3 × H × W
    n_rows, n_cols, _, height, width = tiles.shape
    return tiles.permute(0, 3, 1, 4, 2).reshape(n_rows * height, n_cols * width, 3)


class ValidationImageGrid(Callback):
    """Save ``images/val-step<N>.png`` for the first validation batch and log it to the loggers (rank 0 only).

    Args:
        max_images: number of samples (rows) in the grid.
        dirname: folder inside the run directory (``trainer.default_root_dir``).
    """

    def __init__(self, max_images: int = 4, dirname: str = "images") -> None:
        self.max_images = max_images
        self.dirname = dirname
        self.last_path: str | None = None

    def on_validation_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if batch_idx != 0 or dataloader_idx != 0 or trainer.sanity_checking or not trainer.is_global_zero:
            return
        if not isinstance(outputs, dict) or "composite" not in outputs:
            return
        grid = make_grid_rows(batch, outputs, self.max_images).numpy()
        folder = os.path.join(trainer.default_root_dir, self.dirname)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"val-step{trainer.global_step:08d}.png")
        Image.fromarray(grid).save(path)
        self.last_path = path
        caption = " | ".join(COLUMNS)
        for logger in trainer.loggers:
            _log_image(logger, "val/grid", grid, caption, trainer.global_step)


def _log_image(logger: Any, key: str, grid, caption: str, step: int) -> None:
    """Send the grid to W&B or TensorBoard; other loggers (CSV) only get the PNG file."""
    from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger

    if isinstance(logger, WandbLogger):
        logger.log_image(key=key, images=[grid], caption=[caption], step=step)
    elif isinstance(logger, TensorBoardLogger):
        logger.experiment.add_image(key, grid, global_step=step, dataformats="HWC")
