"""Reconstruction-only training (``discriminator: null``): the one GAN step without its D step, one optimiser in
``InpaintingGAN``, and the PConv / MSFEF U-Net configs training at 64²."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from _small_runs import small_cli

from inpaint.lit.gan_step import gan_training_step, plain_hooks
from inpaint.lit.module import InpaintingGAN
from inpaint.losses import LossConfig, masked_l1
from inpaint.models.generators.pconv_unet import PConvUNet

ROOT = Path(__file__).resolve().parents[1]
RECONSTRUCTION = LossConfig(hole_weight=6.0, lambda_adv=0.0, lambda_aux=0.0)


def _batch() -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(4)
    mask = torch.ones(2, 1, 64, 64)
    mask[..., 12:44, 20:52] = 0.0
    return {"image": torch.rand(2, 3, 64, 64, generator=gen) * 2 - 1, "mask": mask}


def test_the_step_without_a_discriminator_is_the_reconstruction_loss_alone() -> None:
    torch.manual_seed(0)
    generator = PConvUNet(encoder="pconv", size="small", stages=6)
    batch = _batch()
    before = [p.detach().clone() for p in generator.parameters()]
    opt_g = torch.optim.Adam(generator.parameters(), lr=1e-3)
    step = gan_training_step(generator, None, opt_g, None, RECONSTRUCTION, batch, plain_hooks(opt_g, None))
    assert step.loss_d is None and step.real_logits is None and step.fake_logits is None
    assert not step.discriminator_terms
    terms = step.generator_terms
    assert terms["adv"].item() == 0.0 and terms["total"].item() == pytest.approx(terms["rec"].item())
    assert any(not torch.equal(a, b) for a, b in zip(before, generator.parameters()))  # G stepped
    # the loss is Liu et al.'s valid + 6·hole L1 of the output the step produced (same init, train-mode BN)
    torch.manual_seed(0)
    again = PConvUNet(encoder="pconv", size="small", stages=6)
    out = again(**batch).image
    assert terms["rec"].item() == pytest.approx(masked_l1(out, batch["image"], batch["mask"], 6.0, 1.0).item(),
                                                rel=1e-6)


@pytest.mark.parametrize("losses", [LossConfig(), LossConfig(lambda_adv=0.0, r1_gamma=0.001),
                                    LossConfig(lambda_adv=0.0, level_weights=(10, 1, 1))])
def test_terms_that_need_a_discriminator_are_refused_without_one(losses: LossConfig) -> None:
    with pytest.raises(ValueError, match="need a discriminator"):
        InpaintingGAN(PConvUNet(size="small", stages=6), None, losses=losses)


def test_one_optimiser_and_no_d_logs() -> None:
    model = InpaintingGAN(PConvUNet(size="small", stages=6), None, losses=RECONSTRUCTION)
    optimizers = model.configure_optimizers()
    assert len(optimizers) == 1 and model.hparams["discriminator"] is None


@pytest.mark.filterwarnings("ignore:LightningCLI's args parameter is intended")  # pytest's own argv is not ours
@pytest.mark.parametrize("model", ["pconv_unet", "msfef_unet"])
def test_seed_004_configs_train_without_a_discriminator(model: str, tmp_path: Path) -> None:
    cli = small_cli(tmp_path, [f"experiments/model/{model}.yaml"], "--model.generator.init_args.stages=6", steps=2)
    assert cli.model.discriminator is None and cli.model.generator.encoder_kind == model.split("_")[0]
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    metrics = cli.trainer.callback_metrics
    assert cli.trainer.global_step == 2  # one optimiser step per iteration
    assert math.isfinite(float(metrics["train/loss_g"])) and float(metrics["train/adv"]) == 0.0
    assert "train/loss_d" not in metrics and "train/d_real_logit" not in metrics


def test_bench_times_the_step_without_a_discriminator(tmp_path: Path) -> None:
    from inpaint.commands import bench

    out = tmp_path / "bench.json"
    config = ROOT / "experiments/model/pconv_unet.yaml"
    assert bench.main(["--config", str(config), "--size", "small", "--set", "stages=6", "--resolution", "64",
                       "--batch", "2", "--repeats", "1", "--warmup", "0", "--no-progress", "--quiet",
                       "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["discriminator"] is None and data["losses"]["lambda_adv"] == 0.0 and data["train_step_s_median"] > 0
