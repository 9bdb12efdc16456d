"""The Pyramid Generator (seed 002): contract, the image/mask pyramid, and each fusion, level and dilation option
checked on the data path itself (forward hooks), not only that it runs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _tiny_models import tiny_batch
from lightning.pytorch import Trainer
from torch import nn

from inpaint.conventions import composite
from inpaint.data.masks import generate_mask
from inpaint.lit.module import InpaintingGAN
from inpaint.losses import LossConfig
from inpaint.models.discriminators import PatchDiscriminator
from inpaint.models.generators.pyramid import FUSIONS, PyramidGenerator
from inpaint.nn.gated_conv import LightweightGatedConv2d
from inpaint.nn.image_pyramid import downscale_image, downscale_known

SIZE = 64


def _batch(batch: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(2)
    image = torch.rand(batch, 3, SIZE, SIZE, generator=gen) * 2 - 1
    known = torch.ones(batch, 1, SIZE, SIZE)
    known[0, :, 8:40, 16:48] = 0.0
    known[-1, :, 30:58, 2:30] = 0.0
    return image, known


def test_forward_backward_outputs_and_composite() -> None:
    torch.manual_seed(0)
    generator = PyramidGenerator(size="small").train()
    image, known = _batch()
    out = generator(image, known)
    assert out.image.shape == image.shape and out.image.abs().max() <= 1.0
    assert {k: tuple(v.shape[-2:]) for k, v in out.extras.items()} == {
        "level_0": (16, 16), "level_1": (32, 32), "level_2": (64, 64),
        "coarse_0": (16, 16), "coarse_1": (32, 32), "coarse_2": (64, 64), "coarse": (64, 64)}
    assert torch.equal(out.extras["level_2"], out.image)
    keep = known.bool().expand_as(image)
    assert torch.equal(composite(image, out.image, known)[keep], image[keep])
    sum(v.abs().mean() for v in out.extras.values()).backward()
    grads = {n: p.grad for n, p in generator.named_parameters()}
    assert all(g is not None and torch.isfinite(g).all() for g in grads.values())
    # at 64² the bottom level is 16² and its attention grid 2×2: every key touches the hole, so that branch idles
    idle = {n for n, g in grads.items() if float(g.abs().sum()) == 0}
    assert idle and all(n.startswith(("levels.0.refine.attention_in.", "levels.0.refine.attention_out.")) for n in idle)
    generator.zero_grad(set_to_none=True)
    known = torch.ones(1, 1, 128, 128)
    known[..., 8:24, 8:24] = 0.0  # at 128² (bottom level 32², grid 4×4) some keys are valid at every level
    out = generator(torch.rand(1, 3, 128, 128) * 2 - 1, known)
    sum(v.abs().mean() for v in out.extras.values()).backward()
    assert all(float(p.grad.abs().sum()) > 0 for p in generator.parameters())


def test_a_hole_pixel_of_any_value_gives_the_same_output() -> None:
    generator = PyramidGenerator(size="small").eval()
    image, known = _batch()
    scrambled = torch.where(known.bool(), image, torch.rand_like(image) * 100 - 50)
    with torch.no_grad():
        first, second = generator(image, known), generator(scrambled, known)
    for key in first.extras:
        assert torch.equal(first.extras[key], second.extras[key]), key


def test_the_pyramid_keeps_the_hole_ratio_and_leaks_no_hole_pixel() -> None:
    aligned = torch.ones(1, 1, 64, 64)
    aligned[..., 16:48, 8:40] = 0.0  # block-aligned for factors 2 and 4: the ratio is exact
    for factor in (2, 4):
        assert float(downscale_known(aligned, factor).mean()) == float(aligned.mean())
    for seed in range(6):
        known = torch.from_numpy(generate_mask("irregular", 256, 256, np.random.default_rng(seed)))[None, None]
        for factor in (2, 4):
            small = downscale_known(known, factor)
            assert set(small.unique().tolist()) <= {0.0, 1.0}
            assert abs(float(small.mean()) - float(known.mean())) < 0.02, (seed, factor)  # boundary blocks only
    image = torch.rand(1, 3, 8, 8)
    known = torch.ones(1, 1, 8, 8)
    known[..., 0, 0] = 0.0  # one hole pixel in the top-left 2×2 block
    low = downscale_image(image * known, known, 2)
    torch.testing.assert_close(low[..., 0, 0], image[..., :2, :2].flatten(2)[..., 1:].mean(-1))  # its 3 known pixels


class _Taps:
    """Inputs and outputs of named modules during one forward."""

    def __init__(self, modules: dict[str, nn.Module]) -> None:
        self.seen: dict[str, torch.Tensor] = {}
        self.handles = []
        for name, module in modules.items():
            self.handles.append(module.register_forward_pre_hook(
                lambda _m, args, name=name: self.seen.__setitem__(f"{name}.in", args[0].detach())))
            self.handles.append(module.register_forward_hook(
                lambda _m, _a, out, name=name: self.seen.__setitem__(f"{name}.out", out.detach())))

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


@pytest.mark.parametrize("fusion", FUSIONS)
def test_each_fusion_wires_the_lower_level_as_table_4_says(fusion: str) -> None:
    torch.manual_seed(0)
    generator = PyramidGenerator(size="small", fusion=fusion).eval()
    below, level = generator.levels[0], generator.levels[1]
    taps = _Taps({"features0": below.refine.dilated, "body": level.coarse.body, "coarse_decoder": level.coarse.decoder,
                  "dilated": level.refine.dilated, "attention": level.refine.attention_in,
                  "refine_decoder": level.refine.decoder})
    image, known = _batch(1)
    with torch.no_grad():
        out = generator(image, known)
    taps.remove()
    seen = taps.seen
    known1 = downscale_known(known, 2)
    masked1 = downscale_image(image * known, known, 2) * known1
    hole1 = 1 - known1

    def refine_input(x: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.where(known1.bool(), masked1, x), torch.ones_like(hole1), hole1], dim=1)

    coarse1 = out.extras["coarse_1"]
    up_image = F.interpolate(out.extras["level_0"], size=(32, 32), mode="bilinear", align_corners=False)
    plain, fused = refine_input(coarse1), refine_input(coarse1 + up_image)
    expected_dilated, expected_attention = {
        "refine_input": (fused, fused), "attention_path": (plain, fused), "dilated_path": (fused, plain),
    }.get(fusion, (plain, plain))
    torch.testing.assert_close(seen["dilated.in"], expected_dilated)
    torch.testing.assert_close(seen["attention.in"], expected_attention)
    if fusion in ("refine_input", "attention_path", "dilated_path"):
        assert not torch.allclose(plain, fused)  # the image really is passed on
    up_features = F.interpolate(seen["features0.out"], size=(8, 8), mode="bilinear", align_corners=False)
    body = seen["body.out"]
    torch.testing.assert_close(seen["coarse_decoder.in"], body + up_features if fusion == "feature_coarse" else body)
    dilated = seen["dilated.out"] + (up_features if fusion == "feature_refine" else 0)
    torch.testing.assert_close(seen["refine_decoder.in"][:, : dilated.shape[1]], dilated)


def test_levels_option_builds_table_3s_pyramids() -> None:
    image, known = _batch(1)
    low = PyramidGenerator(size="small", levels=(4, 2)).eval()  # "128+256" at 512: the top level is at half size
    assert len(low.levels) == 2 and low.size_multiple == 32
    with torch.no_grad():
        out = low(image, known)
    assert out.extras["level_1"].shape[-2:] == (32, 32) and out.image.shape == image.shape
    torch.testing.assert_close(out.image, F.interpolate(out.extras["level_1"], size=(64, 64), mode="bilinear",
                                                        align_corners=False))
    high = PyramidGenerator(size="small", levels=(2, 1))  # "256+512"
    assert len(high.levels) == 2 and high.size_multiple == 16
    with pytest.raises(ValueError, match="strictly decreasing"):
        PyramidGenerator(size="small", levels=(1, 2))
    with pytest.raises(ValueError, match="fusion must be one of"):
        PyramidGenerator(size="small", fusion="pixel")


def _rates(module: nn.Module) -> list[int]:
    return [m.feature.dilation[0] for m in module.modules()
            if isinstance(m, LightweightGatedConv2d) and m.feature.dilation[0] > 1]


def test_dilation_schedules_and_sizes() -> None:
    adaptive = PyramidGenerator(size="paper")
    assert [_rates(g.coarse) for g in adaptive.levels] == [[2, 4, 8, 12], [2, 4, 8], [2, 4, 8]]
    assert [_rates(g.refine.dilated) for g in adaptive.levels] == [[2, 4, 8, 12], [2, 4, 8], [2, 4, 8]]
    standard = PyramidGenerator(size="paper", dilations="standard")
    assert all(_rates(g.coarse) == [2, 4, 8, 16] for g in standard.levels)
    # 3 × DeepFillv2 (4,057,278) less one dilated gated conv (96→96, 3×3: 166,080) per stage of G1 and G2
    assert sum(p.numel() for p in adaptive.parameters()) == 3 * 4_057_278 - 4 * 166_080 == 11_507_514
    assert sum(p.numel() for p in standard.parameters()) == 3 * 4_057_278


def test_one_gan_step_at_64(tmp_path) -> None:
    torch.manual_seed(0)
    model = InpaintingGAN(PyramidGenerator(size="small"), PatchDiscriminator(width=8),
                          losses=LossConfig(adversarial="hinge", lambda_coarse=1.0, lambda_aux=0.0))

    class Once:
        def __iter__(self):
            yield tiny_batch(2, SIZE)

        def __len__(self) -> int:
            return 1

    trainer = Trainer(accelerator="cpu", devices=1, max_steps=1, logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, default_root_dir=str(tmp_path),
                      limit_val_batches=0, num_sanity_val_steps=0)
    trainer.fit(model, train_dataloaders=Once())
    assert trainer.global_step == 1 and math.isfinite(float(trainer.callback_metrics["train/coarse"]))


def test_config_parses_at_paper_size_and_builds_small() -> None:
    from pathlib import Path

    import yaml
    from jsonargparse import ArgumentParser

    model_dir = Path(__file__).resolve().parents[1] / "experiments" / "model"
    config = yaml.safe_load((model_dir / "pyramid.yaml").read_text())["model"]["generator"]
    parser = ArgumentParser(exit_on_error=False)
    parser.add_subclass_arguments(nn.Module, "generator")
    paper = parser.parse_object({"generator": config})
    assert paper.generator.init_args.size == "paper" and list(paper.generator.init_args.levels) == [4, 2, 1]
    small = yaml.safe_load((model_dir / "small.yaml").read_text())["model"]["generator"]["init_args"]
    config["init_args"].update(small)
    built = parser.instantiate(parser.parse_object({"generator": config})).generator
    assert isinstance(built, PyramidGenerator) and built.fusion == "refine_input" and built.dilations == "adaptive"
