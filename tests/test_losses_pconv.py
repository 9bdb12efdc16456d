"""The PConv family's losses (Liu et al. 2018; seed 004): MSE reading of the valid/hole terms, Gram matrix, style,
perceptual, hole TV — by hand — and the VGG-16 loss network: refused without its weights, computed with them."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from inpaint.losses import (
    LossConfig,
    generator_losses,
    gram_matrix,
    hole_tv_loss,
    masked_l1,
    perceptual_loss,
    style_loss,
)
from inpaint.models import vgg16_features
from inpaint.models.vgg16_features import VGG16_WEIGHTS, vgg16_pools

ROOT = Path(__file__).resolve().parents[1]


def test_valid_and_hole_terms_as_mse() -> None:
    prediction = torch.tensor([[[[1.0, 2.0], [3.0, 5.0]]]])  # errors 1, 2 (known) and 3, 5 (hole)
    mask = torch.tensor([[[[1.0, 1.0], [0.0, 0.0]]]])
    target = torch.zeros_like(prediction)
    assert masked_l1(prediction, target, mask, 6.0, 1.0, distance="mse").item() == pytest.approx(6 * 34 / 4 + 5 / 4)
    assert masked_l1(prediction, target, mask, 6.0, 1.0).item() == pytest.approx(6 * 8 / 4 + 3 / 4)  # L1 unchanged
    with pytest.raises(ValueError, match="reconstruction_distance"):
        LossConfig(reconstruction_distance="l2")  # type: ignore[arg-type]


def test_gram_style_and_perceptual_by_hand() -> None:
    features = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])  # B1 × C2 × H1 × W2
    assert torch.allclose(gram_matrix(features), torch.tensor([[[5.0, 11.0], [11.0, 25.0]]]) / 4)
    other = torch.zeros_like(features)
    # style: mean |G − 0| = (5 + 11 + 11 + 25) / 4 / 4 elements; two pools add up
    assert style_loss([features, features], [other, other]).item() == pytest.approx(2 * 52 / 16)
    assert perceptual_loss([features], [other]).item() == pytest.approx(10 / 4)


def test_tv_counts_only_pairs_inside_the_dilated_hole() -> None:
    image = torch.arange(4.0).repeat(4, 1).view(1, 1, 4, 4)  # x[i, j] = j: horizontal steps of 1, vertical 0
    mask = torch.ones(1, 1, 4, 4)
    mask[..., 1, 1] = 0.0  # dilated: rows 0-2, cols 0-2 → 6 horizontal and 6 vertical pairs inside
    assert hole_tv_loss(image, mask).item() == pytest.approx(6 / 16)
    assert hole_tv_loss(image, torch.ones_like(mask)).item() == 0.0  # no hole, no region


def test_vgg_terms_are_refused_without_the_weights_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=rf"{VGG16_WEIGHTS}.*{tmp_path}"):
        LossConfig(lambda_vgg_style=120.0)
    LossConfig(lambda_tv=0.1)  # TV needs no network


@pytest.fixture
def fake_vgg_weights(tmp_path: Path, monkeypatch) -> dict[str, torch.Tensor]:
    """A randomly initialised VGG-16 saved where torchvision's ImageNet file would be."""
    from torchvision.models import vgg16

    torch.manual_seed(0)
    state = vgg16(weights=None).state_dict()
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    torch.save(state, folder / VGG16_WEIGHTS)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    vgg16_pools.cache_clear()
    yield state
    vgg16_pools.cache_clear()


def test_vgg_pools_are_torchvisions_features_and_feed_the_losses(fake_vgg_weights) -> None:
    from torchvision.models import vgg16

    net = vgg16_pools("cpu")
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    pools = net(x)
    assert [p.shape[1:] for p in pools] == [(64, 16, 16), (128, 8, 8), (256, 4, 4)]
    reference = vgg16(weights=None)
    reference.load_state_dict(fake_vgg_weights)
    normalised = ((x + 1) / 2 - vgg16_features.VGG16Pools().mean) / vgg16_features.VGG16Pools().std
    assert torch.allclose(pools[2], reference.features[:17](normalised), atol=1e-5)
    config = LossConfig(hole_weight=6.0, lambda_adv=0.0, lambda_aux=0.0, lambda_vgg_perceptual=0.05,
                        lambda_vgg_style=120.0, lambda_tv=0.1)
    target, mask = torch.rand(2, 3, 32, 32) * 2 - 1, torch.ones(2, 1, 32, 32)
    mask[..., 8:24, 8:24] = 0.0
    output = (torch.rand(2, 3, 32, 32) * 2 - 1).requires_grad_(True)
    terms = generator_losses(config, output, target, mask, None)
    expected = terms["rec"] + 0.05 * terms["vgg_perceptual"] + 120 * terms["vgg_style"] + 0.1 * terms["tv"]
    assert terms["total"].item() == pytest.approx(expected.item(), rel=1e-6)
    assert all(terms[k].item() > 0 for k in ("vgg_perceptual", "vgg_style", "tv"))
    terms["total"].backward()
    assert output.grad is not None and bool(output.grad.abs().sum() > 0)
    assert not any(p.requires_grad for p in net.parameters())  # the loss network stays frozen


@pytest.mark.filterwarnings("ignore:LightningCLI's args parameter is intended")  # pytest's own argv is not ours
@pytest.mark.parametrize("recipe", ["pconv", "msfef"])
def test_recipes_stop_at_start_up_without_vgg_weights(recipe: str, tmp_path: Path, monkeypatch, capsys) -> None:
    from inpaint.lit.cli import run_cli

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    code = run_cli(["fit", "--config", str(ROOT / "experiments/data/embedded.yaml"),
                    "--config", str(ROOT / "experiments/model/msfef_unet.yaml"),
                    "--config", str(ROOT / f"experiments/model/recipes/{recipe}.yaml"),
                    "--config", str(ROOT / "experiments/trainer/cpu-small.yaml"),
                    "--model.generator.init_args.stages=6", f"--run.dir={tmp_path / 'run'}", "--run.logger=none"])
    assert code == 2  # a user error: one line naming the file and the folder, nothing written
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("inpaint: error")]
    assert len(errors) == 1 and VGG16_WEIGHTS in errors[0] and str(tmp_path / "hub" / "checkpoints") in errors[0]
    assert not any((tmp_path / "run").rglob("*"))  # no config, checkpoint or log written
