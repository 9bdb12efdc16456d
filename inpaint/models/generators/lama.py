"""LaMa (Suvorov et al., WACV 2022, "Resolution-robust Large Mask Inpainting with Fourier Convolutions").

Native "lama-fourier" generator (the configuration behind the 27.0 M entry of TSGL Table III):

* encoder: ReflectionPad(3) + 7×7 conv (4 → w) + BN + ReLU, then ``n_downsampling`` 3×3/stride-2 convs
  (reflect padding, BN, ReLU) doubling the width up to ``max_features``; the last one splits its output into a
  local and a global part (ratio 0.75) – the FFC "split" layer;
* ``n_blocks`` :class:`~inpaint.nn.ffc.FFCResidualBlock` at the bottleneck (global ratio 0.75, LFU off);
* decoder: concatenate local + global, ``n_downsampling`` × [ConvTranspose 3×3/2 + BN + ReLU], ReflectionPad(3) +
  7×7 conv to RGB + sigmoid.

LaMa works on [0, 1] images with holes set to 0; this wrapper converts the suite's [-1, 1] image at its boundary
and maps the sigmoid output back to [-1, 1] (``2σ − 1``), so the network itself is LaMa's unchanged.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from inpaint.conventions import known_mask, to_unit
from inpaint.models.generators.host_interface import (
    DecoderSpec,
    FeatureSlot,
    check_host_inputs,
    masked_input,
)
from inpaint.models.interface import GeneratorOutput, InpaintGenerator
from inpaint.nn.ffc import FFCNormAct, FFCResidualBlock, split_channels

#: first-layer width per profile: paper = LaMa's ngf 64; small = a quarter.
LAMA_BASE_WIDTH: dict[str, int] = {"paper": 64, "small": 16}


def _down(in_channels: int, out_channels: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1, bias=False, padding_mode="reflect"),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class LaMaEncoder(nn.Module):
    """Head + downsamplers; returns ``{"local": …, "global": …}`` at stride 2**n_downsampling."""

    def __init__(self, widths: tuple[int, ...], global_ratio: float, in_channels: int = 4) -> None:
        super().__init__()
        self.head = nn.Sequential(
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_channels, widths[0], 7, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        )
        self.downs = nn.Sequential(*[_down(widths[i], widths[i + 1]) for i in range(len(widths) - 2)])
        self.split = FFCNormAct(widths[-2], widths[-1], 3, ratio_in=0.0, ratio_out=global_ratio, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        local, global_ = self.split((self.downs(self.head(x)), None))
        assert local is not None and global_ is not None
        return {"local": local, "global": global_}


class LaMaDecoder(nn.Module):
    """FFC residual blocks + transposed-conv upsampler + RGB head. Consumes :attr:`spec` (local, global)."""

    def __init__(self, widths: tuple[int, ...], global_ratio: float, n_blocks: int) -> None:
        super().__init__()
        bottleneck = widths[-1]
        local, global_ = split_channels(bottleneck, global_ratio)
        stride = 2 ** (len(widths) - 1)
        self.spec = DecoderSpec((FeatureSlot("local", stride, local), FeatureSlot("global", stride, global_)))
        self.blocks = nn.ModuleList(FFCResidualBlock(bottleneck, global_ratio=global_ratio) for _ in range(n_blocks))
        ups: list[nn.Module] = []
        for i in range(len(widths) - 1, 0, -1):
            ups += [
                nn.ConvTranspose2d(widths[i], widths[i - 1], 3, stride=2, padding=1, output_padding=1),
                nn.BatchNorm2d(widths[i - 1]),
                nn.ReLU(inplace=True),
            ]
        self.upsample = nn.Sequential(*ups)
        self.to_rgb = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(widths[0], 3, 7))

    def forward(self, features: dict[str, torch.Tensor], known: torch.Tensor) -> GeneratorOutput:
        """LaMa's sigmoid output mapped to [-1, 1] as ``2σ − 1`` (``known`` only fixes the expected size)."""
        height, width = known.shape[-2:]
        self.spec.check(features, height, width, "LaMa")
        pair: tuple[torch.Tensor | None, torch.Tensor | None] = (features["local"], features["global"])
        for block in self.blocks:
            pair = block(pair)
        x = torch.cat([t for t in pair if t is not None], dim=1)
        return GeneratorOutput(image=2.0 * torch.sigmoid(self.to_rgb(self.upsample(x))) - 1.0)


class LaMaGenerator(InpaintGenerator):
    """Native LaMa generator (see module doc). Sides must be multiples of 2**n_downsampling.

    Args:
        size: ``"paper"`` (ngf 64: 27.05 M params with 9 blocks) or ``"small"`` (ngf 16, for CPU runs).
        n_blocks: FFC residual blocks (lama-fourier 9, big-lama 18).
        n_downsampling: stride-2 stages (LaMa: 3).
        global_ratio: share of global (spectral) channels in the bottleneck (LaMa: 0.75).
        max_features: cap on any layer's width (LaMa: 1024).
    """

    priors: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        size: Literal["paper", "small"] = "paper",
        n_blocks: int = 9,
        n_downsampling: int = 3,
        global_ratio: float = 0.75,
        max_features: int = 1024,
    ) -> None:
        super().__init__()
        if size not in LAMA_BASE_WIDTH:
            raise ValueError(f"LaMaGenerator: size must be one of {tuple(LAMA_BASE_WIDTH)}, got {size!r}")
        if n_downsampling < 1 or n_blocks < 0:
            raise ValueError(
                f"LaMaGenerator: need n_downsampling ≥ 1 and n_blocks ≥ 0, got {n_downsampling}, {n_blocks}"
            )
        base = LAMA_BASE_WIDTH[size]
        widths = tuple(min(max_features, base * 2**i) for i in range(n_downsampling + 1))
        self.size_multiple = 2**n_downsampling
        self.encoder = LaMaEncoder(widths, global_ratio)
        self.decoder = LaMaDecoder(widths, global_ratio, n_blocks)

    def forward(
        self,
        image: torch.Tensor,
        mask: torch.Tensor,
        edge: torch.Tensor | None = None,
        gray: torch.Tensor | None = None,
        smooth: torch.Tensor | None = None,
    ) -> GeneratorOutput:
        check_host_inputs(image, mask, self.size_multiple, "LaMaGenerator")
        known = known_mask(mask, image.dtype)
        x = torch.cat([masked_input(to_unit(image), known, 0.0), 1.0 - known], dim=1)
        return self.decoder(self.encoder(x), known)
