"""Crash-safe checkpoints: atomic writes, periodic + epoch-end callbacks, and choosing a checkpoint to resume from.

A checkpoint is first written to a hidden temporary file in the same folder, flushed to disk, and only then
renamed over its final name (``os.replace`` is atomic on POSIX). A process killed mid-save therefore leaves at
worst a stray ``.*.partial-*`` file, never a truncated ``last.ckpt``. When resuming, every candidate is checked
(a torch checkpoint is a zip archive: its central directory and CRCs must be intact) and the newest intact one
wins, so even a checkpoint truncated by some other means (disk full, copy cut short) is skipped.

Every checkpoint gets a SHA-256 beside it (``X.ckpt.sha256``, :mod:`inpaint.lit.integrity`), written after the
rename and deleted with the checkpoint; resuming skips a candidate whose bytes do not match it, like a truncated one.
A process killed between the two renames leaves the newest checkpoint with its predecessor's checksum: it is then
skipped and the previous intact checkpoint resumes.
"""

from __future__ import annotations

import glob
import os
import warnings
import zipfile
from typing import Any

import torch
from lightning.fabric.utilities.cloud_io import get_filesystem
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO
from lightning.pytorch.utilities.rank_zero import rank_zero_warn

from inpaint.lit.integrity import (
    ChecksumMismatchError,
    file_sha256,
    recorded_checksum,
    remove_checksum,
    write_checksum,
)

PARTIAL_MARKER = ".partial-"

# Lightning warns that, under manual optimisation, a step checkpoint holds the weights *after* that step's update.
# That is exactly what we want: a checkpoint at global step N is the state after N iterations, resumed at N + 1.
warnings.filterwarnings("ignore", message="Using ModelCheckpoint with manual optimization")


class AtomicCheckpointIO(TorchCheckpointIO):
    """``torch.save`` to ``.<name>.partial-<pid>``, fsync, ``os.replace`` onto the final path, then its SHA-256."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError("AtomicCheckpointIO does not take storage_options")
        path = os.fspath(path)
        if not get_filesystem(path).__class__.__name__.startswith("LocalFileSystem"):
            return super().save_checkpoint(checkpoint, path)  # remote stores have their own semantics
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        partial = os.path.join(folder, f".{os.path.basename(path)}{PARTIAL_MARKER}{os.getpid()}")
        try:
            with open(partial, "wb") as handle:
                torch.save(checkpoint, handle)
                handle.flush()
                os.fsync(handle.fileno())
            digest = file_sha256(partial)
            os.replace(partial, path)
        finally:
            if os.path.exists(partial):
                os.remove(partial)
        write_checksum(path, digest)
        _fsync_directory(folder)

    def remove_checkpoint(self, path) -> None:
        super().remove_checkpoint(path)
        if get_filesystem(os.fspath(path)).__class__.__name__.startswith("LocalFileSystem"):
            remove_checksum(path)


def _fsync_directory(folder: str) -> None:
    """Make the rename itself durable (best effort: not every filesystem allows opening a directory)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def is_intact_checkpoint(path: str) -> bool:
    """True when ``path`` is a complete torch zip archive (central directory present, every member's CRC ok)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return False


def checkpoint_candidates(checkpoint_dir: str) -> list[str]:
    """All visible ``*.ckpt`` files of a folder, newest first (``last*.ckpt`` first among equally new files)."""
    paths = [p for p in glob.glob(os.path.join(checkpoint_dir, "*.ckpt")) if not os.path.basename(p).startswith(".")]
    return sorted(paths, key=lambda p: (os.path.getmtime(p), os.path.basename(p).startswith("last")), reverse=True)


def matches_checksum(path: str) -> bool:
    """False when ``path`` has a checksum file that its bytes do not match (True without one: older files)."""
    try:
        expected = recorded_checksum(path)
    except ChecksumMismatchError:
        return False
    return expected is None or file_sha256(path) == expected


def find_resumable_checkpoint(checkpoint_dir: str) -> str | None:
    """The newest intact checkpoint in ``checkpoint_dir`` (None when there is none); warns about damaged ones.

    Intact: a complete zip archive and, when it has a checksum file, bytes that match it."""
    for path in checkpoint_candidates(checkpoint_dir):
        if is_intact_checkpoint(path) and matches_checksum(path):
            return path
        rank_zero_warn(f"skipping damaged checkpoint {path} (truncated, corrupt or not matching its checksum); "
                       "trying an older one")
    return None


def checkpoint_callbacks(
    dirpath: str, every_n_train_steps: int, keep_step_checkpoints: int = 2, keep_epoch_checkpoints: int = 1
) -> list[ModelCheckpoint]:
    """Two ``ModelCheckpoint`` s: ``step########.ckpt`` every N steps and ``epoch####.ckpt`` at each epoch end.

    The periodic one also refreshes ``last.ckpt`` (a full copy, not a symlink: replacing a symlink is not atomic;
    two callbacks writing "last" would make Lightning invent ``last-v1.ckpt``). ``--ckpt_path last`` resolves to the
    newest intact file of any kind (:func:`find_resumable_checkpoint`), so an epoch-end file newer than
    ``last.ckpt`` is still found. The newest ``keep_*`` files of each kind are kept (-1 keeps all).
    """
    if every_n_train_steps < 1:
        raise ValueError(f"run.checkpoint_every_n_steps must be >= 1, got {every_n_train_steps}")
    by_step = ModelCheckpoint(
        dirpath=dirpath, filename="step{step:08d}", auto_insert_metric_name=False, monitor="step", mode="max",
        every_n_train_steps=every_n_train_steps, save_top_k=keep_step_checkpoints, save_last=True,
    )
    by_epoch = ModelCheckpoint(
        dirpath=dirpath, filename="epoch{epoch:04d}", auto_insert_metric_name=False, monitor="epoch", mode="max",
        every_n_epochs=1, save_on_train_epoch_end=True, save_top_k=keep_epoch_checkpoints, save_last=False,
    )
    return [by_step, by_epoch]
