"""Parameter and MAC counting (torch.utils.flop_counter; 1 MAC = 2 FLOP).

``flop_counter`` counts convolutions, matmuls and attention (SDPA), not element-wise ops or FFTs — the same
rule the official-code measurements in the reference spec used, so the numbers are comparable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode, sdpa_backward_flop_count, sdpa_flop_count


def _cpu_sdpa_flops(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:  # noqa: ANN001
    return sdpa_flop_count(query_shape, key_shape, value_shape)


def _cpu_sdpa_backward_flops(grad_out_shape, query_shape, key_shape, value_shape, *args, out_shape=None,  # noqa: ANN001
                             **kwargs) -> int:
    return sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape, value_shape)


#: torch's counter has no formula for the CPU flash-attention kernel SDPA dispatches to; without this the
#: attention matmuls (QKᵀ and AV) would silently count as zero on CPU.
CUSTOM_FORMULAS = {
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _cpu_sdpa_flops,
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward: _cpu_sdpa_backward_flops,
}


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
