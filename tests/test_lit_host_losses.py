"""InpaintingGAN with the host-loss options on: PEN-Net pyramid L1, LaMa feature matching and R1 train and log."""

from __future__ import annotations

import math

import pytest
import torch
from _tiny_models import TinyDiscriminator, tiny_batch
from lightning.pytorch import Trainer

from inpaint.lit.module import InpaintingGAN
from inpaint.losses import LossConfig
from inpaint.models.discriminators import NLayerDiscriminator
from inpaint.models.generators.pennet import PENNetGenerator


class _Once:
    def __init__(self, batch: dict) -> None:
        self.batch = batch

    def __iter__(self):
        yield self.batch

    def __len__(self) -> int:
        return 1


def _fit_one_step(tmp_path, model: InpaintingGAN) -> Trainer:
    trainer = Trainer(accelerator="cpu", devices=1, max_steps=1, logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, default_root_dir=str(tmp_path),
                      limit_val_batches=0, num_sanity_val_steps=0)
    trainer.fit(model, train_dataloaders=_Once(tiny_batch(2, 64)))
    return trainer


def test_pennet_and_lama_losses_train_and_log(tmp_path) -> None:
    torch.manual_seed(0)
    losses = LossConfig(lambda_pyramid=0.5, lambda_feature_matching=100.0, r1_gamma=0.001)
    model = InpaintingGAN(PENNetGenerator(size="small"), NLayerDiscriminator(width=8, n_layers=2), losses=losses)
    before = [p.detach().clone() for p in model.discriminator.parameters()]
    metrics = _fit_one_step(tmp_path, model).callback_metrics
    for key in ("train/pyramid", "train/fm", "train/r1"):
        assert key in metrics and math.isfinite(float(metrics[key])) and float(metrics[key]) > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, model.discriminator.parameters()))


def test_feature_matching_needs_a_discriminator_with_features(tmp_path) -> None:
    model = InpaintingGAN(PENNetGenerator(size="small"), TinyDiscriminator(),
                          losses=LossConfig(lambda_feature_matching=1.0))
    with pytest.raises(TypeError, match="forward_features"):
        _fit_one_step(tmp_path, model)
