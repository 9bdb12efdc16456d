"""TrialCost: a run's parameters, MACs, batch-1 inference time, training s/step and loss line, measured in the run
(tiny stand-in networks, a few steps) and stored with a sweep trial; the loss line names only the terms trained."""

from __future__ import annotations

import json

import pytest
import torch
from _tiny_models import TinyDataModule, TinyDiscriminator, TinyGenerator
from lightning.pytorch import Trainer
from torch.nn.utils.parametrizations import spectral_norm

from inpaint.lit.callbacks import TrialCost
from inpaint.lit.machine import cpu_label
from inpaint.lit.module import InpaintingGAN
from inpaint.losses import LossConfig, loss_summary
from inpaint.models.complexity import inference_complexity, model_info
from inpaint.models.generators.classical import ClassicalInpainter


def _trainer(tmp_path, cost: TrialCost, steps: int = 3) -> Trainer:
    return Trainer(accelerator="cpu", devices=1, max_steps=steps, logger=False, enable_checkpointing=False,
                   enable_progress_bar=False, enable_model_summary=False, default_root_dir=str(tmp_path),
                   limit_val_batches=0, num_sanity_val_steps=0, callbacks=[cost])


def test_fit_then_test_stores_params_macs_timings_and_loss(tmp_path) -> None:
    generator = TinyGenerator()
    spectral_norm(generator.to_image)  # a parametrised conv: counted after the test loop's inference mode
    model = InpaintingGAN(generator, TinyDiscriminator())
    cost = TrialCost(repeats=3, warmup=1)
    trainer = _trainer(tmp_path, cost)
    data = TinyDataModule(size=16)
    trainer.fit(model, datamodule=data)
    trainer.test(model, datamodule=data, verbose=False)
    result = cost.cost()
    json.dumps(result)  # a trial stores it as a user attribute
    expected = inference_complexity(model_info(model.generator, 16, 16))
    assert (result["params"], result["macs"]) == expected and result["params"] > 0 and result["macs"] > 0
    assert result["resolution"] == [16, 16] and result["inference_repeats"] == 3 and result["inference_warmup"] == 1
    assert result["inference_ms_per_image"] > 0 and result["device"] == cpu_label()
    assert result["train_steps"] == 3 and result["train_note"] is None
    assert result["train_s_per_step"] == pytest.approx(result["fit_wall_s"] / 3, abs=1e-3)  # both rounded
    assert cost.loss == "1 L1 + 1 edge L1 + 0.1 BCE GAN"  # the paper's Eq. 16 with TinyGenerator's edge head
    assert "measure_note" not in result


def test_a_model_with_nothing_to_train_has_no_training_time(tmp_path) -> None:
    model = InpaintingGAN(ClassicalInpainter("telea"), None, losses={"lambda_adv": 0.0, "lambda_aux": 0.0})
    cost = TrialCost(repeats=2, warmup=0)
    _trainer(tmp_path, cost).test(model, datamodule=TinyDataModule(size=16), verbose=False)
    result = cost.cost()
    assert result["params"] == 0 and result["macs"] == 0 and result["inference_ms_per_image"] > 0
    assert result["train_s_per_step"] is None and result["train_note"] == "nothing to train (fit skipped)"
    assert cost.loss == "none (nothing to train)"


def test_loss_summary_lists_only_trained_terms() -> None:
    pmrfn = LossConfig(adversarial="bce", lambda_rec=20.0, lambda_pyramid=20.0, lambda_adv=1.0, lambda_aux=0.0,
                       discriminator_input="output")
    assert loss_summary(pmrfn, adversarial=True, edge_head=False) == \
        "20 L1 + 20 side-output L1 + 1 BCE GAN on the output"
    pconv = LossConfig(hole_weight=6.0, lambda_adv=0.0, lambda_aux=0.0)
    assert loss_summary(pconv, adversarial=False, edge_head=False) == "1 L1 (hole 6 : known 1)"
    pyramid = LossConfig(adversarial="hinge", lambda_coarse=1.0, lambda_adv=1.0, lambda_aux=0.0,
                         level_weights=(10.0, 1.0, 1.0))
    assert loss_summary(pyramid, adversarial=True, edge_head=False) == \
        "1 L1 + 1 coarse L1 + 1 hinge GAN, levels weighted 10 / 1 / 1"
    assert loss_summary(LossConfig(), adversarial=True, edge_head=False) == "1 L1 + 0.1 BCE GAN"  # no edge head


def test_bad_timing_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="need repeats >= 1 and warmup >= 0"):
        TrialCost(repeats=0)
    assert torch.backends.cpu.get_cpu_capability() in cpu_label()
