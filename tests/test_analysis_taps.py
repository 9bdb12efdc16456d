"""EncoderTaps: the named feature maps of a TSGL-encoder generator, read through hooks that change nothing."""

from __future__ import annotations

import pytest
import torch

from inpaint.analysis.taps import TAP_NAMES, EncoderTaps
from inpaint.models.generators.pconv_unet import PConvUNet
from inpaint.models.generators.tsgl import TSGLGenerator
from inpaint.nn.reconstruction import local_residual


def _inputs(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    image = torch.rand(2, 3, 64, 64, generator=g) * 2 - 1
    mask = torch.ones(2, 1, 64, 64)
    mask[:, :, 16:40, 20:48] = 0
    priors = {name: torch.rand(2, c, 64, 64, generator=g) for name, c in (("edge", 1), ("gray", 1), ("smooth", 3))}
    return image, mask, priors


def test_taps_read_every_level_and_change_nothing():
    generator = TSGLGenerator(size="small").eval()
    image, mask, priors = _inputs()
    with torch.no_grad():
        plain = generator(image, mask, **priors)
        with EncoderTaps(generator) as taps:
            tapped = generator(image, mask, **priors)
        features = generator.encoder(image * mask, mask, **priors)
    assert torch.equal(plain.image, tapped.image)  # hooks only read
    assert all(len(taps.maps[name]) == (6 if name.startswith("balance") else 5) for name in TAP_NAMES)
    for k in range(5):  # the block outputs are the encoder's reconstructed maps
        assert torch.equal(taps.maps["reconstructed"][k], features.reconstructed[k])
    # R_k is the residual of the previous reconstructed map against the current texture map
    for k in range(1, 5):
        expected = local_residual(taps.maps["reconstructed"][k - 1], taps.maps["texture"][k],
                                  generator.encoder.residual_resize)
        assert torch.equal(taps.maps["residual"][k], expected)
    assert [t.shape[-1] for t in taps.maps["texture"]] == [32, 16, 8, 4, 2]
    assert all(t.shape == s.shape for t, s in zip(taps.maps["balance_in"], features.features))
    # the hooks are gone: another pass records nothing more
    with torch.no_grad():
        generator(image, mask, **priors)
    assert len(taps.maps["texture"]) == 5
    assert not any(block._forward_hooks or block._forward_pre_hooks for block in generator.encoder.reconstruction)


def test_a_variant_without_structure_or_balance_leaves_those_taps_empty():
    generator = TSGLGenerator(variant="Baseline", size="small", balance=False).eval()
    image, mask, priors = _inputs(1)
    with torch.no_grad(), EncoderTaps(generator) as taps:
        generator(image, mask, **priors)
    assert len(taps.maps["texture"]) == 5 and taps.maps["structure"] == [] and taps.maps["balance_in"] == []


def test_a_generator_without_a_tsgl_encoder_is_refused():
    with pytest.raises(ValueError, match="TSGL encoder"):
        EncoderTaps(PConvUNet(encoder="pconv", size="small", stages=6))


def test_the_figure_set_for_two_models_writes_pictures_and_every_number(tmp_path):
    import json

    from inpaint.analysis.divergence import kl_divergence
    from inpaint.analysis.figures import analyze_generator, write_analysis

    image, mask, priors = _inputs(2)
    inputs = {"image": image, "mask": mask, **priors}
    ours = analyze_generator("Ours", TSGLGenerator(size="small").eval(), inputs)
    base = analyze_generator("Baseline", TSGLGenerator(variant="Baseline", size="small").eval(), inputs)
    assert ours.sizes == [32, 16, 8, 4, 2] and len(ours.kl) == 4 and len(ours.complementarity["local"]) == 4
    assert base.complementarity["local"] == []  # the Baseline has no residual branch
    assert all(0.0 <= float(m.min()) and float(m.max()) <= 1.0 for m in ours.maps["heatmap"])
    generator = TSGLGenerator(size="small").eval()
    with torch.no_grad(), EncoderTaps(generator) as taps:
        generator(**inputs)
    levels = taps.maps["reconstructed"]
    assert analyze_generator("again", generator, inputs).kl[0] == float(kl_divergence(levels[1], levels[0]).mean())
    paths = write_analysis([ours, base], tmp_path)
    assert sorted(p.name for p in paths) == ["analysis.json", "attention.png", "entropy.png", "heatmap.png", "kl.png",
                                             "spectrogram.png"]
    data = json.loads((tmp_path / "analysis.json").read_text())
    assert [m["label"] for m in data["models"]] == ["Ours", "Baseline"] and data["models"][0]["kl"] == ours.kl
    assert ours.attention_blocks and len(ours.hole_attention) == len(ours.attention_blocks) == len(ours.attention_maps)
    assert data["models"][0]["hole_attention"] == ours.hole_attention and "attention_maps" not in data["models"][0]
