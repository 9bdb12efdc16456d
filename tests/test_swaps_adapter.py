"""The thin adapter between the TSGL encoder's pyramid and a host decoder's DecoderSpec."""

from __future__ import annotations

import pytest
import torch

from inpaint.models.adapters import FeatureAdapter
from inpaint.models.complexity import count
from inpaint.models.generators.hifill import HiFillRefineDecoder
from inpaint.models.generators.host_interface import DecoderSpec, FeatureSlot
from inpaint.models.generators.pennet import PENNetDecoder, pennet_widths

TSGL_CHANNELS = (64, 128, 256, 512, 512, 512)  # paper profile f1…f6
TSGL_STRIDES = (2, 4, 8, 16, 32, 64)


def _features(channels: tuple[int, ...], side: int) -> dict[int, torch.Tensor]:
    return {s: torch.randn(1, c, side // s, side // s) for s, c in zip(TSGL_STRIDES, channels)}


def test_paper_adapter_sizes_are_those_of_the_1x1_projections() -> None:
    """+174,560 parameters for PEN-Net (1×1 convs at strides 2…16, identity at 1/32, 1/64), +43,232 for HiFill."""
    with torch.device("meta"):
        pennet = FeatureAdapter(TSGL_CHANNELS, TSGL_STRIDES, PENNetDecoder(pennet_widths(32)).spec)
        hifill = FeatureAdapter(TSGL_CHANNELS, TSGL_STRIDES, HiFillRefineDecoder((32, 64, 128)).spec)
        fused = FeatureAdapter(TSGL_CHANNELS, TSGL_STRIDES, HiFillRefineDecoder((32, 64, 128)).spec,
                               fuse_coarser=("f3",))
    assert count(pennet.parameters()) == 174_560
    assert isinstance(pennet.projections["x5"].project, torch.nn.Identity)
    assert isinstance(pennet.projections["x6"].project, torch.nn.Identity)
    assert count(hifill.parameters()) == 43_232
    # F3 then reads f3…f6: (256 + 3·512)·128 + 128 instead of 256·128 + 128
    assert count(fused.parameters()) == 43_232 - 256 * 128 + (256 + 3 * 512) * 128


def test_output_matches_the_spec_and_identity_passes_through() -> None:
    spec = DecoderSpec((FeatureSlot("a", 2, 8), FeatureSlot("b", 8, 32)))
    adapter = FeatureAdapter((8, 16, 32), (2, 4, 8), spec)
    feats = {2: torch.randn(2, 8, 16, 16), 4: torch.randn(2, 16, 8, 8), 8: torch.randn(2, 32, 4, 4)}
    out = adapter(feats, 32, 32)
    spec.check(out, 32, 32, "test")
    assert torch.equal(out["a"], feats[2]) and torch.equal(out["b"], feats[8])


def test_missing_stride_is_resampled_from_the_nearest_level() -> None:
    spec = DecoderSpec((FeatureSlot("deep", 16, 4),))
    adapter = FeatureAdapter((4,), (8,), spec)
    x = torch.arange(16.0).view(1, 1, 4, 4).repeat(1, 4, 1, 1)
    with torch.no_grad():
        adapter.projections["deep"].project = torch.nn.Identity()
    out = adapter({8: x}, 32, 32)["deep"]
    expected = torch.tensor([[2.5, 4.5], [10.5, 12.5]])  # 2×2 block means of the 4×4 ramp
    assert torch.allclose(out[0, 0], expected)


def test_channel_mismatch_raises_a_clear_error() -> None:
    adapter = FeatureAdapter(TSGL_CHANNELS, TSGL_STRIDES, PENNetDecoder(pennet_widths(8)).spec, host="PENNet")
    feats = _features(TSGL_CHANNELS, 64)
    feats[4] = torch.randn(1, 32, 16, 16)  # 32 channels where 128 were declared
    with pytest.raises(ValueError, match=r"stride 4 has shape \(32, 16, 16\), expected \(128, 16, 16\)"):
        adapter(feats, 64, 64)


def test_stride_mismatch_raises_a_clear_error() -> None:
    adapter = FeatureAdapter(TSGL_CHANNELS, TSGL_STRIDES, HiFillRefineDecoder((8, 16, 32)).spec, host="HiFill")
    feats = _features(TSGL_CHANNELS, 64)
    feats[8] = torch.randn(1, 256, 16, 16)  # a stride-4 map handed in as stride 8
    with pytest.raises(ValueError, match=r"stride 8 has shape \(256, 16, 16\), expected \(256, 8, 8\)"):
        adapter(feats, 64, 64)
    with pytest.raises(KeyError, match="stride 2"):
        adapter({s: t for s, t in feats.items() if s != 2}, 64, 64)


def test_construction_errors() -> None:
    spec = DecoderSpec((FeatureSlot("x", 16, 4),))
    with pytest.raises(ValueError, match="only provides strides"):
        FeatureAdapter((4, 8), (2, 4), spec, allow_resize=False)
    with pytest.raises(ValueError, match="equal length"):
        FeatureAdapter((4, 8), (2,), spec)
    with pytest.raises(ValueError, match="not slots"):
        FeatureAdapter((4,), (16,), spec, fuse_coarser=("y",))
    with pytest.raises(ValueError, match="activation"):
        FeatureAdapter((4,), (16,), spec, activation="gelu")  # type: ignore[arg-type]
