"""Per-rank record of what a (distributed) run did: the sample ids each rank trained on and a digest of its weights.

Written to ``<run dir>/audit/rank<R>.json`` at the end of fit. It answers two DDP questions without a debugger:
did the ranks see different data (the sampler shards), and did they end with identical weights (gradients were
all-reduced)? It also names the process group's backend (``nccl``, ``gloo``; None without one). Parameters and
buffers are digested separately: without SyncBatchNorm (unavailable on CPU) each rank's BatchNorm running statistics
follow its own data after the last step; DDP re-broadcasts rank 0's buffers at every forward and only rank 0 writes
checkpoints, so rank 0's buffers are the run's buffers.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer


def tensor_digest(value: torch.Tensor) -> str:
    """SHA-256 of a tensor's raw bytes."""
    return hashlib.sha256(value.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes()).hexdigest()


def state_digest(state_dict: dict[str, torch.Tensor], names: set[str] | None = None) -> str:
    """SHA-256 over the names and raw bytes of every tensor (or only those in ``names``), in key order."""
    digest = hashlib.sha256()
    for name in sorted(state_dict):
        value = state_dict[name]
        if not isinstance(value, torch.Tensor) or (names is not None and name not in names):
            continue
        digest.update(name.encode())
        digest.update(tensor_digest(value).encode())
    return digest.hexdigest()


class RankAudit(Callback):
    """Collect training sample ids per rank and write them with a weight digest at the end of fit."""

    def __init__(self, dirname: str = "audit") -> None:
        self.dirname = dirname
        self.seen_ids: list[str] = []
        self.process_group_backend: str | None = None

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        # which collective library DDP uses (NCCL on GPUs, gloo on CPUs; scripts/gpu_check.py reads it), read while
        # the process group is certainly up
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            self.process_group_backend = str(torch.distributed.get_backend())

    def on_train_batch_start(self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int) -> None:
        ids = batch.get("id") if isinstance(batch, dict) else None
        if ids is not None:
            self.seen_ids.extend(str(i) for i in ids)

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        folder = os.path.join(trainer.default_root_dir, self.dirname)
        os.makedirs(folder, exist_ok=True)
        state = pl_module.state_dict()
        parameter_names = {name for name, _ in pl_module.named_parameters()}
        record = {
            "global_rank": trainer.global_rank,
            "world_size": trainer.world_size,
            "process_group_backend": self.process_group_backend,
            "global_step": trainer.global_step,
            "seen_ids": self.seen_ids,
            "state_digest": state_digest(state),
            "parameter_digest": state_digest(state, parameter_names),
            "parameter_names": sorted(parameter_names & set(state)),
            "tensor_digests": {name: tensor_digest(value)[:16] for name, value in state.items()},
        }
        with open(os.path.join(folder, f"rank{trainer.global_rank}.json"), "w") as handle:
            json.dump(record, handle, indent=1)
