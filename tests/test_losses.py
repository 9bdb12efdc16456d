"""Losses of Eq. 13–16 and the official variants, against hand-computed values and torch references."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from inpaint.losses import (
    OFFICIAL_LOSSES,
    PAPER_LOSSES,
    LossConfig,
    discriminator_loss,
    generator_adversarial_loss,
    generator_losses,
    masked_l1,
)


def _pair():
    # 1×1×2×2 prediction/target, errors |p - t| = [[1, 2], [3, 4]]; mask: left column known, right column hole.
    prediction = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    target = torch.zeros_like(prediction)
    mask = torch.tensor([[[[1.0, 0.0], [1.0, 0.0]]]])
    return prediction, target, mask


def test_plain_l1_is_mean_absolute_error():
    prediction, target, mask = _pair()
    assert masked_l1(prediction, target, mask).item() == pytest.approx(2.5)  # (1+2+3+4)/4
    assert masked_l1(prediction, target, mask).item() == pytest.approx(F.l1_loss(prediction, target).item())


def test_hole_weighted_l1_hand_computed():
    prediction, target, mask = _pair()
    # hole errors 2 and 4, known errors 1 and 3, both means over all 4 elements: 5·6/4 + 1·4/4 = 8.5
    assert masked_l1(prediction, target, mask, hole_weight=5.0, valid_weight=1.0).item() == pytest.approx(8.5)
    # equal weights take the shortcut; it must agree with the masked formula
    assert masked_l1(prediction, target, mask, 2.0, 2.0).item() == pytest.approx(2.0 * 2.5)


def test_masked_l1_broadcasts_single_channel_mask_over_rgb():
    prediction = torch.ones(2, 3, 4, 4)
    target = torch.zeros_like(prediction)
    mask = torch.zeros(2, 1, 4, 4)
    mask[..., :2] = 1  # half known
    assert masked_l1(prediction, target, mask, 5.0, 1.0).item() == pytest.approx(5 * 0.5 + 1 * 0.5)


def test_masked_l1_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="differ"):
        masked_l1(torch.zeros(1, 3, 4, 4), torch.zeros(1, 1, 4, 4), torch.ones(1, 1, 4, 4))


def test_bce_losses_match_log_sigmoid_formulas():
    real = torch.tensor([0.5, -1.0, 2.0])
    fake = torch.tensor([-0.3, 1.5])
    sigma = torch.sigmoid
    expected_d = -torch.log(sigma(real)).mean() - torch.log(1 - sigma(fake)).mean()
    expected_g = -torch.log(sigma(fake)).mean()  # Eq. 15, non-saturating
    assert discriminator_loss(real, fake, "bce").item() == pytest.approx(expected_d.item(), rel=1e-6)
    assert generator_adversarial_loss(fake, "bce").item() == pytest.approx(expected_g.item(), rel=1e-6)


def test_hinge_losses_hand_computed():
    real = torch.tensor([0.5, 2.0])  # relu(1 - r) = 0.5, 0
    fake = torch.tensor([-2.0, 0.0])  # relu(1 + f) = 0, 1
    assert discriminator_loss(real, fake, "hinge").item() == pytest.approx(0.5 * (0.25 + 0.5))
    assert generator_adversarial_loss(fake, "hinge").item() == pytest.approx(1.0)


def test_unknown_adversarial_kind_is_rejected():
    with pytest.raises(ValueError, match="hinge"):
        discriminator_loss(torch.zeros(1), torch.zeros(1), "lsgan")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="adversarial"):
        LossConfig(adversarial="lsgan")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lambda_adv"):
        LossConfig(lambda_adv=float("nan"))


def test_generator_total_is_eq16_weighted_sum():
    prediction, target, mask = _pair()
    logits = torch.tensor([0.0])  # BCE: -log(0.5) = ln 2
    edge_pred = torch.full((1, 1, 2, 2), 0.25)
    edge_true = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])  # errors 0.75, 0.25, 0.25, 0.25 → mean 0.375
    terms = generator_losses(PAPER_LOSSES, prediction, target, mask, logits, edge_pred, edge_true)
    assert terms["rec"].item() == pytest.approx(2.5)
    assert terms["adv"].item() == pytest.approx(math.log(2))
    assert terms["aux"].item() == pytest.approx(0.375)
    assert terms["total"].item() == pytest.approx(1 * 2.5 + 0.1 * math.log(2) + 1 * 0.375)


def test_official_weights_apply_to_both_l1_terms():
    prediction, target, mask = _pair()
    edge_pred = torch.tensor([[[[0.0, 1.0], [0.0, 1.0]]]])  # errors only in the hole column: 1, 1
    edge_true = torch.zeros(1, 1, 2, 2)
    terms = generator_losses(OFFICIAL_LOSSES, prediction, target, mask, torch.tensor([2.0]), edge_pred, edge_true)
    assert terms["rec"].item() == pytest.approx(8.5)
    assert terms["aux"].item() == pytest.approx(5 * 2 / 4)
    assert terms["adv"].item() == pytest.approx(-2.0)  # hinge G loss = -mean D(fake)


def test_no_edge_head_gives_zero_aux_and_missing_edge_target_is_an_error():
    prediction, target, mask = _pair()
    terms = generator_losses(PAPER_LOSSES, prediction, target, mask, torch.zeros(1))
    assert terms["aux"].item() == 0.0
    with pytest.raises(ValueError, match="edge"):
        generator_losses(PAPER_LOSSES, prediction, target, mask, torch.zeros(1), torch.zeros(1, 1, 2, 2), None)


def test_presets_match_the_model_presets():
    assert LossConfig.from_preset("paper") == PAPER_LOSSES
    assert LossConfig.from_preset("official") == OFFICIAL_LOSSES
    assert OFFICIAL_LOSSES.adversarial == "hinge" and OFFICIAL_LOSSES.hole_weight == 5.0
