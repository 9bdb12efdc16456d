"""Attention paid to holes: exact shares on hand-made windows where every logit is equal (so the softmax is decided
by the τ term alone), a window without valid keys, padding that is never a key, and the taps on TSGL (τ lowers the
share)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from inpaint.analysis.attention_maps import HoleAttentionTaps, hole_attention
from inpaint.data.masks import fixed_eval_masks
from inpaint.models.generators.tsgl import TSGLGenerator
from inpaint.nn.attention import MaskedWindowAttentionLayer


def _layer(tau: float, window: int = 4) -> MaskedWindowAttentionLayer:
    return MaskedWindowAttentionLayer(dim=4, heads=1, window=window, shifted=False, tau=tau).eval()


def _share(tau: float, invalid: int, valid: int) -> float:
    """Softmax mass on ``invalid`` keys pushed down by τ/√d (d = 4) beside ``valid`` keys, other logits equal."""
    pushed = invalid * math.exp(-tau / 2)
    return pushed / (pushed + valid)


@pytest.mark.parametrize("tau", [0.0, 2.0, 100.0])
def test_equal_logits_give_the_tau_softmax_share(tau: float) -> None:
    known = torch.ones(1, 1, 4, 4)
    known[..., 0, :] = 0  # 4 of the 16 tokens of the one window are holes
    x = torch.zeros(1, 4, 4, 4)  # zero tokens: every query-key logit is the same (the linear biases only)
    share = hole_attention(_layer(tau), x, known)
    assert share.shape == (1, 1, 4, 4)
    torch.testing.assert_close(share, torch.full_like(share, _share(tau, 4, 12)), rtol=1e-6, atol=1e-7)


def test_a_window_without_valid_keys_attends_only_to_holes() -> None:
    known = torch.ones(1, 1, 8, 8)
    known[..., :4, :4] = 0  # exactly window 0
    share = hole_attention(_layer(100.0), torch.zeros(1, 4, 8, 8), known)[0, 0]
    torch.testing.assert_close(share[:4, :4], torch.ones(4, 4))
    assert torch.equal(share[4:, :], torch.zeros(4, 8)) and torch.equal(share[:, 4:], torch.zeros(8, 4))


def test_padding_is_never_a_key() -> None:
    known = torch.ones(1, 1, 6, 6)
    known[..., 5, 5] = 0  # one hole among the 4 map tokens of the padded bottom-right window
    share = hole_attention(_layer(2.0), torch.zeros(1, 4, 6, 6), known)[0, 0]
    torch.testing.assert_close(share[4:, 4:], torch.full((2, 2), _share(2.0, 1, 3)), rtol=1e-6, atol=1e-7)
    assert float(share[:4, :4].abs().max()) == 0.0


def test_taps_on_tsgl_record_the_masked_blocks_and_tau_lowers_the_share() -> None:
    known = torch.from_numpy(np.stack(fixed_eval_masks("thick", [[0.3, 0.4]], 2, 64)))[:, None].float()
    image = torch.rand(2, 3, 64, 64) * 2 - 1
    shares = {}
    for tau in (0.0, 100.0):
        torch.manual_seed(0)
        generator = TSGLGenerator(size="small", preset="official", encoder_options={"tau": tau}).eval()
        with torch.no_grad(), HoleAttentionTaps(generator) as taps:
            generator(image, known, edge=image[:, :1], gray=image[:, :1], smooth=image)
        maps = taps.maps()
        assert list(maps)[0] == "encoder.stages.0.blocks.0" and maps[list(maps)[0]].shape == (2, 1, 16, 16)
        assert all(0.0 <= float(m.min()) and float(m.max()) <= 1.0 + 1e-6 for m in maps.values())
        shares[tau] = float(maps["encoder.stages.0.blocks.0"].mean())
    assert shares[100.0] < shares[0.0] and shares[0.0] > 0.01
