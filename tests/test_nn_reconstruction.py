"""The generic reconstruction block: branch counts per variant, sources, the local residual."""

from __future__ import annotations

import pytest
import torch

from inpaint.models.variants import VARIANTS, get_variant
from inpaint.nn.reconstruction import Branch, ReconstructionBlock, local_residual


def _block(name: str) -> ReconstructionBlock:
    return ReconstructionBlock(8, 6, get_variant(name).branches, hidden=4)


def test_baseline_has_no_branch_and_is_identity() -> None:
    block = _block("Baseline")
    assert len(block.branches) == 0 and sum(p.numel() for p in block.parameters()) == 0
    x = torch.randn(1, 8, 4, 4)
    assert block(x, {}) is x


def test_ours_has_two_global_stages_and_one_local() -> None:
    block = _block("2Global(Local)->Global(Local)")
    specs = [(b.branch.norm, b.branch.source, len(b.stages)) for b in block.branches]
    assert specs == [("global", "structure", 2), ("local", "residual", 1)]


@pytest.mark.parametrize("name", list(VARIANTS))
def test_stage_counts_match_variant_data(name: str) -> None:
    block = _block(name)
    assert sum(len(b.stages) for b in block.branches) == sum(b.times for b in get_variant(name).branches)


def test_output_is_sum_of_branches() -> None:
    torch.manual_seed(0)
    block = ReconstructionBlock(8, 6, (Branch("global", "structure"), Branch("local", "texture")), hidden=4).eval()
    x, s = torch.randn(2, 8, 4, 4), torch.randn(2, 6, 4, 4)
    expected = block.branches[0](x, s) + block.branches[1](x, x)
    assert torch.allclose(block(x, {"structure": s}), expected, atol=1e-6)


def test_missing_source_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="residual"):
        _block("Local->Local")(torch.randn(1, 8, 4, 4), {})


def test_bad_branch_values() -> None:
    with pytest.raises(ValueError, match="source"):
        Branch("global", "edges")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times"):
        Branch("local", "residual", 0)


def test_local_residual_definition() -> None:
    prev = torch.arange(16.0).view(1, 1, 4, 4)
    cur = torch.ones(1, 1, 2, 2)
    r = local_residual(prev, cur, "area")
    expected = torch.nn.functional.avg_pool2d(prev - 1.0, 2)
    assert torch.allclose(r, expected)
    r_bilinear = local_residual(prev, cur, "bilinear")
    # align_corners=True on a 4→2 reduction samples the corners of the difference map
    assert torch.allclose(r_bilinear[0, 0], torch.tensor([[0.0, 3.0], [12.0, 15.0]]) - 1.0)
