"""DeepFillv2 (seed 002's sub-generator): the generator contract, mask semantics, its gated convs and contextual
attention, its published size, its config, and a training step at 64²."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import yaml
from _tiny_models import tiny_batch
from jsonargparse import ArgumentParser
from lightning.pytorch import Trainer
from torch import nn

from inpaint.conventions import composite
from inpaint.lit.module import InpaintingGAN
from inpaint.losses import LossConfig
from inpaint.models.discriminators import PatchDiscriminator
from inpaint.models.generators.deepfillv2 import DeepFillV2Generator
from inpaint.nn.attention_transfer import AttentionTransfer
from inpaint.nn.contextual_attention import ContextualAttention
from inpaint.nn.gated_conv import LightweightGatedConv2d

SIZE = 64
MODEL_DIR = Path(__file__).resolve().parents[1] / "experiments" / "model"


def _batch(batch: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    image = torch.rand(batch, 3, SIZE, SIZE, generator=gen) * 2 - 1
    known = torch.ones(batch, 1, SIZE, SIZE)
    known[0, :, 10:30, 12:40] = 0.0
    known[-1, :, 36:60, 4:28] = 0.0
    return image, known


@pytest.fixture(scope="module")
def generator() -> DeepFillV2Generator:
    torch.manual_seed(0)
    return DeepFillV2Generator(size="small")


def test_forward_backward_range_coarse_output_and_composite(generator: DeepFillV2Generator) -> None:
    generator.train()
    image, known = _batch()
    out = generator(image=image, mask=known)
    assert out.image.shape == image.shape and out.edge is None and sorted(out.extras) == ["coarse"]
    for tensor in (out.image, out.extras["coarse"]):
        assert tensor.shape == image.shape and tensor.abs().max() <= 1.0 and torch.isfinite(tensor).all()
    merged = composite(image, out.image, known)
    keep = known.bool().expand_as(image)
    assert torch.equal(merged[keep], image[keep])
    ((out.image - image).abs().mean() + (out.extras["coarse"] - image).abs().mean()).backward()
    grads = [p.grad for p in generator.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert all(float(g.abs().sum()) > 0 for g in grads)  # both stages and both refine branches learn
    generator.zero_grad(set_to_none=True)


def test_a_hole_pixel_of_any_value_gives_the_same_output(generator: DeepFillV2Generator) -> None:
    """The 1 = known → 1 = hole conversion happens once, and hole pixels are zeroed before anything reads them."""
    generator.eval()
    image, known = _batch()
    scrambled = torch.where(known.bool(), image, torch.rand_like(image) * 1e3 - 500)
    with torch.no_grad():
        first, second = generator(image, known), generator(scrambled, known)
    assert torch.equal(first.image, second.image)
    assert torch.equal(first.extras["coarse"], second.extras["coarse"])
    soft = torch.where(known.bool(), torch.full_like(known, 0.9), torch.full_like(known, 0.2))
    with torch.no_grad():
        assert torch.equal(generator(image, soft).image, first.image)  # a soft mask is binarised at 0.5


def test_the_attention_takes_no_patch_from_the_hole() -> None:
    attention = ContextualAttention(patch_size=3, softmax_scale=10.0, propagate=True, paste_size=4)
    features = torch.randn(1, 8, 16, 16) * 3
    known = torch.ones(1, 1, 64, 64)
    known[..., 20:36, 24:40] = 0.0  # grid cells (2..4, 3..4) of the 8×8 grid hold hole pixels
    weights, _ = attention(features, known)
    hole_cells = F.max_pool2d(1 - known, 8).flatten(1)[0] > 0
    touched = F.max_pool2d(hole_cells.float().view(1, 1, 8, 8), 3, 1, 1).flatten() > 0  # 3×3 key windows
    assert 0 < int(touched.sum()) < 64
    assert float(weights[0][:, touched].abs().max()) == 0.0
    assert bool((weights[0][:, ~touched].sum(dim=1) > 0.5).all())


def test_deepfill_paste_is_the_4x4_transfer() -> None:
    """paste_size=4 pastes 4×4 patches (stride 2, padding 1) divided by 4: with identity attention an interior
    pixel, covered by four patches, comes back unchanged."""
    features = torch.randn(1, 5, 12, 12)
    pasted = AttentionTransfer.transfer(features, torch.eye(36)[None])
    torch.testing.assert_close(pasted[..., 2:-2, 2:-2], features[..., 2:-2, 2:-2])
    attention = ContextualAttention(paste_size=4)
    weights, via_module = attention(features, torch.ones(1, 1, 12, 12))
    torch.testing.assert_close(via_module, AttentionTransfer.transfer(features, weights))
    with pytest.raises(ValueError, match="paste_size"):
        ContextualAttention(paste_size=5)


@pytest.mark.parametrize("activation", ["elu", "relu"])
def test_full_gated_conv_by_hand(activation: str) -> None:
    conv = LightweightGatedConv2d(3, 4, 3, stride=2, dilation=1, gate="full", activation=activation)
    x = torch.randn(2, 3, 9, 9)
    act = F.elu if activation == "elu" else F.relu
    expected = torch.sigmoid(F.conv2d(x, conv.gate.weight, conv.gate.bias, 2, 1)) * act(
        F.conv2d(x, conv.feature.weight, conv.feature.bias, 2, 1))
    torch.testing.assert_close(conv(x), expected, rtol=0, atol=0)
    assert conv.gate.weight.shape == conv.feature.weight.shape  # one k×k gate per output channel


def test_paper_size_is_deepfillv2s_4_06_million_parameters() -> None:
    """DeepFillv2's cnum 48 counts features and gates together: 24 / 48 / 96 feature channels."""
    model = DeepFillV2Generator(size="paper")
    assert sum(p.numel() for p in model.parameters()) == 4_057_278
    assert model.refine.attention_in[0].feature.out_channels == 24


def test_dilations_and_coarse_stage_are_options() -> None:
    def rates(net: nn.Module) -> list[int]:
        return [m.feature.dilation[0] for m in net.modules()
                if isinstance(m, LightweightGatedConv2d) and m.feature.dilation[0] > 1]

    standard = DeepFillV2Generator(size="small")
    assert rates(standard.coarse) == [2, 4, 8, 16] and rates(standard.refine.dilated) == [2, 4, 8, 16]
    adaptive = DeepFillV2Generator(size="small", dilations=[2, 4, 8])
    assert rates(adaptive.coarse) == [2, 4, 8] and rates(adaptive.refine.dilated) == [2, 4, 8]
    alone = DeepFillV2Generator(size="small", keep_coarse=False)
    assert alone.coarse is None
    image, known = _batch(1)
    with torch.no_grad():
        assert alone(image, known).extras == {}
    with pytest.raises(ValueError, match="size must be one of"):
        DeepFillV2Generator(size="tiny")
    with pytest.raises(ValueError, match="divisible by 8"):
        alone(torch.zeros(1, 3, 60, 60), torch.ones(1, 1, 60, 60))


def test_config_parses_at_paper_size_and_builds_small() -> None:
    def generator_config(small: bool) -> dict:
        config = yaml.safe_load((MODEL_DIR / "deepfillv2.yaml").read_text())["model"]
        if small:
            config["generator"]["init_args"].update(
                yaml.safe_load((MODEL_DIR / "small.yaml").read_text())["model"]["generator"]["init_args"])
        return config["generator"]

    parser = ArgumentParser(exit_on_error=False)
    parser.add_subclass_arguments(nn.Module, "generator")
    assert parser.parse_object({"generator": generator_config(False)}).generator.init_args.size == "paper"
    built = parser.instantiate(parser.parse_object({"generator": generator_config(True)})).generator
    assert isinstance(built, DeepFillV2Generator) and built.size == "small"
    losses = yaml.safe_load((MODEL_DIR / "deepfillv2.yaml").read_text())["model"]["losses"]
    assert LossConfig(**losses).lambda_coarse == 1.0


def test_two_gan_steps_at_64(tmp_path) -> None:
    torch.manual_seed(0)
    model = InpaintingGAN(DeepFillV2Generator(size="small"), PatchDiscriminator(width=8),
                          losses=LossConfig(adversarial="hinge", lambda_coarse=1.0, lambda_aux=0.0))
    before = [p.detach().clone() for p in model.generator.parameters()]

    class Twice:
        def __iter__(self):
            yield tiny_batch(2, SIZE, seed=0)
            yield tiny_batch(2, SIZE, seed=1)

        def __len__(self) -> int:
            return 2

    trainer = Trainer(accelerator="cpu", devices=1, max_steps=2, logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, default_root_dir=str(tmp_path),
                      limit_val_batches=0, num_sanity_val_steps=0)
    trainer.fit(model, train_dataloaders=Twice())
    assert trainer.global_step == 2
    assert math.isfinite(float(trainer.callback_metrics["train/coarse"]))
    assert any(not torch.equal(a, b) for a, b in zip(before, model.generator.parameters()))
