"""Parameter and MAC counting (torch.utils.flop_counter; 1 MAC = 2 FLOP), and the generator-level report of both.

``flop_counter`` counts convolutions, matmuls and attention (SDPA), not element-wise ops or FFTs — the same
rule the official-code measurements used, so the numbers are comparable. :func:`count_generator` builds a generator
from its ``class_path`` on the ``meta`` device (shapes only), so 512² paper-width models count in seconds; the
paper's Params exclude the auxiliary edge decoder D_S (:func:`inference_complexity`, Table III / Table V).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode, sdpa_backward_flop_count, sdpa_flop_count

from inpaint.classpath import instantiate
from inpaint.conventions import DEFAULT_STRUCTURE_PRIOR, STRUCTURE_PRIOR_CHANNELS
from inpaint.errors import UserInputError
from inpaint.nn.torch_private import cpu_flash_attention_ops


def _cpu_sdpa_flops(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    return sdpa_flop_count(query_shape, key_shape, value_shape)


def _cpu_sdpa_backward_flops(grad_out_shape, query_shape, key_shape, value_shape, *args, out_shape=None,
                             **kwargs) -> int:
    return sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape, value_shape)


def conv_forward_flops(input_shape, weight_shape, output_shape, transposed: bool) -> int:
    """A convolution's forward FLOPs: 2 per weight tap and output element (transposed: per input element)."""
    taps = 1
    for k in weight_shape[2:]:
        taps *= k
    elements = 1
    for n in (input_shape if transposed else output_shape):
        elements *= n
    return 2 * elements * weight_shape[1] * taps


def _conv_backward_flops(grad_out_shape, input_shape, weight_shape, _bias, _stride, _padding, _dilation, transposed,
                         _output_padding, _groups, output_mask, out_shape=None, **kwargs) -> int:
    """Each gradient a convolution's backward computes (input, weight) takes the forward's FLOPs. torch's own rule
    charges a grouped convolution's weight gradient ``groups`` times that, though each weight tap still meets each
    output once."""
    one = conv_forward_flops(input_shape, weight_shape, grad_out_shape, bool(transposed))
    return one * (int(bool(output_mask[0])) + int(bool(output_mask[1])))


#: torch's counter has no formula for the CPU flash-attention kernel SDPA dispatches to; without this the
#: attention matmuls (QKᵀ and AV) would silently count as zero on CPU. Convolution backward: see above.
_CPU_FLASH_FORWARD, _CPU_FLASH_BACKWARD = cpu_flash_attention_ops()
CUSTOM_FORMULAS = {_CPU_FLASH_FORWARD: _cpu_sdpa_flops, _CPU_FLASH_BACKWARD: _cpu_sdpa_backward_flops,
                   torch.ops.aten.convolution_backward: _conv_backward_flops}


@dataclass
class ParameterCount:
    total: int
    trainable: int
    encoder_only: int | None = None  # Table V's definition (TSGL: encoder without the f1…f5 projections)
    by_part: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def count(parameters: Iterable[nn.Parameter], trainable_only: bool = False) -> int:
    """Number of scalars, each shared parameter counted once."""
    seen: set[int] = set()
    total = 0
    for p in parameters:
        if id(p) in seen or (trainable_only and not p.requires_grad):
            continue
        seen.add(id(p))
        total += p.numel()
    return total


def count_parameters(model: nn.Module) -> ParameterCount:
    """Total / trainable parameters, per top-level child, and Table V's encoder-only count when defined."""
    by_part = {name: count(child.parameters()) for name, child in model.named_children()}
    encoder_only = None
    encoder = getattr(model, "encoder", None)
    if encoder is not None and hasattr(encoder, "encoder_only_parameters"):
        encoder_only = count(encoder.encoder_only_parameters())
    return ParameterCount(count(model.parameters()), count(model.parameters(), True), encoder_only, by_part)


def count_macs(fn: Callable[[], Any], depth: int = 2) -> tuple[int, dict[str, int]]:
    """MACs of one call of ``fn`` (total, and per module up to ``depth`` levels) under FlopCounterMode."""
    mode = FlopCounterMode(display=False, depth=depth, custom_mapping=CUSTOM_FORMULAS)
    with mode:
        fn()
    per_module: dict[str, int] = {}
    for name, ops in mode.get_flop_counts().items():
        if name != "Global" and name.count(".") < depth:
            per_module[name] = int(sum(ops.values())) // 2
    return int(mode.get_total_flops()) // 2, per_module


def generator_macs(
    generator: nn.Module, inputs: dict[str, torch.Tensor | None], depth: int = 2
) -> tuple[int, dict[str, int]]:
    """Inference MACs of a generator forward (eval mode, no grad) on the given keyword inputs."""
    was_training = generator.training
    generator.eval()
    try:
        with torch.no_grad():
            return count_macs(lambda: generator(**inputs), depth=depth)
    finally:
        generator.train(was_training)


def example_inputs(batch: int, height: int, width: int, seed: int = 0,
                   structure_prior: str = DEFAULT_STRUCTURE_PRIOR) -> dict[str, torch.Tensor]:
    """Random inputs with the generator contract's shapes and ranges (about 30 % holes); with a Table VIII
    ``structure_prior`` (a generator's ``structure_prior``) also its ``structure`` maps."""
    g = torch.Generator().manual_seed(seed)
    inputs = {
        "image": torch.rand(batch, 3, height, width, generator=g) * 2 - 1,
        "mask": (torch.rand(batch, 1, height, width, generator=g) > 0.3).float(),
        "edge": (torch.rand(batch, 1, height, width, generator=g) > 0.85).float(),
        "gray": torch.rand(batch, 1, height, width, generator=g),
        "smooth": torch.rand(batch, 3, height, width, generator=g) * 2 - 1,
    }
    if structure_prior != DEFAULT_STRUCTURE_PRIOR:
        channels = STRUCTURE_PRIOR_CHANNELS[structure_prior]
        inputs["structure"] = torch.rand(batch, channels, height, width, generator=g)
    return inputs


def meta_inputs(height: int, width: int, structure_prior: str = DEFAULT_STRUCTURE_PRIOR) -> dict[str, torch.Tensor]:
    """Contract-shaped inputs on the ``meta`` device (counting needs shapes only)."""
    with torch.device("meta"):
        inputs = {"image": torch.zeros(1, 3, height, width), "mask": torch.ones(1, 1, height, width),
                  "edge": torch.zeros(1, 1, height, width), "gray": torch.zeros(1, 1, height, width),
                  "smooth": torch.zeros(1, 3, height, width)}
        if structure_prior != DEFAULT_STRUCTURE_PRIOR:
            inputs["structure"] = torch.zeros(1, STRUCTURE_PRIOR_CHANNELS[structure_prior], height, width)
        return inputs


def structure_prior_of(generator: nn.Module) -> str:
    """The Table VIII structure prior a generator reads (``canny_gray`` for every generator without the option)."""
    return str(getattr(generator, "structure_prior", DEFAULT_STRUCTURE_PRIOR))


def model_info(generator: nn.Module, height: int, width: int,
               inputs: dict[str, torch.Tensor] | None = None) -> dict[str, Any]:
    """Parameter counts and inference MACs (batch 1), with and without the auxiliary decoder."""
    params = count_parameters(generator)
    if inputs is None:
        inputs = example_inputs(1, height, width, structure_prior=structure_prior_of(generator))
    total, per_module = generator_macs(generator, inputs, depth=2)
    top = type(generator).__name__
    parts = {name[len(top) + 1:]: macs for name, macs in per_module.items() if name.startswith(top + ".")}
    aux = parts.get("aux_decoder", 0)
    return {
        "generator": getattr(generator, "model_name", top),
        "resolution": [height, width],
        "params": params.as_dict(),
        "macs": {"total": total, "without_aux_decoder": total - aux, "by_part": parts},
        "gmacs": round(total / 1e9, 3),
        "gmacs_inference": round((total - aux) / 1e9, 3),
    }


def count_generator(class_path: str, init_args: dict[str, Any], height: int, width: int) -> dict[str, Any]:
    """:func:`model_info` of the generator built on the ``meta`` device; on the CPU if its forward needs values.

    Raises :class:`inpaint.classpath.ClassPathError` for an untrusted, unknown or mis-configured class.
    """
    try:
        try:
            with torch.device("meta"):
                generator = instantiate(class_path, init_args)
            return model_info(generator, height, width,
                              inputs=meta_inputs(height, width, structure_prior_of(generator)))
        except (NotImplementedError, RuntimeError):  # data-dependent ops (e.g. .item()) cannot run on meta
            return model_info(instantiate(class_path, init_args), height, width)
    except UserInputError:
        raise
    except ValueError as err:  # the generator's own input checks (size multiples, minimum sizes)
        raise UserInputError(f"{class_path.rpartition('.')[2]} cannot run at {height}×{width}: {err}") from err


def inference_complexity(info: dict[str, Any]) -> tuple[int, int]:
    """(params, MACs) of the inference network, i.e. without the auxiliary edge decoder D_S, as the paper counts."""
    aux_params = info["params"]["by_part"].get("aux_decoder", 0)
    return info["params"]["total"] - aux_params, info["macs"]["without_aux_decoder"]
