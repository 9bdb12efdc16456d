"""One typed option object, taken whole by every generator built on the TSGL encoder.

Every field of :class:`TSGLOptions` set on TSGLGenerator, Ours(Basic), Ours(PENNet) and Ours(HiFill) must reach
the layer that uses it; Ours(LaMa) (no transformer, no partial convs) takes the fields that apply to it and refuses
the others by name. The walk of τ from the constructor to the attention layer is typed at every step.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from dataclasses import fields
from typing import Any

import pytest
import torch
from torch import nn

from inpaint.errors import UserInputError
from inpaint.models.encoders import tsgl as encoder_module
from inpaint.models.encoders.options import TSGLOptions
from inpaint.models.generators import tsgl_base
from inpaint.models.generators.ours_lama import OursLaMaGenerator
from inpaint.models.generators.swaps import OursHiFillGenerator, OursPENNetGenerator
from inpaint.models.generators.tsgl import TSGLGenerator
from inpaint.models.presets import get_preset
from inpaint.nn.attention import MaskedWindowAttentionLayer, TextureStage
from inpaint.nn.normalization import GlobalNorm, LocalNorm

VARIANT = "2Global(Local)->Global(Local)"  # global and local branches, structure and residual sources
TSGL_ENCODER_GENERATORS: dict[str, Callable[..., nn.Module]] = {
    "tsgl": TSGLGenerator,
    "ours_basic": functools.partial(TSGLGenerator, balance=False),
    "ours_pennet": OursPENNetGenerator,
    "ours_hifill": OursHiFillGenerator,
}


def _of(module: nn.Module, kind: type[nn.Module]) -> list[Any]:
    return [m for m in module.modules() if isinstance(m, kind)]


def _has_spectral_norm(module: nn.Module) -> bool:
    return any(name.endswith("parametrizations.weight.original") for name, _ in module.named_parameters())


#: field → (a value differing from the paper preset, what the built generator shows for it, variant to use)
OBSERVED: dict[str, tuple[Any, Callable[[Any], Any], str]] = {
    "tau": (37.0, lambda g: {m.tau for m in _of(g, MaskedWindowAttentionLayer)}, VARIANT),
    "tau_position": ("after_scale", lambda g: {m.tau_position for m in _of(g, MaskedWindowAttentionLayer)}, VARIANT),
    "global_norm": ("batch", lambda g: {m.kind for m in _of(g.encoder, GlobalNorm)}, VARIANT),
    "local_norm_unbiased": (True, lambda g: {m.unbiased for m in _of(g.encoder, LocalNorm)}, VARIANT),
    "depths": ((1, 2, 1, 1), lambda g: tuple(len(s.blocks) for s in g.encoder.stages), VARIANT),
    "last_stage_masked": (False, lambda g: g.encoder.stages[3].masked, VARIANT),
    "pconv_style": (
        "official",
        lambda g: {g.encoder.head_in.mask_input, g.encoder.stages[0].merge.mask_input},
        VARIANT,
    ),
    "aux_decoder": (False, lambda g: g.aux_decoder is not None, VARIANT),
    "spectral_norm": (False, lambda g: _has_spectral_norm(g.encoder.reconstruction), VARIANT),
    "residual_resize": ("area", lambda g: g.encoder.residual_resize, VARIANT),
    "antialias": (True, lambda g: {g.encoder.head_down.antialias, *(s.merge.antialias for s in g.encoder.stages)},
                  VARIANT),
    "shift_logit": (-100.0, lambda g: {m.shift_logit for m in _of(g, MaskedWindowAttentionLayer)}, VARIANT),
    "aux_bottleneck_bias": (False, lambda g: g.aux_decoder.bottleneck[0].bias is not None, VARIANT),
    "use_structure": (True, lambda g: g.encoder.structure is not None, "Local->Local"),
    "window": (4, lambda g: {m.window for m in _of(g, MaskedWindowAttentionLayer)}, VARIANT),
    "structure_prior": ("sobel_x", lambda g: (g.encoder.structure.convs[0].conv.in_channels,
                                              g.aux_decoder.head.out_channels), VARIANT),
}
EXPECTED: dict[str, Any] = {
    "tau": {37.0}, "tau_position": {"after_scale"}, "global_norm": {"batch"}, "local_norm_unbiased": {True},
    "depths": (1, 2, 1, 1), "last_stage_masked": False, "pconv_style": {False}, "aux_decoder": False,
    "spectral_norm": False, "residual_resize": "area", "use_structure": True, "window": {4},
    "antialias": {True}, "shift_logit": {-100.0}, "aux_bottleneck_bias": False, "structure_prior": (4, 3),
}


@functools.cache
def _default(generator: str, variant: str) -> nn.Module:
    with torch.device("meta"):
        return TSGL_ENCODER_GENERATORS[generator](variant=variant, size="small")


def test_the_table_covers_every_option() -> None:
    assert set(OBSERVED) == set(EXPECTED) == {f.name for f in fields(TSGLOptions)}


@pytest.mark.parametrize("name", list(OBSERVED))
@pytest.mark.parametrize("generator", list(TSGL_ENCODER_GENERATORS))
def test_every_tsgl_encoder_generator_takes_every_option(generator: str, name: str) -> None:
    value, observe, variant = OBSERVED[name]
    build = TSGL_ENCODER_GENERATORS[generator]
    default = _default(generator, variant)
    with torch.device("meta"):
        built = build(variant=variant, size="small", encoder_options=TSGLOptions(**{name: value}))
    assert observe(built) == EXPECTED[name]
    assert observe(default) != EXPECTED[name], f"{name}: the paper preset already gives the tested value"
    assert getattr(built.encoder_options, name) == value


def test_options_from_yaml_mappings_are_checked() -> None:
    with torch.device("meta"):
        gen = TSGLGenerator(size="small", encoder_options={"tau": 50, "depths": [1, 1, 2, 2]})  # type: ignore[arg-type]
    assert gen.encoder_options.tau == 50.0 and gen.encoder_options.depths == (1, 1, 2, 2)
    with pytest.raises(UserInputError, match="unknown encoder_options \\['tua'\\]"):
        TSGLOptions.of({"tua": 50})
    with pytest.raises(UserInputError, match="4 transformer stages"):
        TSGLOptions(depths=(2, 2))


LAMA_APPLIES: dict[str, tuple[Any, Callable[[OursLaMaGenerator], Any], Any]] = {
    "global_norm": ("batch", lambda g: {m.kind for m in _of(g, GlobalNorm)}, {"batch"}),
    "local_norm_unbiased": (True, lambda g: {m.unbiased for m in _of(g, LocalNorm)}, {True}),
    "spectral_norm": (False, lambda g: _has_spectral_norm(g), False),
    "aux_decoder": (False, lambda g: g.aux_decoder is not None, False),
    "residual_resize": ("bilinear", lambda g: g.residual_resize, "bilinear"),
}


@pytest.mark.parametrize("name", [f.name for f in fields(TSGLOptions)])
def test_ours_lama_takes_what_applies_and_refuses_the_rest(name: str) -> None:
    if name in LAMA_APPLIES:
        value, observe, expected = LAMA_APPLIES[name]
        with torch.device("meta"):
            built = OursLaMaGenerator(size="small", encoder_options=TSGLOptions(**{name: value}))
            default = OursLaMaGenerator(size="small")
        assert observe(built) == expected != observe(default)
    else:
        value = OBSERVED[name][0]
        with pytest.raises(UserInputError, match=f"\\['{name}'\\] do not apply"):
            OursLaMaGenerator(size="small", encoder_options=TSGLOptions(**{name: value}))


def test_preset_fills_what_is_not_given() -> None:
    with torch.device("meta"):
        gen = OursPENNetGenerator(preset="official", size="small", encoder_options=TSGLOptions(tau=10.0))
    assert gen.encoder_options == TSGLOptions(tau=10.0).over(get_preset("official"))
    assert gen.encoder_options.depths == (2, 2, 6, 6) and gen.encoder_options.tau == 10.0


def _annotations(function: Callable[..., Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(function)
    hints.pop("return", None)
    return hints


WALK = [  # τ's way from the YAML to the attention logits
    TSGLGenerator.__init__, tsgl_base.TSGLEncoderGenerator._init_encoder, encoder_module.build_encoder,
    encoder_module.TSGLEncoder.__init__, TextureStage.__init__, MaskedWindowAttentionLayer.__init__,
]


@pytest.mark.parametrize("function", WALK, ids=lambda f: f.__qualname__)
def test_the_tau_walk_passes_no_untyped_mapping(function: Callable[..., Any]) -> None:
    for parameter, hint in _annotations(function).items():
        text = str(hint)
        assert hint is not Any and "dict" not in text and "Mapping" not in text and "Any" not in text, (
            f"{function.__qualname__}({parameter}: {text})"
        )
    params = inspect.signature(function).parameters
    assert not any(p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) for p in params.values())
