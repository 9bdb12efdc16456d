"""Host losses as options (PEN-Net pyramid L1, LaMa feature matching + R1, the ResNet-PL n/a path) and LaMa's D."""

from __future__ import annotations

import pytest
import torch

from inpaint.losses import (
    PAPER_LOSSES,
    LossConfig,
    feature_matching_loss,
    generator_losses,
    pyramid_l1,
    r1_penalty,
)
from inpaint.models.discriminators import NLayerDiscriminator, PatchDiscriminator


def test_pyramid_l1_resizes_the_ground_truth_by_area() -> None:
    target = torch.tensor([[[[0.0, 1.0], [2.0, 3.0]]]])  # area mean 1.5
    extras = {
        "pyramid_0": torch.full((1, 1, 2, 2), 1.0),
        "pyramid_1": torch.zeros(1, 1, 1, 1),
        "attention": torch.ones(3),
    }
    assert pyramid_l1(extras, target).item() == pytest.approx((1 + 0 + 1 + 2) / 4 + 1.5)
    with pytest.raises(ValueError, match="no extras\\['pyramid_\\*'\\]"):
        pyramid_l1({"attention": torch.ones(1)}, target)


def test_feature_matching_is_mean_mse_over_layers_and_does_not_train_the_real_side() -> None:
    real = [torch.ones(1, 2, 2, 2, requires_grad=True), torch.zeros(1, 1, 1, 1)]
    fake = [torch.zeros(1, 2, 2, 2, requires_grad=True), torch.full((1, 1, 1, 1), 3.0)]
    loss = feature_matching_loss(fake, real)
    assert loss.item() == pytest.approx((1.0 + 9.0) / 2)
    loss.backward()
    assert real[0].grad is None and fake[0].grad is not None
    with pytest.raises(ValueError, match="same non-zero number"):
        feature_matching_loss(fake[:1], real)


def test_r1_penalty_of_a_linear_critic_is_its_squared_weight_norm() -> None:
    weight = torch.tensor([[[[1.0, -2.0], [0.5, 0.0]]]])
    images = torch.randn(3, 1, 2, 2, requires_grad=True)
    logits = (images * weight).flatten(1).sum(dim=1)
    assert r1_penalty(logits, images).item() == pytest.approx(1.0 + 4.0 + 0.25)
    with pytest.raises(ValueError, match="require grad"):
        r1_penalty(logits, images.detach())


def test_options_are_off_by_default_and_add_their_terms_when_on() -> None:
    prediction, target, mask = torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4), torch.ones(1, 1, 4, 4)
    extras = {"pyramid_0": torch.zeros(1, 3, 2, 2)}
    logits = torch.zeros(1)
    plain = generator_losses(PAPER_LOSSES, prediction, target, mask, logits, extras=extras)
    assert set(plain) == {"rec", "adv", "aux", "total"}
    config = LossConfig(lambda_pyramid=0.5, lambda_feature_matching=100.0)
    terms = generator_losses(config, prediction, target, mask, logits, extras=extras,
                             fake_features=[torch.zeros(1, 1, 1, 1)], real_features=[torch.full((1, 1, 1, 1), 0.1)])
    assert terms["pyramid"].item() == pytest.approx(1.0) and terms["fm"].item() == pytest.approx(0.01)
    assert terms["total"].item() == pytest.approx(plain["total"].item() + 0.5 * 1.0 + 100.0 * 0.01)
    with pytest.raises(ValueError, match="forward_features"):
        generator_losses(config, prediction, target, mask, logits, extras=extras)


def test_lama_perceptual_loss_says_what_is_missing() -> None:
    with pytest.raises(NotImplementedError, match=r"encoder_epoch_20\.pth.*TORCH_HOME"):
        LossConfig(lambda_perceptual=30.0)
    with pytest.raises(ValueError, match="r1_gamma"):
        LossConfig(r1_gamma=-1.0)


def test_nlayer_discriminator_matches_lama_and_exposes_features() -> None:
    with torch.device("meta"):
        d = NLayerDiscriminator()
        logits, features = d.forward_features(torch.zeros(1, 3, 256, 256))
    assert sum(p.numel() for p in d.parameters()) == 6_962_369  # LaMa's pix2pixhd_nlayer D (docs/hosts.md)
    assert logits.shape == (1, 1, 19, 19)
    assert [f.shape[1:] for f in features] == [
        (64, 129, 129),
        (128, 65, 65),
        (256, 33, 33),
        (512, 17, 17),
        (512, 18, 18),
    ]
    patch = PatchDiscriminator(width=4).eval()  # eval: spectral norm does no power iteration per call
    x = torch.randn(2, 3, 64, 64)
    logits, features = patch.forward_features(x)
    assert torch.equal(logits, patch(x)) and len(features) == 4
