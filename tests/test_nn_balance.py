"""Cross-layer balance and feature equalisation (Eq. 9–12)."""

from __future__ import annotations

import torch

from inpaint.nn.balance import CrossLayerBalance, FeatureEqualization


def test_range_softmax_sums_to_one_over_neighbours() -> None:
    x = torch.randn(2, 6, 5, 7)
    w = FeatureEqualization.range_weights(x)
    assert w.shape == (2, 9, 5, 7)
    assert torch.allclose(w.sum(dim=1), torch.ones(2, 5, 7), atol=1e-6)
    # a corner has 4 in-map neighbours (incl. itself): the 5 outside ones get weight 0
    assert (w[:, :, 0, 0] > 0).sum(dim=1).eq(4).all()


def test_range_term_matches_loop_reference() -> None:
    torch.manual_seed(0)
    x = torch.randn(1, 3, 4, 4)
    eq = FeatureEqualization(3, reduction=1)
    y = eq.range(x)
    s = torch.sigmoid(x)[0]
    ref = torch.zeros(3, 4, 4)
    for i in range(4):
        for j in range(4):
            nbrs = [(i + di, j + dj) for di in (-1, 0, 1) for dj in (-1, 0, 1) if 0 <= i + di < 4 and 0 <= j + dj < 4]
            a = torch.stack([(s[:, i, j] * s[:, p, q]).mean() for p, q in nbrs]).softmax(0)
            ref[:, i, j] = sum(a[n] * x[0, :, p, q] for n, (p, q) in enumerate(nbrs))
    assert torch.allclose(y[0], ref, atol=1e-6)


def test_gaussian_spatial_term_equals_full_map_sum() -> None:
    torch.manual_seed(0)
    h, w, sigma = 12, 10, 1.5
    x = torch.randn(1, 4, h, w, dtype=torch.float64)
    eq = FeatureEqualization(4).double()
    eq.taps = eq.taps.double()
    y = eq.spatial(x)
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    ref = torch.zeros_like(x)
    for i in range(h):
        for j in range(w):
            g = torch.exp(-((ys - i) ** 2 + (xs - j) ** 2) / (2 * sigma**2))
            g = g / g.sum()  # normalised over the whole map, as the official full-map table
            ref[0, :, i, j] = (x[0] * g).sum(dim=(1, 2))
    assert torch.allclose(y, ref, atol=1e-3)


def test_balance_shapes_and_residual() -> None:
    chans = (4, 8, 8, 16, 16, 16)
    balance = CrossLayerBalance(chans, width=8)
    feats = [torch.randn(2, c, 64 // s, 64 // s) for c, s in zip(chans, (2, 4, 8, 16, 32, 64))]
    outs = balance(feats)
    assert [o.shape for o in outs] == [f.shape for f in feats]
    sum(o.sum() for o in outs).backward()


def test_balance_has_no_frozen_parameters() -> None:
    balance = CrossLayerBalance((4, 8, 8, 16, 16, 16), width=8)
    assert all(p.requires_grad for p in balance.parameters())
