"""DeepFillv2's SN-PatchGAN, one discriminator per pyramid level, and the per-level losses of seed 002
(L = Σ w_n·(L_adv,n + L1_n), 10 : 1 : 1) checked by hand through the shared GAN step."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from _small_runs import small_cli
from torch import nn

from inpaint.lit.gan_step import gan_training_step, plain_hooks
from inpaint.lit.levels import judged_levels
from inpaint.losses import LossConfig
from inpaint.models.discriminators import LevelDiscriminators, PatchDiscriminator, SNPatchGAN
from inpaint.models.interface import GeneratorOutput

ROOT = Path(__file__).resolve().parents[1]


def test_sn_patchgan_is_deepfillv2s_and_sees_the_mask() -> None:
    assert sum(p.numel() for p in SNPatchGAN().parameters()) == 5_946_816  # 6 convs 5×5, widths 64·(1,2,4,4,4,4)
    d = SNPatchGAN(width=8)
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 6 and all(c.stride == (2, 2) and c.kernel_size == (5, 5) for c in convs)
    assert all(hasattr(c, "parametrizations") for c in convs)  # spectral norm on every conv
    assert convs[0].in_channels == 4  # image + hole indicator
    image, known = torch.rand(2, 3, 64, 64) * 2 - 1, torch.ones(1, 1, 64, 64)
    assert d(image, known).shape == (2, 32, 1, 1)
    assert d(torch.rand(1, 3, 256, 256), torch.ones(1, 1, 256, 256)).shape == (1, 32, 4, 4)
    holed = known.clone()
    holed[..., 16:48, 16:48] = 0.0
    d.eval()  # no power iteration between the two calls
    assert not torch.equal(d(image, known), d(image, holed))


class _Levels(nn.Module):
    """A stand-in pyramid generator: fixed level outputs (1/4, 1/2, 1/1) scaled by one parameter."""

    def __init__(self, size: int) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(5)
        self.scale = nn.Parameter(torch.ones(()))
        for n, factor in enumerate((4, 2, 1)):
            side = size // factor
            self.register_buffer(f"out_{n}", torch.rand(2, 3, side, side, generator=gen) * 2 - 1)
            self.register_buffer(f"coarse_{n}", torch.rand(2, 3, side, side, generator=gen) * 2 - 1)

    def forward(self, image, mask, edge=None, gray=None, smooth=None) -> GeneratorOutput:
        extras = {}
        for n in range(3):
            extras[f"level_{n}"] = self.scale * getattr(self, f"out_{n}")
            extras[f"coarse_{n}"] = self.scale * getattr(self, f"coarse_{n}")
        return GeneratorOutput(image=extras["level_2"], extras=extras)


class _MaskedMean(nn.Module):
    """A fixed mask-conditioned "discriminator": w·(channel mean of x) + b on known cells, b on holes."""

    sees_mask = True

    def __init__(self, w: float, b: float) -> None:
        super().__init__()
        self.w, self.b = nn.Parameter(torch.tensor(w)), nn.Parameter(torch.tensor(b))

    def forward(self, x: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
        return self.w * x.mean(dim=1, keepdim=True) * known + self.b


def _batch(size: int = 32) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(9)
    known = torch.ones(2, 1, size, size)
    known[0, :, 4:20, 6:26] = 0.0
    known[1, :, 13:31, 0:9] = 0.0
    return {"image": torch.rand(2, 3, size, size, generator=gen) * 2 - 1, "mask": known}


def test_per_level_losses_equal_the_seeds_formula_by_hand() -> None:
    batch = _batch()
    generator = _Levels(32)
    discriminator = LevelDiscriminators(levels=3, width=4)
    discriminator.levels = nn.ModuleList([_MaskedMean(0.7, 0.1), _MaskedMean(-1.3, 0.2), _MaskedMean(2.0, -0.4)])
    weights, lambda_adv, lambda_coarse = (10.0, 1.0, 1.0), 0.5, 1.0
    losses = LossConfig(adversarial="hinge", lambda_adv=lambda_adv, lambda_coarse=lambda_coarse, lambda_aux=0.0,
                        level_weights=weights)
    opt_g = torch.optim.SGD(generator.parameters(), lr=0.0)  # nothing moves: the terms are comparable by hand
    opt_d = torch.optim.SGD(discriminator.parameters(), lr=0.0)
    step = gan_training_step(generator, discriminator, opt_g, opt_d, losses, batch, plain_hooks(opt_g, opt_d))

    image, known = batch["image"].double(), batch["mask"].double()
    total = loss_d = 0.0
    for n, factor in enumerate((4, 2, 1)):
        d = discriminator.levels[n].double()
        real = F.avg_pool2d(image, factor) if factor > 1 else image  # I_n: the block means
        known_n = (F.avg_pool2d(known, factor) > 0.5).double() if factor > 1 else known
        out, coarse = getattr(generator, f"out_{n}").double(), getattr(generator, f"coarse_{n}").double()
        fake = known_n * real + (1 - known_n) * out  # D judges the level's composite
        rec, rec_coarse = (out - real).abs().mean(), (coarse - real).abs().mean()
        adv = -d(fake, known_n).mean()
        assert step.generator_terms[f"rec_{n}"].item() == pytest.approx(rec.item(), rel=1e-5)
        assert step.generator_terms[f"adv_{n}"].item() == pytest.approx(adv.item(), rel=1e-5, abs=1e-7)
        total += weights[n] * (rec + lambda_adv * adv + lambda_coarse * rec_coarse)
        loss_d += 0.5 * (F.relu(1 - d(real, known_n)).mean() + F.relu(1 + d(fake, known_n)).mean())
    assert step.generator_terms["total"].item() == pytest.approx(total.item(), rel=1e-5)
    assert step.loss_d.item() == pytest.approx(loss_d.item(), rel=1e-5)


def test_level_weights_move_the_bottom_levels_gradient() -> None:
    batch = _batch()
    grads = []
    for weights in ((1.0, 1.0, 1.0), (10.0, 1.0, 1.0)):
        generator = _Levels(32)
        generator.out_1.zero_()  # levels 1 and 2 contribute the same with either weighting
        generator.out_2.zero_()
        discriminator = LevelDiscriminators(levels=3, width=4)
        discriminator.levels = nn.ModuleList([_MaskedMean(0.0, 0.0) for _ in range(3)])
        losses = LossConfig(adversarial="hinge", lambda_adv=0.0, lambda_aux=0.0, level_weights=weights)
        opt_g = torch.optim.SGD(generator.parameters(), lr=0.0)
        opt_d = torch.optim.SGD(discriminator.parameters(), lr=0.0)
        gan_training_step(generator, discriminator, opt_g, opt_d, losses, batch, plain_hooks(opt_g, opt_d))
        grads.append(generator.scale.grad.item())
    assert grads[1] == pytest.approx(10 * grads[0], rel=1e-5) and grads[0] != 0.0


def test_levels_are_checked_against_the_generator() -> None:
    batch = _batch()
    out = _Levels(32)(**batch)
    single = judged_levels(PatchDiscriminator(width=4), out, batch, LossConfig())
    assert len(single) == 1 and single[0].real is batch["image"] and single[0].known is batch["mask"]
    with pytest.raises(ValueError, match="one discriminator per level"):
        judged_levels(PatchDiscriminator(width=4), out, batch, LossConfig(level_weights=(10, 1, 1)))
    with pytest.raises(ValueError, match="levels"):
        judged_levels(LevelDiscriminators(levels=2, width=4), out, batch, LossConfig())
    with pytest.raises(ValueError, match="2 weights for 3"):
        judged_levels(LevelDiscriminators(levels=3, width=4), out, batch, LossConfig(level_weights=(10, 1)))
    with pytest.raises(ValueError, match="non-negative"):
        LossConfig(level_weights=(1.0, -1.0))
    three = judged_levels(LevelDiscriminators(levels=3, width=4), out, batch, LossConfig())
    assert [level.real.shape[-1] for level in three] == [8, 16, 32] and [lv.weight for lv in three] == [1.0] * 3
    with pytest.raises(TypeError, match="its own discriminator"):
        LevelDiscriminators(levels=3, width=4)(batch["image"])


@pytest.mark.filterwarnings("ignore:LightningCLI's args parameter is intended")  # pytest's own argv is not ours
@pytest.mark.parametrize("model", ["deepfillv2", "pyramid"])
def test_seed_002_configs_train_a_step_in_the_small_profile(model: str, tmp_path: Path) -> None:
    cli = small_cli(tmp_path, [f"experiments/model/{model}.yaml"])
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    metrics = cli.trainer.callback_metrics
    logged = ["train/coarse"] + (["train/rec_0", "train/adv_0", "train/rec_2"] if model == "pyramid" else [])
    for key in ["train/loss_g", "train/loss_d", *logged]:
        assert key in metrics and math.isfinite(float(metrics[key])), key
    if model == "pyramid":
        assert cli.model.losses.level_weights == (10.0, 1.0, 1.0) and len(cli.model.discriminator) == 3
    else:
        assert isinstance(cli.model.discriminator, SNPatchGAN)
