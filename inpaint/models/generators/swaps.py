"""Encoder swaps (paper Sec. IV-E, Tables II and VII, Figs. 17–18): the TSGL encoder in front of other decoders.

* :class:`OursPENNetGenerator` — TSGL encoder → 1×1 adapter → PEN-Net's attention transfer network and
  multi-scale decoder (pyramid side outputs in ``extras`` for its pyramid L1 loss);
* :class:`OursHiFillGenerator` — TSGL encoder → 1×1 adapter → HiFill's refine decoder (dilated block, attention
  computing module, attention transfer at the skips). HiFill's coarse stage is dropped: the TSGL encoder reads
  the masked image itself (reference/host-generators-spec.md §2.15);
* :class:`OursBasicGenerator` — TSGL encoder → TSGL's plain U-Net decoder **without** the cross-layer balance
  module (Table VII's "Ours(Basic)", isolating that module).

All three drop TSGL's balance module, keep the auxiliary structure decoder D_S whenever the variant has a structure
encoder (``GeneratorOutput.edge``), and share TSGL's options (variant, preset, size, τ, ...). Sides must be
multiples of 32; inputs are zero-padded to a multiple of 64 (the pyramid's deepest stride) with the padding
marked as hole, and cropped back, exactly as :class:`~inpaint.models.generators.tsgl.TSGLGenerator` does.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from inpaint.models.adapters import FeatureAdapter
from inpaint.models.decoders import AuxStructureDecoder, UNetDecoder
from inpaint.models.encoders.tsgl import EncoderFeatures, TSGLEncoder, encoder_from_preset
from inpaint.models.generators.hifill import HIFILL_BASE_WIDTH, REFINE_DILATIONS, HiFillRefineDecoder
from inpaint.models.generators.host_interface import check_host_inputs
from inpaint.models.generators.pennet import (
    PENNET_BASE_WIDTH,
    PENNetDecoder,
    PENNetInit,
    init_pennet_convs,
    pennet_widths,
)
from inpaint.models.interface import GeneratorOutput, InpaintGenerator
from inpaint.models.profiles import SizeProfile
from inpaint.models.variants import DEFAULT_VARIANT, Variant
from inpaint.nn.attention_transfer import MaskedSoftmax, MaskResize
from inpaint.nn.gated_conv import GateKind, GatedInit, init_gated_convs
from inpaint.nn.normalization import GlobalNormKind

HostWidths = Literal["host", "encoder"]


def build_tsgl_encoder(
    variant: str,
    preset: str,
    size: str,
    overrides: dict[str, Any],
    window: int = 8,
) -> tuple[TSGLEncoder, AuxStructureDecoder | None, Variant, SizeProfile]:
    """The TSGL encoder (+ D_S when the variant has a structure encoder and the preset/override wants it).

    ``overrides`` holds preset keys (``tau``, ``global_norm``, ``depths``, ``aux_decoder``, ...); ``None`` values
    mean "take the preset's".
    """
    encoder, spec, profile, options = encoder_from_preset(variant, preset, size, overrides, window=window)
    aux = None
    if bool(options["aux_decoder"]) and encoder.uses_structure:
        aux = AuxStructureDecoder(profile.aux_channels, profile.structure_channels[-1])
    return encoder, aux, spec, profile


def _crop_like(t: torch.Tensor, padded: tuple[int, int], size: tuple[int, int]) -> torch.Tensor:
    """Crop a map that covers the padded input at an integer stride back to the unpadded input's area."""
    if t.dim() != 4 or padded == size or padded[0] % t.shape[-2] or padded[1] % t.shape[-1]:
        return t  # not a spatial map of the padded input (e.g. HiFill's attention matrix)
    sh, sw = padded[0] // t.shape[-2], padded[1] // t.shape[-1]
    return t[..., : -(-size[0] // sh), : -(-size[1] // sw)].contiguous()


class TSGLEncoderSwap(InpaintGenerator):
    """Shared wiring: pad → TSGL encoder → :meth:`decode` (subclass) → crop; D_S on the structure stream."""

    size_multiple: int = 32
    host_name: str = "TSGL encoder swap"

    def _init_encoder(self, variant: str, preset: str, size: str, window: int, **overrides: Any) -> None:
        self.encoder, self.aux_decoder, self.variant, self.profile = build_tsgl_encoder(
            variant, preset, size, overrides, window
        )
        self.preset = preset
        self.priors = ("edge", "gray", "smooth") if self.encoder.uses_structure else ("smooth",)

    def decode(self, features: EncoderFeatures, known: torch.Tensor) -> GeneratorOutput:
        raise NotImplementedError

    def forward(
        self,
        image: torch.Tensor,
        mask: torch.Tensor,
        edge: torch.Tensor | None = None,
        gray: torch.Tensor | None = None,
        smooth: torch.Tensor | None = None,
    ) -> GeneratorOutput:
        check_host_inputs(image, mask, self.size_multiple, self.host_name)
        h, w = image.shape[-2:]
        mult = self.encoder.size_multiple
        pad = (0, (-w) % mult, 0, (-h) % mult)

        def padded(t: torch.Tensor | None) -> torch.Tensor | None:
            return t if t is None or not any(pad) else F.pad(t, pad)

        known = padded((mask > 0.5).to(image.dtype))  # padding = hole: generated, never trusted, then cropped
        assert known is not None
        features = self.encoder(padded(image), known, padded(edge), padded(gray), padded(smooth))
        out = self.decode(features, known)
        full = (known.shape[-2], known.shape[-1])
        extras = {name: _crop_like(t, full, (h, w)) for name, t in out.extras.items()}
        edge_out = None
        if self.aux_decoder is not None and features.structure is not None and features.structure_mask is not None:
            edge_out = self.aux_decoder(features.structure, features.structure_mask, full)[..., :h, :w].contiguous()
        return GeneratorOutput(image=out.image[..., :h, :w].contiguous(), edge=edge_out, extras=extras)

    def extra_repr(self) -> str:
        return f"variant={self.variant.name!r}, preset={self.preset!r}, size={self.profile.name!r}"


class OursPENNetGenerator(TSGLEncoderSwap):
    """Ours(PENNet): TSGL encoder + PEN-Net's ATN chain and multi-scale decoder (Table II).

    Args:
        variant, preset, size: as :class:`~inpaint.models.generators.tsgl.TSGLGenerator`.
        tau, global_norm, depths, aux_decoder, window: TSGL encoder options (``None`` = the preset's).
        host_widths: ``"host"`` (default): PEN-Net's own widths, fed by 1×1 convs + LeakyReLU(0.2) from the
            TSGL pyramid (identity where the widths agree); ``"encoder"``: size the ATN/decoder from the TSGL
            pyramid widths (no projections at all).
        mask_resize, masked_softmax: PEN-Net ATN options
            (see :class:`~inpaint.models.generators.pennet.PENNetGenerator`).
        init: init of the adapter and PEN-Net side (``"fan_in"`` default, ``"pennet"`` = authors' N(0, 0.02)).

    ``extras["pyramid_0"]``…``["pyramid_4"]``: side outputs at 1/2…1/32 for PEN-Net's pyramid L1 loss.
    """

    host_name = "OursPENNetGenerator"

    def __init__(
        self,
        *,
        variant: str = DEFAULT_VARIANT,
        preset: Literal["paper", "official"] = "paper",
        size: Literal["paper", "small"] = "paper",
        tau: float | None = None,
        global_norm: GlobalNormKind | None = None,
        depths: list[int] | None = None,
        aux_decoder: bool | None = None,
        window: int = 8,
        host_widths: HostWidths = "host",
        mask_resize: MaskResize = "maxpool",
        masked_softmax: MaskedSoftmax = "zero_logit",
        init: PENNetInit = "fan_in",
    ) -> None:
        super().__init__()
        self._init_encoder(variant, preset, size, window, tau=tau, global_norm=global_norm, depths=depths,
                           aux_decoder=aux_decoder)
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


class OursHiFillGenerator(TSGLEncoderSwap):
    """Ours(HiFill): TSGL encoder + HiFill's refine decoder with its attention computing/transfer modules (Table II).

    Args:
        variant, preset, size, tau, global_norm, depths, aux_decoder, window: as :class:`OursPENNetGenerator`.
        refine_gate: HiFill's refine-network gate (``"pixel"`` as the author's code, ``"depthwise"`` as the paper).
        refine_dilations: dilations of the refine network's dilated block.
        init: gated-conv init of the host side (see :func:`~inpaint.nn.gated_conv.init_gated_convs`).
        fuse_deep_levels: also feed the TSGL maps at strides 16…64, upsampled, into the F3 slot's 1×1 conv
            (host spec §2.15 option). Default on: HiFill reads only strides 2…8, so without it the encoder's deeper
            half would get no gradient (dead weights, and DDP would need ``find_unused_parameters``).

    ``extras["attention"]`` is the B×L×L attention over the input/16 grid (padded input).
    """

    host_name = "OursHiFillGenerator"

    def __init__(
        self,
        *,
        variant: str = DEFAULT_VARIANT,
        preset: Literal["paper", "official"] = "paper",
        size: Literal["paper", "small"] = "paper",
        tau: float | None = None,
        global_norm: GlobalNormKind | None = None,
        depths: list[int] | None = None,
        aux_decoder: bool | None = None,
        window: int = 8,
        refine_gate: GateKind = "pixel",
        refine_dilations: tuple[int, ...] = REFINE_DILATIONS,
        init: GatedInit = "fan_in",
        fuse_deep_levels: bool = True,
    ) -> None:
        super().__init__()
        self._init_encoder(variant, preset, size, window, tau=tau, global_norm=global_norm, depths=depths,
                           aux_decoder=aux_decoder)
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


class OursBasicGenerator(TSGLEncoderSwap):
    """Ours(Basic) (Table VII, Figs. 17–18): TSGL encoder + the U-Net decoder fed f1…f6 directly, no balance module.

    Args: as :class:`OursPENNetGenerator` (TSGL options only).
    """

    host_name = "OursBasicGenerator"

    def __init__(
        self,
        *,
        variant: str = DEFAULT_VARIANT,
        preset: Literal["paper", "official"] = "paper",
        size: Literal["paper", "small"] = "paper",
        tau: float | None = None,
        global_norm: GlobalNormKind | None = None,
        depths: list[int] | None = None,
        aux_decoder: bool | None = None,
        window: int = 8,
    ) -> None:
        super().__init__()
        self._init_encoder(variant, preset, size, window, tau=tau, global_norm=global_norm, depths=depths,
                           aux_decoder=aux_decoder)
        self.decoder = UNetDecoder(self.encoder.channels)

    def decode(self, features: EncoderFeatures, known: torch.Tensor) -> GeneratorOutput:
        return GeneratorOutput(image=self.decoder(features.features, output_size=tuple(known.shape[-2:])))
