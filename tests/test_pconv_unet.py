"""Liu et al.'s PConv U-Net and seed 004's MSFEF U-Net: the layer table, sizes against the seeds summary, the MSFEF
block by hand, and the decoder's concatenated-mask window against NVIDIA's multi-channel rule."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from inpaint.models.generators.pconv_unet import LIU_KERNELS, EncoderStage, PConvUNet
from inpaint.nn.msfef import MSFEF
from inpaint.nn.partial_conv import concat_mask_window, mask_window


def test_sizes_match_the_seeds_summary() -> None:
    # the summary's estimates: 32.85 M (Liu et al.) and 44.9 M (MSFEF U-Net); BN and fusion weights are the rest
    assert sum(p.numel() for p in PConvUNet(encoder="pconv").parameters()) == 32_859_796
    assert sum(p.numel() for p in PConvUNet(encoder="msfef").parameters()) == 44_939_284


def test_layer_table() -> None:
    liu = PConvUNet(encoder="pconv")
    assert [s.conv.conv.kernel_size[0] for s in liu.encoder] == list(LIU_KERNELS)
    assert [s.conv.conv.out_channels for s in liu.encoder] == [64, 128, 256, 512, 512, 512, 512, 512]
    assert isinstance(liu.encoder[0].norm, torch.nn.Identity) and liu.encoder[0].conv.conv.bias is not None
    assert all(isinstance(s.norm, torch.nn.BatchNorm2d) and s.conv.conv.bias is None for s in liu.encoder[1:])
    decoder = [(d.cin, d.skip, d.conv.conv.out_channels) for d in liu.decoder]
    assert decoder == [(512, 512, 512)] * 4 + [(512, 256, 256), (256, 128, 128), (128, 64, 64), (64, 3, 3)]
    assert liu.decoder[-1].conv.conv.bias is not None and isinstance(liu.decoder[-1].norm, torch.nn.Identity)
    seed4 = PConvUNet(encoder="msfef")
    assert [type(s).__name__ for s in seed4.encoder] == ["MSFEF"] * 4 + ["EncoderStage"] * 4
    norms = [type(s.norm).__name__ for s in seed4.encoder[4:]]
    assert norms == ["InstanceNorm2d"] * 3 + ["BatchNorm2d"]  # the seed's table: BN at stage 8
    assert all(s.conv.conv.kernel_size == (3, 3) for s in seed4.encoder[4:] if isinstance(s, EncoderStage))
    assert len(PConvUNet(encoder="msfef", size="small", stages=6).encoder) == 6
    with pytest.raises(ValueError, match="stages"):
        PConvUNet(stages=4)
    with pytest.raises(ValueError, match="encoder"):
        PConvUNet(encoder="gated")  # type: ignore[arg-type]


def _mask() -> torch.Tensor:
    mask = torch.ones(1, 1, 16, 16)
    mask[..., 3:13, 4:12] = 0.0
    mask[..., 7, 0] = 0.0
    return mask


def test_msfef_is_the_gated_weighted_sum_of_three_partial_convs() -> None:
    torch.manual_seed(0)
    block = MSFEF(3, 5)
    with torch.no_grad():
        block.fusion.copy_(torch.rand_like(block.fusion))  # per-branch, per-channel weights
    x, mask = torch.randn(1, 3, 16, 16), _mask()
    y, new_mask = block(x, mask)
    branches = [branch(x, mask) for branch in block.branches]
    m3, m5, m7 = (m for _, m in branches)
    assert torch.equal(new_mask, m3)  # the block's mask is the 3×3 branch's
    assert bool((m3 <= m5).all() and (m5 <= m7).all()) and bool((m5 > m3).any())  # so the gate matters
    fused = sum(w * b for w, (b, _) in zip(block.fusion, branches)) * m3
    assert torch.allclose(y, F.relu(F.instance_norm(fused)), atol=1e-6)
    assert block.fusion.shape == (3, 1, 5, 1, 1) and block.fusion.requires_grad
    y.sum().backward()
    assert block.fusion.grad is not None and bool((block.fusion.grad != 0).all())


def test_concat_mask_window_is_nvidias_multichannel_window() -> None:
    gen = torch.Generator().manual_seed(1)
    up = (torch.rand(2, 1, 9, 9, generator=gen) > 0.5).float()
    skip = (torch.rand(2, 1, 9, 9, generator=gen) > 0.7).float()
    for channels in ((4, 2), (3, 5), (1, 1)):
        full = torch.cat([up.expand(-1, channels[0], -1, -1), skip.expand(-1, channels[1], -1, -1)], dim=1)
        reference = mask_window(full, 3, 1, 1)
        window = concat_mask_window([(up, channels[0]), (skip, channels[1])], 3, 1, 1)
        assert torch.equal(window.mask, reference.mask) and torch.equal(window.ratio, reference.ratio)


def test_info_reads_a_bare_generator_spec_and_explains_a_size_it_cannot_run(tmp_path, capsys) -> None:
    from inpaint.commands import info

    spec = tmp_path / "msfef.yaml"
    spec.write_text("class_path: inpaint.models.generators.pconv_unet.PConvUNet\ninit_args: {encoder: msfef}\n")
    assert info.main(["--config", str(spec), "--resolution", "256"]) == 0
    assert "params: total 44.939 M" in capsys.readouterr().out
    assert info.main(["--config", str(spec), "--resolution", "64"]) == 2  # 8 stages end below one pixel at 64²
    assert "needs sides above 128 px" in capsys.readouterr().err
    nested = tmp_path / "lightning.yaml"  # a LightningModule-style config still reaches its generator
    nested.write_text("model:\n  class_path: inpaint.lit.module.InpaintingGAN\n  init_args:\n    generator:\n"
                      "      class_path: inpaint.models.generators.pconv_unet.PConvUNet\n"
                      "      init_args: {encoder: pconv, stages: 6, size: small}\n")
    assert info.main(["--config", str(nested), "--resolution", "64"]) == 0
    assert "PConvUNet(encoder='pconv', stages=6, size='small')" in capsys.readouterr().out
