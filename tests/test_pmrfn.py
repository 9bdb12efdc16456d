"""Seed 003's PMRFN generator: sizes, the wiring (branches, priority rules, fusions, ARF, heads), Table 2's
ablation rows as constructor data, the side outputs for the pyramid L1, and the shipped config end to end."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from _small_runs import small_cli

from inpaint.losses import pyramid_l1
from inpaint.models.generators.pmrfn import PMRFN, PMRFN_TABLE2
from inpaint.nn.priority_mask import PriorityMaskUpdate

ROOT = Path(__file__).resolve().parents[1]


def _params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_sizes() -> None:
    paper = PMRFN()
    # the seeds summary's estimate is ≈ 42 M with HRNet's full exchange; Eq. 9 read literally has fewer fusion convs
    assert _params(paper) == 40_538_980
    assert _params(paper.stages) == 37_647_360 and _params(paper.fusions) == 2_293_760
    assert _params(PMRFN(size="small")) == 2_545_138
    assert _params(PMRFN(partial=False, priority=False)) == _params(paper)  # ablations change wiring, not weights
    assert _params(PMRFN(attention=False)) == _params(paper) - _params(paper.arf)


def test_wiring() -> None:
    g = PMRFN(size="small")
    assert len(g.stages) == 6 and all(len(stage) == 4 for stage in g.stages)
    assert all(len(branch.blocks) == 4 for stage in g.stages for branch in stage)
    widths = [branch.blocks[0].conv1.conv.in_channels for branch in g.stages[0]]
    assert widths == [8, 16, 32, 64]
    rules = [branch.blocks[0].conv1.mask_update for branch in g.stages[3]]
    assert all(isinstance(r, PriorityMaskUpdate) and r.delta == 0.5 for r in rules)
    assert [r.rho for r in rules] == ["residue", "residue", "residue", "contour"]  # Eq. 8 above, Eq. 7 at the bottom
    assert g.stem.conv.mask_update.rho == "residue"
    assert all(t.conv.conv.stride == (2, 2) and t.conv.mask_update is None for t in g.transitions)
    assert sorted(g.fusions) == ["0", "1", "2", "3", "4"] and g.arf is not None  # MRF after stages 1-5
    assert PMRFN(size="small", delta=0.25).stem.conv.mask_update.delta == 0.25


def test_table2_rows_are_constructor_data() -> None:
    assert list(PMRFN_TABLE2) == ["HRNet", "w/o PConv", "w/o ARF", "w/o MRF 1", "w/o MRF 3", "w/o MRF 5", "Full"]
    image = torch.rand(1, 3, 32, 32) * 2 - 1
    known = torch.ones(1, 1, 32, 32)
    known[..., 8:24, 4:20] = 0.0
    for row, kwargs in PMRFN_TABLE2.items():
        g = PMRFN(size="small", **kwargs).eval()
        removed = kwargs.get("fusions_removed", 0)
        assert sorted(g.fusions) == [str(s) for s in range(removed, 5)], row
        assert (g.arf is None) == (kwargs.get("attention") is False), row
        rule = g.stages[0][0].blocks[0].conv1.mask_update
        assert (rule is None) == (kwargs.get("priority") is False), row
        assert g.stages[0][0].blocks[0].partial == kwargs.get("partial", True), row
        with torch.no_grad():
            out = g(image, known)
        assert out.image.shape == image.shape and torch.isfinite(out.image).all(), row


def test_priority_changes_what_the_layers_fill() -> None:
    torch.manual_seed(0)
    image = torch.zeros(1, 3, 32, 32)
    image[..., 16:, :] = 0.8  # a horizontal edge running into a vertical hole border
    known = torch.ones(1, 1, 32, 32)
    known[..., 12:] = 0.0
    full, vanilla = PMRFN(size="small").eval(), PMRFN(size="small", priority=False).eval()
    vanilla.load_state_dict(full.state_dict())
    _, priority_mask = full.stem(image * known, known)
    _, vanilla_mask = vanilla.stem(image * known, known)
    assert bool((priority_mask <= vanilla_mask).all()) and bool((priority_mask < vanilla_mask).any())


def test_side_outputs_feed_the_pyramid_l1() -> None:
    g = PMRFN(size="small")
    image = torch.rand(2, 3, 64, 64) * 2 - 1
    out = g(image, torch.ones(2, 1, 64, 64))
    assert {k: tuple(v.shape) for k, v in out.extras.items()} == {
        "pyramid_0": (2, 3, 32, 32), "pyramid_1": (2, 3, 16, 16), "pyramid_2": (2, 3, 8, 8)}
    assert all(v.min() >= -1 and v.max() <= 1 for v in out.extras.values())
    loss = pyramid_l1(out.extras, image)
    expected = sum((v - torch.nn.functional.avg_pool2d(image, 64 // v.shape[-1])).abs().mean()
                   for v in out.extras.values())
    assert torch.allclose(loss, expected, atol=1e-6)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="priority=False"):
        PMRFN(partial=False)
    with pytest.raises(ValueError, match="fusions_removed"):
        PMRFN(fusions_removed=6)
    with pytest.raises(ValueError, match="delta"):
        PMRFN(size="small", delta=2.0)


def test_info_reads_the_config(capsys) -> None:
    from inpaint.commands import info

    assert info.main(["--config", str(ROOT / "experiments/model/pmrfn.yaml"), "--resolution", "256"]) == 0
    assert "params: total 40.539 M" in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore:LightningCLI's args parameter is intended")  # pytest's own argv is not ours
def test_config_trains_at_64_small(tmp_path: Path) -> None:
    cli = small_cli(tmp_path, ["experiments/model/pmrfn.yaml", "experiments/model/small.yaml"], steps=2)
    losses = cli.model.losses
    assert (losses.lambda_rec, losses.lambda_pyramid, losses.lambda_adv) == (20.0, 20.0, 1.0)
    assert (losses.hole_weight, losses.valid_weight, losses.adversarial) == (1.0, 1.0, "bce")
    assert tuple(cli.model.hparams.betas) == (0.001, 0.99)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    metrics = cli.trainer.callback_metrics
    assert cli.trainer.global_step >= 2
    assert math.isfinite(float(metrics["train/loss_g"])) and math.isfinite(float(metrics["train/loss_d"]))
    assert float(metrics["train/pyramid"]) > 0
