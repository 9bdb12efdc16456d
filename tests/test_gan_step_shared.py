"""Training and ``inpaint bench`` run the same GAN step function, and that step reproduces the training numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from _tiny_models import TinyDiscriminator, TinyGenerator, tiny_batch
from lightning.pytorch import Trainer

from inpaint.commands import bench
from inpaint.lit import gan_step
from inpaint.lit.module import InpaintingGAN
from inpaint.lit.nan_guard import NonFiniteLossError
from inpaint.lit.step_bench import training_step_callable
from inpaint.losses import LossConfig


class _Once:
    def __init__(self, batch: dict) -> None:
        self.batch = batch

    def __iter__(self):
        yield self.batch

    def __len__(self) -> int:
        return 1


@pytest.fixture
def step_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace the shared step function by a spy that records the generator class of every call."""
    calls: list[str] = []
    real = gan_step.gan_training_step

    def spy(generator, *args, **kwargs):
        calls.append(type(generator).__name__)
        return real(generator, *args, **kwargs)

    monkeypatch.setattr(gan_step, "gan_training_step", spy)
    return calls


def _fit_one_step(tmp_path: Path, model: InpaintingGAN) -> Trainer:
    trainer = Trainer(accelerator="cpu", devices=1, max_steps=1, logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, default_root_dir=str(tmp_path),
                      limit_val_batches=0, num_sanity_val_steps=0)
    trainer.fit(model, train_dataloaders=_Once(tiny_batch(2, 16)))
    return trainer


def test_training_and_bench_both_call_the_shared_step(tmp_path: Path, step_calls: list[str]) -> None:
    _fit_one_step(tmp_path, InpaintingGAN(TinyGenerator(), TinyDiscriminator()))
    assert step_calls == ["TinyGenerator"]
    out = tmp_path / "bench.json"
    assert bench.main(["--size", "small", "--variant", "Baseline", "--resolution", "64", "--batch", "1",
                       "--repeats", "2", "--warmup", "1", "--no-progress", "--quiet", "--out", str(out)]) == 0
    assert step_calls == ["TinyGenerator"] + ["TSGLGenerator"] * 3  # warmup + repeats, nothing else timed
    assert json.loads(out.read_text())["losses"]["adversarial"] == "bce"


# Logged values of one fixed-seed Lightning step (TinyGenerator/TinyDiscriminator, tiny_batch(2, 16), seed 0),
# recorded with the training step as it was before it moved to inpaint.lit.gan_step.
RECORDED_PAPER_STEP = {"train/loss_d": 1.39361572265625, "train/loss_g": 1.0831325054168701,
                       "train/rec": 0.5122402906417847, "train/adv": 0.7524302005767822,
                       "train/aux": 0.49564921855926514}


def test_lightning_step_reproduces_the_recorded_losses(tmp_path: Path) -> None:
    torch.manual_seed(0)
    metrics = _fit_one_step(tmp_path, InpaintingGAN(TinyGenerator(), TinyDiscriminator())).callback_metrics
    assert {k: float(metrics[k]) for k in RECORDED_PAPER_STEP} == pytest.approx(RECORDED_PAPER_STEP, rel=1e-5)


@pytest.mark.parametrize("losses", [LossConfig(), LossConfig(adversarial="hinge", hole_weight=5.0, r1_gamma=0.01)],
                         ids=["paper", "hinge-r1"])
def test_plain_hooks_match_the_lightning_step(tmp_path: Path, losses: LossConfig) -> None:
    """The bench's plain-PyTorch path gives the same losses and weights as Lightning's on the same start."""
    torch.manual_seed(0)
    trained = InpaintingGAN(TinyGenerator(), TinyDiscriminator(), losses=losses)
    torch.manual_seed(0)
    timed = InpaintingGAN(TinyGenerator(), TinyDiscriminator(), losses=losses)
    metrics = _fit_one_step(tmp_path, trained).callback_metrics
    result = training_step_callable(timed, tiny_batch(2, 16))()
    assert float(result.loss_d) == pytest.approx(float(metrics["train/loss_d"]), rel=1e-6)
    assert float(result.generator_terms["total"]) == pytest.approx(float(metrics["train/loss_g"]), rel=1e-6)
    for a, b in zip(trained.parameters(), timed.parameters()):
        torch.testing.assert_close(a, b)
    assert all(p.requires_grad for p in timed.parameters())  # untoggled after the step


def test_plain_hooks_freeze_the_other_network_and_guard_non_finite() -> None:
    generator, discriminator = TinyGenerator(), TinyDiscriminator()
    opt_g = torch.optim.Adam(generator.parameters())
    opt_d = torch.optim.Adam(discriminator.parameters())
    hooks = gan_step.plain_hooks(opt_g, opt_d)
    hooks.toggle(opt_d)
    assert not any(p.requires_grad for p in generator.parameters())
    assert all(p.requires_grad for p in discriminator.parameters())
    hooks.untoggle(opt_d)
    assert all(p.requires_grad for p in generator.parameters())
    with pytest.raises(NonFiniteLossError, match="'d'"):
        hooks.guard({"d": torch.tensor(float("nan"))})
