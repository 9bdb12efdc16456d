"""PEN-Net, the Pyramid-context ENcoder Network (Zeng et al., CVPR 2019), native version.

Follows the authors' PyTorch release (``researchmm/PEN-Net-for-Inpainting``, branch ``pytorch``), which differs
from the paper's TensorFlow model only in the deepest widths (512 instead of 256):

* encoder: six 3×3/stride-2 convs (4 → c, 2c, 4c, 8c, 16c, 16c; LeakyReLU 0.2, the last ReLU), input = the
  image with holes set to +1, concatenated with the hole mask;
* attention transfer network: an :class:`~inpaint.nn.attention_transfer.AttentionTransfer` at every level but the
  deepest, deep to shallow, each guided by the level below's *filled* map (paper Sec. 3.2);
* multi-scale decoder: bilinear ×2 + 3×3 conv + ReLU per level, concatenated with the filled skip map; a 1×1
  tanh head per level gives the pyramid outputs used for the pyramid L1 loss (deep supervision, Sec. 3.3).

Initialisation: the authors draw every weight from N(0, 0.02) (``init="pennet"``). At these fan-ins that shrinks
the signal by 3–10× per layer, so the untrained output is ~1e-4 (paper widths, 256²) or ~1e-5 (small, 64²) and
short runs barely move it; the default ``init="fan_in"`` (Kaiming) keeps unit-scale activations
(:func:`init_pennet_convs`).

``extras["pyramid_0"]`` … ``extras["pyramid_4"]`` are the side outputs at 1/2, 1/4, 1/8, 1/16, 1/32 of the input
side (finest first), each in [-1, 1]; compare each to the ground truth resized to its size.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from inpaint.conventions import known_mask
from inpaint.models.generators.host_interface import (
    DecoderSpec,
    FeatureSlot,
    check_host_inputs,
    masked_input,
)
from inpaint.models.interface import GeneratorOutput, InpaintGenerator
from inpaint.nn.attention_transfer import AttentionTransfer, MaskedSoftmax, MaskResize

PENNetInit = Literal["fan_in", "pennet"]

#: base width c per profile: paper = the authors' cnum 32; small = a CPU-friendly quarter.
PENNET_BASE_WIDTH: dict[str, int] = {"paper": 32, "small": 8}
PENNET_LEVELS = 6


def pennet_widths(base: int) -> tuple[int, ...]:
    """Encoder widths at strides 2 … 64: c, 2c, 4c, 8c, 16c, 16c (paper profile: 32 … 512, 512)."""
    return (base, 2 * base, 4 * base, 8 * base, 16 * base, 16 * base)


def _upsample(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=True)


def init_pennet_convs(module: nn.Module, scheme: PENNetInit = "fan_in") -> None:
    """Initialise every conv of a PEN-Net (sub)network; biases start at 0.

    ``"pennet"``: the authors' N(0, 0.02). ``"fan_in"``: Kaiming-normal for LeakyReLU(0.2) (within 2 % of the ReLU
    gain, so one rule fits both), except the convs right before a tanh head, which get gain 1 so the untrained
    output starts spread over (-1, 1) instead of saturated.
    """
    if scheme not in ("fan_in", "pennet"):
        raise ValueError(f"init_pennet_convs: scheme must be 'fan_in' or 'pennet', got {scheme!r}")
    heads = set()
    for sequence in module.modules():
        if isinstance(sequence, nn.Sequential):
            children = list(sequence)
            heads.update(id(a) for a, b in zip(children, children[1:]) if isinstance(b, nn.Tanh))
    for conv in module.modules():
        if not isinstance(conv, nn.Conv2d):
            continue
        if scheme == "pennet":
            nn.init.normal_(conv.weight, 0.0, 0.02)
        elif id(conv) in heads:
            nn.init.kaiming_normal_(conv.weight, nonlinearity="linear")
        else:
            nn.init.kaiming_normal_(conv.weight, a=0.2, nonlinearity="leaky_relu")
        if conv.bias is not None:
            nn.init.zeros_(conv.bias)


class PENNetEncoder(nn.Module):
    """The six stride-2 convs; returns ``{"x1": 1/2, …, "x6": 1/64}``."""

    def __init__(self, widths: tuple[int, ...], in_channels: int = 4) -> None:
        super().__init__()
        layers = []
        previous = in_channels
        for index, width in enumerate(widths):
            last = index == len(widths) - 1
            act: nn.Module = nn.ReLU(inplace=True) if last else nn.LeakyReLU(0.2, inplace=True)
            layers.append(nn.Sequential(nn.Conv2d(previous, width, 3, stride=2, padding=1), act))
            previous = width
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        features = {}
        for index, layer in enumerate(self.layers, start=1):
            x = layer(x)
            features[f"x{index}"] = x
        return features


class PENNetDecoder(nn.Module):
    """ATN chain + multi-scale decoder. Consumes :attr:`spec` (all six encoder levels) and the known-mask."""

    def __init__(
        self,
        widths: tuple[int, ...],
        *,
        mask_resize: MaskResize = "maxpool",
        masked_softmax: MaskedSoftmax = "zero_logit",
    ) -> None:
        super().__init__()
        if len(widths) != PENNET_LEVELS:
            raise ValueError(f"PENNetDecoder: needs {PENNET_LEVELS} widths (strides 2…64), got {widths}")
        self.spec = DecoderSpec(tuple(FeatureSlot(f"x{i + 1}", 2 ** (i + 1), w) for i, w in enumerate(widths)))
        # ATN l fills level l (1 … 5) guided by level l+1; the deepest uses 1×1 patches and no fuse convs.
        self.attention = nn.ModuleList(
            AttentionTransfer(
                widths[level],
                patch_size=1 if level == PENNET_LEVELS - 2 else 3,
                fuse=level != PENNET_LEVELS - 2,
                mask_resize=mask_resize,
                masked_softmax=masked_softmax,
            )
            for level in range(PENNET_LEVELS - 1)
        )
        # up conv at level l (1 … 5): input = Up2(deepest) at l = 5, else Up2([u_{l+1}, x'_{l+1}]).
        up_in = [2 * widths[level + 1] for level in range(PENNET_LEVELS - 2)] + [widths[-1]]
        self.up = nn.ModuleList(
            nn.Sequential(nn.Conv2d(up_in[level], widths[level], 3, padding=1), nn.ReLU(inplace=True))
            for level in range(PENNET_LEVELS - 1)
        )
        self.to_rgb = nn.ModuleList(
            nn.Sequential(nn.Conv2d(2 * widths[level], 3, 1), nn.Tanh()) for level in range(PENNET_LEVELS - 1)
        )
        self.final = nn.Sequential(
            nn.Conv2d(2 * widths[0], widths[0], 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(widths[0], 3, 3, padding=1),
            nn.Tanh(),
        )

    def forward(self, features: dict[str, torch.Tensor], known: torch.Tensor) -> GeneratorOutput:
        height, width = known.shape[-2:]
        self.spec.check(features, height, width, "PENNet")
        maps = [features[name] for name in self.spec.names()]
        filled = list(maps)
        for level in range(PENNET_LEVELS - 2, -1, -1):  # deep to shallow: each guide is the filled map below
            filled[level] = self.attention[level](maps[level], filled[level + 1], known)
        x = maps[-1]
        pyramid = []
        for level in range(PENNET_LEVELS - 2, -1, -1):
            x = torch.cat([self.up[level](_upsample(x)), filled[level]], dim=1)
            pyramid.append(self.to_rgb[level](x))
        image = self.final(_upsample(x))
        extras = {f"pyramid_{i}": side for i, side in enumerate(reversed(pyramid))}
        return GeneratorOutput(image=image, extras=extras)


class PENNetGenerator(InpaintGenerator):
    """Native PEN-Net generator (see module doc). Sides must be multiples of 64.

    Args:
        size: ``"paper"`` (the authors' widths, 10.2 M params) or ``"small"`` (quarter widths for CPU runs).
        mask_resize: hole mask at the guide scale: ``"maxpool"`` (default; any hole pixel disqualifies a key) or
            ``"bilinear"`` (authors' code: bilinear with align_corners, may miss small holes at coarse levels).
        masked_softmax: ``"zero_logit"`` (authors' code) or ``"exclude"`` (renormalised over valid keys).
        hole_fill: value written into hole pixels of the input (authors: +1, white).
        init: ``"fan_in"`` (default, Kaiming: unit-scale activations) or ``"pennet"`` (authors' N(0, 0.02), whose
            untrained output is ~1e-4; see :func:`init_pennet_convs`).
    """

    size_multiple = 2**PENNET_LEVELS
    priors: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        size: Literal["paper", "small"] = "paper",
        mask_resize: MaskResize = "maxpool",
        masked_softmax: MaskedSoftmax = "zero_logit",
        hole_fill: float = 1.0,
        init: PENNetInit = "fan_in",
    ) -> None:
        super().__init__()
        if size not in PENNET_BASE_WIDTH:
            raise ValueError(f"PENNetGenerator: size must be one of {tuple(PENNET_BASE_WIDTH)}, got {size!r}")
        widths = pennet_widths(PENNET_BASE_WIDTH[size])
        self.hole_fill = hole_fill
        self.encoder = PENNetEncoder(widths)
        self.decoder = PENNetDecoder(widths, mask_resize=mask_resize, masked_softmax=masked_softmax)
        init_pennet_convs(self, init)

    def forward(
        self,
        image: torch.Tensor,
        mask: torch.Tensor,
        edge: torch.Tensor | None = None,
        gray: torch.Tensor | None = None,
        smooth: torch.Tensor | None = None,
    ) -> GeneratorOutput:
        check_host_inputs(image, mask, self.size_multiple, "PENNetGenerator")
        known = known_mask(mask, image.dtype)
        x = torch.cat([masked_input(image, known, self.hole_fill), 1.0 - known], dim=1)
        return self.decoder(self.encoder(x), known)
