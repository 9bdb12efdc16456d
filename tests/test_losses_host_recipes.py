"""HiFill's and LaMa's remaining loss terms (WGAN-GP, coarse L1, L1 normalisations, LaMa's mask-as-fake D target),
HiFill's global critic, and the three host recipes of experiments/model/recipes/ training a step at 64²."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from inpaint.losses import (
    LossConfig,
    discriminator_loss,
    generator_losses,
    gradient_penalty,
    logit_grid_known,
    masked_l1,
)
from inpaint.models.discriminators import GlobalCritic

ROOT = Path(__file__).resolve().parents[1]


def _fixture() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """1×1×2×2: errors 1, 2 (known) and 3, 5 (hole); hole fraction ½."""
    prediction = torch.tensor([[[[1.0, 2.0], [3.0, 5.0]]]])
    mask = torch.tensor([[[[1.0, 1.0], [0.0, 0.0]]]])
    return prediction, torch.zeros_like(prediction), mask


def test_masked_l1_normalisations_on_a_hand_fixture() -> None:
    prediction, target, mask = _fixture()
    # none: means over all 4 elements → hole 8/4 = 2, known 3/4
    assert masked_l1(prediction, target, mask, 6.0, 1.0).item() == pytest.approx(6 * 2 + 0.75)
    # both (PEN-Net): each term divided by its fraction (½) → the hole mean 4 and the known mean 1.5
    assert masked_l1(prediction, target, mask, 6.0, 1.0, "both").item() == pytest.approx(6 * 4 + 1.5)
    # known (HiFill): only the known term normalised
    assert masked_l1(prediction, target, mask, 1.2, 1.2, "known").item() == pytest.approx(1.2 * 2 + 1.2 * 1.5)
    # no hole at all: the normalised hole term is 0, not NaN
    assert masked_l1(prediction, target, torch.ones_like(mask), 6.0, 1.0, "both").item() == pytest.approx(11 / 4)
    with pytest.raises(ValueError, match="l1_normalize"):
        LossConfig(l1_normalize="hole")  # type: ignore[arg-type]


def test_coarse_l1_is_weighted_like_the_main_l1_and_needs_the_coarse_output() -> None:
    prediction, target, mask = _fixture()
    config = LossConfig(hole_weight=1.2, valid_weight=1.2, l1_normalize="known", lambda_coarse=1.2, lambda_adv=0.0)
    terms = generator_losses(config, torch.zeros_like(prediction), target, mask, torch.zeros(1, 1),
                             extras={"coarse": prediction})
    assert terms["rec"].item() == 0.0
    assert terms["coarse"].item() == pytest.approx(1.2 * 2 + 1.2 * 1.5)
    assert terms["total"].item() == pytest.approx(1.2 * terms["coarse"].item())
    with pytest.raises(ValueError, match="extras\\['coarse'\\]"):
        generator_losses(config, prediction, target, mask, torch.zeros(1, 1), extras={})


def test_wgan_losses_are_score_differences() -> None:
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-2.0, 0.0])
    assert discriminator_loss(real, fake, "wgan").item() == pytest.approx(-1.0 - 2.0)
    terms = generator_losses(LossConfig(adversarial="wgan", lambda_rec=0.0), torch.zeros(1, 3, 2, 2),
                             torch.zeros(1, 3, 2, 2), torch.ones(1, 1, 2, 2), fake)
    assert terms["adv"].item() == pytest.approx(1.0)


def test_gradient_penalty_of_a_linear_critic_is_exact() -> None:
    """D(x) = w·x has gradient w everywhere: the penalty is (‖w‖ − 1)² wherever the interpolate lands."""
    critic = nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 0.0, 4.0, 0.0]]))  # ‖w‖ = 5
    real, fake = torch.randn(6, 4), torch.randn(6, 4)
    penalty = gradient_penalty(critic, real, fake)
    assert penalty.item() == pytest.approx(16.0)
    penalty.backward()  # the graph reaches D's weights (create_graph)
    assert critic.weight.grad is not None and critic.weight.grad.abs().sum() > 0


def test_mask_as_fake_target_treats_known_logits_of_the_fake_as_real() -> None:
    real = torch.zeros(1, 1, 2, 2)
    fake = torch.tensor([[[[2.0, -1.0], [0.5, 3.0]]]])
    known = torch.tensor([[[[1.0, 1.0], [0.0, 0.0]]]])
    expected = F.softplus(-real).mean() + torch.stack(
        [F.softplus(-fake[0, 0, 0, 0]), F.softplus(-fake[0, 0, 0, 1]), F.softplus(fake[0, 0, 1, 0]),
         F.softplus(fake[0, 0, 1, 1])]).mean()
    assert discriminator_loss(real, fake, "bce", known).item() == pytest.approx(expected.item(), rel=1e-6)
    # all holes = the plain loss; hinge follows the same rule
    assert discriminator_loss(real, fake, "bce", torch.zeros_like(known)).item() == pytest.approx(
        discriminator_loss(real, fake, "bce").item())
    hinge = 0.5 * (1.0 + torch.stack([F.relu(1 - fake[0, 0, 0, 0]), F.relu(1 - fake[0, 0, 0, 1]),
                                      F.relu(1 + fake[0, 0, 1, 0]), F.relu(1 + fake[0, 0, 1, 1])]).mean())
    assert discriminator_loss(real, fake, "hinge", known).item() == pytest.approx(hinge.item())
    with pytest.raises(ValueError, match="mask_as_fake_target"):
        LossConfig(adversarial="wgan", mask_as_fake_target=True)


def test_logit_grid_known_is_a_nearest_resize_and_needs_spatial_logits() -> None:
    mask = torch.ones(2, 1, 8, 8)
    mask[:, :, :4, :4] = 0.0
    grid = logit_grid_known(mask, torch.zeros(2, 1, 2, 2))
    assert grid[:, 0].tolist() == [[[0.0, 1.0], [1.0, 1.0]]] * 2
    with pytest.raises(ValueError, match="spatial logits"):
        logit_grid_known(mask, torch.zeros(2, 1))


def test_global_critic_matches_hifill_and_refuses_other_sizes() -> None:
    assert sum(p.numel() for p in GlobalCritic(input_size=512).parameters()) == 5_961_601  # HiFill's checkpoint
    critic = GlobalCritic(width=8, input_size=64)
    score, maps = critic.forward_features(torch.rand(3, 3, 64, 64))
    assert score.shape == (3, 1) and len(maps) == 6 and maps[-1].shape[-2:] == (1, 1)
    with pytest.raises(ValueError, match="input_size"):
        critic(torch.rand(1, 3, 128, 128))
    with pytest.raises(ValueError, match="multiple of 64"):
        GlobalCritic(input_size=100)


RECIPES = {  # generator config → recipe, the CLI options a 64² CPU step needs, and the loss terms it must log
    "pennet": ("pennet", [], ["train/pyramid"]),
    "hifill": ("hifill", ["--model.discriminator.init_args.input_size=64"], ["train/gp", "train/coarse"]),
    "lama": ("lama", [], ["train/fm", "train/r1"]),
}


@pytest.mark.filterwarnings("ignore:LightningCLI's args parameter is intended")  # pytest's own argv is not ours
@pytest.mark.parametrize("generator", sorted(RECIPES))
def test_host_recipe_trains_a_step_in_the_small_profile(generator: str, tmp_path: Path) -> None:
    from inpaint.lit.cli import InpaintCLI

    recipe, extra, logged = RECIPES[generator]
    args = ["--config", str(ROOT / "experiments/data/embedded.yaml"),
            "--config", str(ROOT / f"experiments/model/{generator}.yaml"),
            "--config", str(ROOT / f"experiments/model/recipes/{recipe}.yaml"),
            "--config", str(ROOT / "experiments/trainer/cpu-small.yaml"), *extra,
            "--trainer.max_steps=1", "--trainer.limit_val_batches=0", "--run.logger=none",
            "--trainer.enable_progress_bar=false", "--trainer.enable_checkpointing=false",
            "--run.image_grid_samples=0", "--data.init_args.batch_size=2", f"--run.dir={tmp_path}"]
    cli = InpaintCLI(args=args, run=False, stage="fit", parser_kwargs={"exit_on_error": False})
    assert cli.model.losses.lambda_adv == {"pennet": 0.1, "hifill": 0.001, "lama": 10.0}[generator]
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    metrics = cli.trainer.callback_metrics
    for key in ["train/loss_g", "train/loss_d", *logged]:
        assert key in metrics and math.isfinite(float(metrics[key])), key
