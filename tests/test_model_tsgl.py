"""TSGLGenerator: every variant builds and trains at 64² (small), composite exactness, no leakage, sizes."""

from __future__ import annotations

import functools

import pytest
import torch

from inpaint.conventions import composite
from inpaint.models.discriminators import PatchDiscriminator
from inpaint.models.encoders.options import TSGLOptions
from inpaint.models.generators.tsgl import TSGLGenerator
from inpaint.models.interface import GeneratorOutput, InpaintGenerator
from inpaint.models.variants import VARIANTS


def _inputs(b: int, h: int, w: int, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    mask = torch.ones(b, 1, h, w)
    mask[:, :, h // 4: h // 2, w // 4: 3 * w // 4] = 0.0  # a rectangular hole
    mask = mask * (torch.rand(b, 1, h, w, generator=g) > 0.1).float()  # plus scattered holes
    return {
        "image": torch.rand(b, 3, h, w, generator=g) * 2 - 1,
        "mask": mask,
        "edge": (torch.rand(b, 1, h, w, generator=g) > 0.8).float(),
        "gray": torch.rand(b, 1, h, w, generator=g),
        "smooth": torch.rand(b, 3, h, w, generator=g) * 2 - 1,
    }


@functools.cache
def _small(name: str, preset: str = "paper") -> TSGLGenerator:
    """One small generator per (variant, preset), shared by the tests (none of them steps an optimizer)."""
    torch.manual_seed(0)
    return TSGLGenerator(variant=name, preset=preset, size="small")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", list(VARIANTS))
def test_variant_forward_backward_small_64(name: str) -> None:
    gen = _small(name).train()
    gen.zero_grad(set_to_none=True)
    assert isinstance(gen, InpaintGenerator)
    inputs = _inputs(2, 64, 64)
    out = gen(**inputs)
    assert isinstance(out, GeneratorOutput)
    assert out.image.shape == inputs["image"].shape
    assert out.image.min() >= -1.0 and out.image.max() <= 1.0
    if name == "Baseline":
        assert out.edge is None and gen.encoder.structure is None and gen.aux_decoder is None
    elif gen.encoder.uses_structure:
        assert out.edge is not None and out.edge.shape == inputs["mask"].shape
        assert out.edge.min() >= 0.0 and out.edge.max() <= 1.0
    else:  # residual/texture-only variants: no structure encoder, hence no D_S
        assert out.edge is None and gen.aux_decoder is None
    loss = out.image.abs().mean() + (out.edge.mean() if out.edge is not None else 0.0)
    loss.backward()
    grads = [p.grad for p in gen.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_composite_known_pixels_are_exact(name: str) -> None:
    gen = _small(name).eval()
    inputs = _inputs(1, 64, 64, seed=1)
    with torch.no_grad():
        out = gen(**inputs)
    comp = composite(inputs["image"], out.image, inputs["mask"])
    known = inputs["mask"].expand_as(comp).bool()
    assert torch.equal(comp[known], inputs["image"][known])
    assert torch.equal(comp[~known], out.image[~known])


@pytest.mark.parametrize(
    ("name", "preset"),
    [("2Global(Local)->Global(Local)", "paper"), ("2Global(Local)->Global(Local)", "official"),
     ("Baseline", "paper"), ("Local->Global", "official")],
)
def test_hole_pixels_do_not_leak(name: str, preset: str) -> None:
    gen = _small(name, preset).eval()
    inputs = _inputs(1, 64, 64, seed=2)
    hole = inputs["mask"] == 0
    with torch.no_grad():
        ref = gen(**inputs)
        for key in ("image", "edge", "gray", "smooth"):
            changed = dict(inputs)
            noise = torch.randn_like(inputs[key]) * 5
            changed[key] = torch.where(hole.expand_as(inputs[key]), noise, inputs[key])
            out = gen(**changed)
            assert torch.equal(out.image, ref.image), f"hole pixels of {key!r} leaked into the output"
            if ref.edge is not None:
                assert torch.equal(out.edge, ref.edge)


@pytest.mark.parametrize("size", [(64, 64), (128, 128), (256, 384), (96, 160)])
def test_runs_at_many_sizes(size: tuple[int, int]) -> None:
    gen = _small("2Global(Local)->Global(Local)").eval()
    inputs = _inputs(1, *size)
    with torch.no_grad():
        out = gen(**inputs)
    assert out.image.shape == (1, 3, *size) and out.edge is not None and out.edge.shape == (1, 1, *size)
    assert torch.isfinite(out.image).all()


def test_encoder_features_contract() -> None:
    gen = _small("2Global(Local)->Global(Local)").eval()
    inputs = _inputs(1, 128, 128)
    with torch.no_grad():
        feats = gen.encode(**inputs)
    assert feats.strides == (2, 4, 8, 16, 32, 64)
    assert feats.channels == gen.profile.pyramid_channels
    for f, m, c, s in zip(feats.features, feats.masks, feats.channels, feats.strides):
        assert f.shape == (1, c, 128 // s, 128 // s) and m.shape == (1, 1, 128 // s, 128 // s)
    assert set(feats.by_stride()) == {2, 4, 8, 16, 32, 64}
    assert feats.structure is not None and feats.structure.shape[1] == gen.profile.structure_channels[-1]
    with pytest.raises(ValueError, match="divisible by 64"):
        gen.encode(**_inputs(1, 96, 96))


def test_presets_and_overrides() -> None:
    official = TSGLGenerator(preset="official", size="small")
    assert official.encoder_options.global_norm == "batch" and official.encoder_options.depths == (2, 2, 6, 6)
    assert [len(s.blocks) for s in official.encoder.stages] == [2, 2, 6, 6]
    assert not official.encoder.stages[3].masked
    custom = TSGLGenerator(
        preset="official",
        size="small",
        encoder_options=TSGLOptions(depths=(1, 1, 1, 1), tau=50.0, global_norm="instance"),
    )
    assert [len(s.blocks) for s in custom.encoder.stages] == [1, 1, 1, 1]
    assert custom.encoder.stages[0].blocks[0].tau == 50.0
    assert custom.encoder.reconstruction[0].branches[0].stages[0].modulation.norm.kind == "instance"
    with pytest.raises(ValueError, match="unknown TSGL variant"):
        TSGLGenerator(variant="Global->Nowhere", size="small")
    with pytest.raises(ValueError, match="structure encoder"):
        TSGLGenerator(variant="Baseline", size="small", encoder_options=TSGLOptions(aux_decoder=True))
    with_structure = TSGLGenerator(
        variant="Local->Local", size="small", encoder_options=TSGLOptions(use_structure=True, aux_decoder=True)
    )
    assert with_structure.encoder.structure is not None and with_structure.aux_decoder is not None
    with pytest.raises(ValueError, match="unknown preset"):
        TSGLGenerator(preset="legacy", size="small")  # type: ignore[arg-type]


def test_paper_widths_match_official_sizes() -> None:
    """Official preset, paper widths: Table V encoder-only 37.8 M (within 2 %), D_S 53.5 M, D 4.32 M."""
    with torch.device("meta"):
        gen = TSGLGenerator(preset="official", size="paper")
        disc = PatchDiscriminator()
    encoder_only = sum(p.numel() for p in gen.encoder.encoder_only_parameters())
    assert abs(encoder_only - 37.8e6) / 37.8e6 < 0.02
    assert abs(sum(p.numel() for p in gen.aux_decoder.parameters()) - 53.54e6) < 0.01e6
    assert abs(sum(p.numel() for p in gen.balance.parameters()) - 54.99e6) < 0.01e6  # official trainable part
    assert sum(p.numel() for p in disc.parameters()) == 4_318_401


def test_builds_from_lightning_style_yaml() -> None:
    from jsonargparse import ArgumentParser

    parser = ArgumentParser()
    parser.add_argument("--generator", type=InpaintGenerator)
    cfg = parser.parse_string(
        "generator:\n  class_path: inpaint.models.generators.tsgl.TSGLGenerator\n"
        "  init_args: {variant: Baseline, size: small, preset: official,\n"
        "              encoder_options: {tau: 50, depths: [1, 1, 2, 2]}}\n"
    )
    gen = parser.instantiate(cfg).generator
    assert isinstance(gen, TSGLGenerator) and gen.variant.name == "Baseline"
    options = gen.encoder_options
    assert options.tau == 50 and options.depths == (1, 1, 2, 2) and options.global_norm == "batch"
