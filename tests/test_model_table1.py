"""Table I(b)'s wiring as data: a variant whose structure map is reconstructed from the texture map.

The structure branches reuse the reconstruction block; the tests check the data, shapes, that hole pixels never
matter, that gradients reach every new parameter, and — by value and by ablation — that the structure map really is
fed from the texture map while the rest of the encoder is unchanged.
"""

from __future__ import annotations

import functools

import pytest
import torch
from torch import nn

from inpaint.analysis.taps import EncoderTaps
from inpaint.errors import UserInputError
from inpaint.models.encoders.options import TSGLOptions
from inpaint.models.generators.tsgl import TSGLGenerator
from inpaint.models.variants import EXTRA_VARIANTS, Variant, get_variant
from inpaint.nn.reconstruction import Branch, ReconstructionBlock

NEW = "Global->Global+Texture->Structure"


def _inputs(b: int = 2, size: int = 64, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    mask = torch.ones(b, 1, size, size)
    mask[:, :, size // 4: size // 2, size // 4: 3 * size // 4] = 0.0
    return {
        "image": torch.rand(b, 3, size, size, generator=g) * 2 - 1,
        "mask": mask,
        "edge": (torch.rand(b, 1, size, size, generator=g) > 0.8).float(),
        "gray": torch.rand(b, 1, size, size, generator=g),
        "smooth": torch.rand(b, 3, size, size, generator=g) * 2 - 1,
    }


def _fresh(name: str = NEW) -> TSGLGenerator:
    torch.manual_seed(0)
    return TSGLGenerator(variant=name, size="small", channels_last=False)


@functools.cache
def _gen(name: str = NEW) -> TSGLGenerator:
    """One generator per variant, shared by the tests that neither step an optimizer nor change modules."""
    return _fresh(name)


def test_variant_data() -> None:
    spec = get_variant(NEW)
    assert NEW in EXTRA_VARIANTS and spec.uses_structure
    assert [(b.norm, b.source, b.times) for b in spec.branches] == [("global", "structure", 1)]
    assert [(b.norm, b.source, b.times) for b in spec.structure_branches] == [("global", "texture", 1)]
    assert get_variant("global__global-texture__structure") is spec
    assert get_variant("Global->Global").structure_branches == ()
    # structure branches only: the structure encoder is built though no texture branch reads it
    assert Variant("x", (), "", (Branch("global", "texture"),)).uses_structure
    with pytest.raises(ValueError, match="modulated by the texture map"):
        Variant("x", (), "", (Branch("global", "residual"),))


def test_block_reconstructs_another_map_from_a_texture_source() -> None:
    torch.manual_seed(0)
    block = ReconstructionBlock(6, 0, (Branch("global", "texture"),), hidden=4, texture_channels=8).eval()
    s, t = torch.randn(2, 6, 4, 4), torch.randn(2, 8, 4, 4)
    assert block.branches[0].stages[0].modulation.shared[0].in_channels == 8
    assert torch.equal(block(s, {"texture": t}), block.branches[0](s, t))


def test_shapes_and_modules_small_64() -> None:
    gen = _gen().eval()
    enc = gen.encoder
    assert enc.structure is not None and enc.structure_reconstruction is not None and gen.aux_decoder is not None
    assert len(enc.structure_reconstruction) == 5
    assert _gen("Global->Global").encoder.structure_reconstruction is None  # other variants: nothing new built
    inputs = _inputs()
    with torch.no_grad():
        feats = gen.encode(**{k: v for k, v in inputs.items()})
        out = gen(**inputs)
    assert feats.structure is not None and feats.structure.shape == (2, gen.profile.structure_channels[-1], 2, 2)
    assert [tuple(r.shape[-2:]) for r in feats.reconstructed] == [(32, 32), (16, 16), (8, 8), (4, 4), (2, 2)]
    assert out.image.shape == (2, 3, 64, 64) and out.edge is not None and out.edge.shape == (2, 1, 64, 64)


def test_hole_pixels_never_matter() -> None:
    gen = _gen().eval()
    inputs = _inputs(seed=1)
    hole = inputs["mask"] == 0
    changed = dict(inputs)
    for key in ("image", "edge", "gray", "smooth"):
        noise = torch.rand_like(inputs[key]) * 2 - 1
        changed[key] = torch.where(hole.expand_as(inputs[key]), noise, inputs[key])
    with torch.no_grad():
        a, b = gen(**inputs), gen(**changed)
    assert torch.equal(a.image, b.image) and a.edge is not None and b.edge is not None and torch.equal(a.edge, b.edge)


def test_gradients_reach_the_structure_reconstruction_from_the_image_loss() -> None:
    gen = _gen().train()
    gen.zero_grad(set_to_none=True)
    out = gen(**_inputs())
    out.image.abs().mean().backward()  # the image loss alone: the structure side reaches it through the texture
    for k, block in enumerate(gen.encoder.structure_reconstruction):
        grads = [p.grad for p in block.parameters() if p.requires_grad]
        assert grads and all(g is not None and torch.isfinite(g).all() for g in grads), k
        assert any(g.abs().sum() > 0 for g in grads), k
    first = gen.encoder.structure.convs[0].conv.weight.grad
    assert first is not None and first.abs().sum() > 0


def test_structure_map_is_the_block_applied_to_the_structure_layer_and_the_texture_map() -> None:
    """Exact values: each layer's structure source is F̃_k^S = block_k(S_k(F̃_{k−1}^S), F_k^T)."""
    gen = _gen().eval()
    enc = gen.encoder
    inputs = _inputs()
    mask = inputs["mask"]
    with torch.no_grad(), EncoderTaps(gen) as taps:
        gen(**inputs)
        s, s_mask = enc.structure_input(mask, inputs["edge"], inputs["gray"]), mask
        for k in range(5):
            s, s_mask = enc.structure.layer(k, s, s_mask)
            s = enc.structure_reconstruction[k](s, {"texture": taps.maps["texture"][k]})
            assert torch.equal(taps.maps["structure"][k], s), k


def test_structure_is_fed_from_texture_only_in_the_new_wiring() -> None:
    """Ablation: change only the texture inputs (known pixels of image and smooth); the structure maps follow them in
    the new variant and stay exactly as they were in Global->Global."""
    inputs = _inputs()
    other = dict(inputs, image=-inputs["image"], smooth=-inputs["smooth"])
    for name, follows in ((NEW, True), ("Global->Global", False)):
        gen = _gen(name).eval()
        with torch.no_grad():
            a, b = gen.encode(**inputs), gen.encode(**other)
        assert a.structure is not None and b.structure is not None
        assert (not torch.equal(a.structure, b.structure)) is follows, name


def test_interleaving_changes_nothing_else() -> None:
    """With identity structure blocks, the new wiring is Global->Global exactly (same weights, same output)."""

    class Identity(nn.Module):
        def forward(self, x: torch.Tensor, sources: dict[str, torch.Tensor]) -> torch.Tensor:
            return x

    ref, new = _gen("Global->Global").eval(), _fresh().eval()
    missing, unexpected = new.load_state_dict(ref.state_dict(), strict=False)
    assert not unexpected and missing and all(k.startswith("encoder.structure_reconstruction.") for k in missing)
    new.encoder.structure_reconstruction = nn.ModuleList(Identity() for _ in range(5))
    inputs = _inputs()
    with torch.no_grad():
        a, b = ref(**inputs), new(**inputs)
    assert torch.equal(a.image, b.image) and a.edge is not None and b.edge is not None and torch.equal(a.edge, b.edge)


def test_use_structure_false_is_refused() -> None:
    with pytest.raises(UserInputError, match="use_structure=False"):
        TSGLGenerator(variant=NEW, size="small", encoder_options=TSGLOptions(use_structure=False))
