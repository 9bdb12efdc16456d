"""Ours(LaMa) against paper Table III and the authors' TSGL_Lama code (34.47 M / 463.4 G; docs/hosts.md), on meta.

MACs via :mod:`inpaint.models.complexity` (FlopCounterMode; convs and matmuls, FFTs not counted; 1 MAC = 2 FLOP).
"""

from __future__ import annotations

import torch

from inpaint.models.complexity import count_parameters, generator_macs
from inpaint.models.encoders.options import TSGLOptions
from inpaint.models.generators.ours_lama import OursLaMaGenerator


def _inputs(side: int) -> dict[str, torch.Tensor]:
    zeros = lambda c: torch.zeros(1, c, side, side)  # noqa: E731
    return {"image": zeros(3), "mask": torch.ones(1, 1, side, side), "edge": zeros(1), "gray": zeros(1)}


def test_ours_lama_matches_table_iii_and_the_official_code() -> None:
    with torch.device("meta"):
        inference = OursLaMaGenerator(
            size="paper", encoder_options=TSGLOptions(aux_decoder=False)
        )  # the paper counts G without D_S
        full = OursLaMaGenerator(size="paper")
        inputs = _inputs(512)
    params = count_parameters(inference).total
    assert params == 34_468_035  # official code measured: 34.47 M
    assert abs(params / 34.0e6 - 1) < 0.05  # Table III: 34.0 M
    assert count_parameters(full).total == 38_609_348  # official code with D_S: 38.61 M
    macs, _ = generator_macs(inference, inputs, depth=1)
    assert abs(macs / 463.4e9 - 1) < 0.001  # official code measured 463.4 G MACs (Table III: "463.0 G FLOPs")


def test_ours_lama_layout_follows_the_official_512_model() -> None:
    with torch.device("meta"):
        g = OursLaMaGenerator(size="paper")
    assert g.size_multiple == 32  # 5 downsamplings
    assert all(block.identity for block in (*g.reconstruction, g.reconstruction_local, g.reconstruction_global))
    assert [(s.name, s.stride, s.channels) for s in g.decoder.spec.slots] == [("local", 32, 64), ("global", 32, 192)]
    assert len(g.decoder.blocks) == 9 and len(g.aux_decoder.blocks) == 3
    assert not any("partial" in type(m).__name__.lower() or "attention" in type(m).__name__.lower()
                   for m in g.modules())
