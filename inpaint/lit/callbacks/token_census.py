"""Count the token masks every masked-attention block sees during the test pass (:mod:`inpaint.analysis.token_masks`),
so a τ study can say where τ could act. Only the main test set's batches are counted (dataloader 0): forwards run by
other callbacks after the test (e.g. :class:`~inpaint.lit.callbacks.TrialCost`'s timing) are not."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer

from inpaint.analysis.token_masks import TokenMaskCensus


class TokenMaskCensusCallback(Callback):
    """:attr:`blocks` after ``trainer.test``: one dict per attention block (empty for models without one)."""

    def __init__(self) -> None:
        self._census: TokenMaskCensus | None = None
        self._recording = ExitStack()

    def on_test_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._census = TokenMaskCensus(pl_module)

    def on_test_batch_start(self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int,
                            dataloader_idx: int = 0) -> None:
        if self._census and dataloader_idx == 0:
            self._recording.enter_context(self._census.recording())

    def on_test_batch_end(self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any,
                          batch_idx: int, dataloader_idx: int = 0) -> None:
        self._recording.close()

    def on_test_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._recording.close()

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return self._census.as_list() if self._census is not None else []
