"""Encoder swaps (paper Sec. IV-B, Appendix D, Tables II and VII, Figs. 17–18): the TSGL encoder before other decoders.

* :class:`OursPENNetGenerator` — TSGL encoder → 1×1 adapter → PEN-Net's attention transfer network and
  multi-scale decoder (pyramid side outputs in ``extras`` for its pyramid L1 loss);
* :class:`OursHiFillGenerator` — TSGL encoder → 1×1 adapter → HiFill's refine decoder (dilated block, attention
  computing module, attention transfer at the skips). HiFill's coarse stage is dropped: the TSGL encoder reads
  the masked image itself (docs/hosts.md).

Table VII's "Ours(Basic)" (TSGL encoder → U-Net decoder without the balance module) is
``TSGLGenerator(balance=False)``.

Both drop TSGL's balance module, keep the auxiliary structure decoder D_S whenever the variant has a structure
encoder (``GeneratorOutput.edge``), and take TSGL's options whole (variant, preset, size and one
:class:`~inpaint.models.encoders.options.TSGLOptions`). Sides must be multiples of 32; the wiring (padding to 64,
cropping, D_S) is :class:`~inpaint.models.generators.tsgl_base.TSGLEncoderGenerator`'s.
"""

from __future__ import annotations

from typing import Literal

import torch

from inpaint.models.adapters import FeatureAdapter
from inpaint.models.encoders.options import TSGLOptions
from inpaint.models.encoders.tsgl import EncoderFeatures
from inpaint.models.generators.hifill import HIFILL_BASE_WIDTH, REFINE_DILATIONS, HiFillRefineDecoder
from inpaint.models.generators.pennet import (
    PENNET_BASE_WIDTH,
    PENNetDecoder,
    PENNetInit,
    init_pennet_convs,
    pennet_widths,
)
from inpaint.models.generators.tsgl_base import PresetName, SizeName, TSGLEncoderGenerator
from inpaint.models.interface import GeneratorOutput
from inpaint.models.variants import DEFAULT_VARIANT
from inpaint.nn.attention_transfer import MaskedSoftmax, MaskResize
from inpaint.nn.gated_conv import GatedInit, GateKind, init_gated_convs

HostWidths = Literal["host", "encoder"]


class OursPENNetGenerator(TSGLEncoderGenerator):
    """Ours(PENNet): TSGL encoder + PEN-Net's ATN chain and multi-scale decoder (Table II).

    Args:
        variant, preset, size, encoder_options: as :class:`~inpaint.models.generators.tsgl.TSGLGenerator`.
        host_widths: ``"host"`` (default): PEN-Net's own widths, fed by 1×1 convs + LeakyReLU(0.2) from the
            TSGL pyramid (identity where the widths agree); ``"encoder"``: size the ATN/decoder from the TSGL
            pyramid widths (no projections at all).
        mask_resize, masked_softmax: PEN-Net ATN options
            (see :class:`~inpaint.models.generators.pennet.PENNetGenerator`).
        init: init of the adapter and PEN-Net side (``"fan_in"`` default, ``"pennet"`` = authors' N(0, 0.02)).

    ``extras["pyramid_0"]``…``["pyramid_4"]``: side outputs at 1/2…1/32 for PEN-Net's pyramid L1 loss.
    """

    host_name = "OursPENNetGenerator"
    input_multiple = 32  # the host decoders' extras are cropped at integer strides

    def __init__(
        self,
        *,
        variant: str = DEFAULT_VARIANT,
        preset: PresetName = "paper",
        size: SizeName = "paper",
        encoder_options: TSGLOptions = TSGLOptions(),
        host_widths: HostWidths = "host",
        mask_resize: MaskResize = "maxpool",
        masked_softmax: MaskedSoftmax = "zero_logit",
        init: PENNetInit = "fan_in",
    ) -> None:
        super().__init__()
        self._init_encoder(variant, preset, size, encoder_options, channels_last=False)
        if host_widths == "host":
            widths = pennet_widths(PENNET_BASE_WIDTH[size])
        elif host_widths == "encoder":
            widths = tuple(self.encoder.channels)
        else:
            raise ValueError(f"OursPENNetGenerator: host_widths must be 'host' or 'encoder', got {host_widths!r}")
        self.decoder = PENNetDecoder(widths, mask_resize=mask_resize, masked_softmax=masked_softmax)
        self.adapter = FeatureAdapter(
            self.encoder.channels, self.encoder.strides, self.decoder.spec, activation="leaky_relu", host="PENNet"
        )
        init_pennet_convs(self.adapter, init)  # the host side; the TSGL encoder keeps its own init
        init_pennet_convs(self.decoder, init)

    def decode(self, features: EncoderFeatures, known: torch.Tensor) -> GeneratorOutput:
        h, w = known.shape[-2:]
        return self.decoder(self.adapter(features, h, w), known)


class OursHiFillGenerator(TSGLEncoderGenerator):
    """Ours(HiFill): TSGL encoder + HiFill's refine decoder with its attention computing/transfer modules (Table II).

    Args:
        variant, preset, size, encoder_options: as :class:`~inpaint.models.generators.tsgl.TSGLGenerator`.
        refine_gate: HiFill's refine-network gate (``"pixel"`` as the author's code, ``"depthwise"`` as the paper).
        refine_dilations: dilations of the refine network's dilated block.
        init: gated-conv init of the host side (see :func:`~inpaint.nn.gated_conv.init_gated_convs`).
        fuse_deep_levels: also feed the TSGL maps at strides 16…64, upsampled, into the F3 slot's 1×1 conv
            (an option of the swap, docs/hosts.md). Default on: HiFill reads only strides 2…8, so without it
            the encoder's deeper half would get no gradient (dead weights, and DDP would need
            ``find_unused_parameters``).

    ``extras["attention"]`` is the B×L×L attention over the input/16 grid (padded input).
    """

    host_name = "OursHiFillGenerator"
    input_multiple = 32  # the host decoders' extras are cropped at integer strides

    def __init__(
        self,
        *,
        variant: str = DEFAULT_VARIANT,
        preset: PresetName = "paper",
        size: SizeName = "paper",
        encoder_options: TSGLOptions = TSGLOptions(),
        refine_gate: GateKind = "pixel",
        refine_dilations: tuple[int, ...] = REFINE_DILATIONS,
        init: GatedInit = "fan_in",
        fuse_deep_levels: bool = True,
    ) -> None:
        super().__init__()
        self._init_encoder(variant, preset, size, encoder_options, channels_last=False)
        base = HIFILL_BASE_WIDTH[size]
        self.decoder = HiFillRefineDecoder(
            (base, 2 * base, 4 * base), gate=refine_gate, dilations=tuple(refine_dilations)
        )
        init_gated_convs(self.decoder, init)
        self.adapter = FeatureAdapter(
            self.encoder.channels, self.encoder.strides, self.decoder.spec, activation="none",
            fuse_coarser=("f3",) if fuse_deep_levels else (), host="HiFill",
        )

    def decode(self, features: EncoderFeatures, known: torch.Tensor) -> GeneratorOutput:
        h, w = known.shape[-2:]
        return self.decoder(self.adapter(features, h, w), known)
