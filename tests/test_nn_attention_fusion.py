"""Attention-guided representation fusion (seed 003 Eq. 3 and 10): one N×N attention shared by every branch,
patches of side 2^d per branch, the residual, against a float64 reference built with unfold / fold."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from inpaint.nn.attention_fusion import AttentionGuidedFusion

WIDTHS = (2, 3, 4, 5)
SIZES = (16, 8, 4, 2)  # coarsest 2×2: N = 4 patches; patch sides 8, 4, 2, 1


def _features(dtype: torch.dtype = torch.float32) -> list[torch.Tensor]:
    torch.manual_seed(0)
    return [torch.randn(2, c, s, s, dtype=dtype) for c, s in zip(WIDTHS, SIZES)]


def test_uniform_attention_mixes_whole_patches() -> None:
    fusion = AttentionGuidedFusion(WIDTHS)
    with torch.no_grad():
        for conv in (fusion.query, fusion.key):
            conv.weight.zero_(), conv.bias.zero_()  # s = 0: a_ij = 1/N
    features = _features()
    values = torch.tensor([1.0, 2.0, 4.0, 9.0])  # patch j constant (value v_j) on the finest branch: 8×8 blocks
    features[0] = values.view(1, 1, 2, 2).repeat_interleave(8, -1).repeat_interleave(8, -2).expand(2, 2, 16, 16)
    out = fusion(features)
    expected = (values + values.mean()).view(1, 1, 2, 2).repeat_interleave(8, -1).repeat_interleave(8, -2)
    assert torch.equal(out[0], expected.expand(2, 2, 16, 16))  # y_i = mean_j p_j + p_i, block by block
    assert torch.allclose(out[3], features[3] + features[3].mean(dim=(2, 3), keepdim=True), atol=1e-6)


def test_against_an_unfold_reference_in_float64() -> None:
    fusion = AttentionGuidedFusion(WIDTHS).double()
    features = _features(torch.float64)
    a = fusion.attention(features)
    assert a.shape == (2, 4, 4) and torch.allclose(a.sum(-1), torch.ones(2, 4, dtype=torch.float64))
    # the attention reads every branch: pooled to 2×2 (block means) and concatenated
    joint = torch.cat([F.adaptive_avg_pool2d(x, 2) for x in features], 1).flatten(2)
    f = torch.einsum("oc,bcn->bon", fusion.query.weight[..., 0, 0], joint) + fusion.query.bias.view(1, -1, 1)
    g = torch.einsum("oc,bcn->bon", fusion.key.weight[..., 0, 0], joint) + fusion.key.bias.view(1, -1, 1)
    scores = torch.einsum("bci,bcj->bij", f, g)
    assert torch.allclose(a, torch.softmax(scores, -1), rtol=0, atol=1e-12)
    out = fusion(features)
    for x, y, side in zip(features, out, (8, 4, 2, 1)):
        patches = F.unfold(x, side, stride=side)  # B×(C·side²)×N, patch j in row-major order of the 2×2 grid
        mixed = torch.einsum("bij,bkj->bki", a, patches) + patches
        reference = F.fold(mixed, x.shape[-2:], side, stride=side)
        assert torch.allclose(y, reference, rtol=0, atol=1e-12)


def test_attention_is_shared_and_reads_fine_branches() -> None:
    fusion = AttentionGuidedFusion(WIDTHS)
    features = _features()
    before = fusion.attention(features)
    features[0] = features[0] + torch.randn_like(features[0])
    assert not torch.allclose(before, fusion.attention(features))
    assert fusion.query.out_channels == sum(WIDTHS) // 8 and fusion.key.in_channels == sum(WIDTHS)


@pytest.mark.parametrize("levels", [1, 2, 3, 5])
def test_any_number_of_levels(levels: int) -> None:
    widths = tuple(8 * (i + 1) for i in range(levels))
    sizes = [4 * 2 ** (levels - 1 - i) for i in range(levels)]
    fusion = AttentionGuidedFusion(widths)
    features = [torch.randn(1, c, s, s + s // 2) for c, s in zip(widths, sizes)]  # non-square
    out = fusion(features)
    assert [tuple(y.shape) for y in out] == [tuple(x.shape) for x in features]


def test_sizes_must_be_multiples_of_the_coarsest() -> None:
    fusion = AttentionGuidedFusion((2, 3))
    with pytest.raises(ValueError, match="integer multiple"):
        fusion([torch.zeros(1, 2, 6, 6), torch.zeros(1, 3, 4, 4)])
