"""TSGLGenerator: the TSGL encoder + cross-layer balance module + U-Net decoder (+ auxiliary edge decoder D_S).

Every Table IV variant, preset difference and size profile is a constructor argument (typed keywords only,
so LightningCLI builds it from YAML ``class_path``/``init_args``)::

    TSGLGenerator(variant="2Global(Local)->Global(Local)", preset="paper", size="small")

``None`` for an option means "take the preset's value" (see :mod:`inpaint.models.presets`).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from inpaint.models.decoders import AuxStructureDecoder, UNetDecoder
from inpaint.models.encoders.tsgl import EncoderFeatures, PConvStyle, encoder_from_preset
from inpaint.models.interface import GeneratorOutput, InpaintGenerator
from inpaint.models.variants import DEFAULT_VARIANT
from inpaint.nn.attention import TauPosition
from inpaint.nn.balance import CrossLayerBalance
from inpaint.nn.normalization import GlobalNormKind
from inpaint.nn.reconstruction import ResidualResize


class TSGLGenerator(InpaintGenerator):
    """TSGL (Liu et al.): reconstructing texture via structure under global and local side.

    Args:
        variant: Table IV / Appendix E name (``->`` arrows) or its slug.
        preset: ``paper`` (default) or ``official``; fills every option left at ``None``.
        size: width profile, ``paper`` or ``small``.
        tau: the Eq. 4 mask strength (paper 100).
        tau_position: ``before_scale`` (Eq. 4) or ``after_scale`` (official).
        global_norm: ``instance`` (Eq. 7) or ``batch`` (official).
        local_norm_unbiased: divide the local variance by C − 1 (official) instead of C (Eq. 8).
        depths: transformer blocks of stages 2–5 (paper 2-2-6-2, official 2-2-6-6).
        aux_decoder: build D_S (only possible when the variant has a structure encoder).
        last_stage_masked: τ term and token-mask update in stage 5 (official: off).
        pconv_style: texture partial convs as Eq. 1 (``paper``) or as the official code (``official``).
        spectral_norm: spectral norm on the reconstruction convs.
        residual_resize: how R_k is brought to layer k (``bilinear`` as the code, or ``area``).
        use_structure: force the structure encoder on/off; ``None`` = when a branch reads it.
        window: attention window side.
        channels_last: run the convolutions in channels-last memory format (measured ~7 % faster for the
            small profile's CPU training step; also what tensor cores prefer).

    Inputs whose sides are not multiples of 64 (the 6-level pyramid's stride) are zero-padded at the bottom
    and right; the padded pixels are holes (mask 0), so their values never matter, and are cropped away.
    """

    size_multiple: int = 32

    def __init__(
        self,
        variant: str = DEFAULT_VARIANT,
        preset: Literal["paper", "official"] = "paper",
        size: Literal["paper", "small"] = "paper",
        tau: float | None = None,
        tau_position: TauPosition | None = None,
        global_norm: GlobalNormKind | None = None,
        local_norm_unbiased: bool | None = None,
        depths: list[int] | None = None,
        aux_decoder: bool | None = None,
        last_stage_masked: bool | None = None,
        pconv_style: PConvStyle | None = None,
        spectral_norm: bool | None = None,
        residual_resize: ResidualResize | None = None,
        use_structure: bool | None = None,
        window: int = 8,
        channels_last: bool = True,
    ) -> None:
        super().__init__()
        given = dict(
            tau=tau, tau_position=tau_position, global_norm=global_norm, local_norm_unbiased=local_norm_unbiased,
            depths=depths, aux_decoder=aux_decoder, last_stage_masked=last_stage_masked, pconv_style=pconv_style,
            spectral_norm=spectral_norm, residual_resize=residual_resize,
        )
        self.encoder, spec, self.profile, options = encoder_from_preset(
            variant, preset, size, given, window=window, use_structure=use_structure
        )
        self.variant = spec
        self.preset = preset
        self.options = options
        self.channels_last = channels_last
        self.balance = CrossLayerBalance(self.profile.pyramid_channels, self.profile.balance_width)
        self.decoder = UNetDecoder(self.profile.pyramid_channels)
        if aux_decoder and not self.encoder.uses_structure:
            raise ValueError(
                f"aux_decoder=True needs a structure encoder, which variant {spec.name!r} does not build; "
                "pass use_structure=True as well (or leave aux_decoder unset)"
            )
        want_aux = bool(options["aux_decoder"]) and self.encoder.uses_structure
        self.aux_decoder = (
            AuxStructureDecoder(self.profile.aux_channels, self.profile.structure_channels[-1]) if want_aux else None
        )
        self.priors = ("edge", "gray", "smooth") if self.encoder.uses_structure else ("smooth",)
        if channels_last:
            self.to(memory_format=torch.channels_last)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _pad(t: torch.Tensor | None, pad: tuple[int, int, int, int]) -> torch.Tensor | None:
        return t if t is None or not any(pad) else F.pad(t, pad)

    def encode(
        self,
        image: torch.Tensor,
        mask: torch.Tensor,
        edge: torch.Tensor | None = None,
        gray: torch.Tensor | None = None,
        smooth: torch.Tensor | None = None,
    ) -> EncoderFeatures:
        """Run only the encoder (inputs already a multiple of 64)."""
        return self.encoder(image, mask, edge, gray, smooth)

    def forward(
        self,
        image: torch.Tensor,
        mask: torch.Tensor,
        edge: torch.Tensor | None = None,
        gray: torch.Tensor | None = None,
        smooth: torch.Tensor | None = None,
    ) -> GeneratorOutput:
        if image.dim() != 4 or mask.dim() != 4 or mask.shape[1] != 1:
            raise ValueError(
                "TSGLGenerator expects image B×3×H×W and mask B×1×H×W, "
                f"got {tuple(image.shape)} and {tuple(mask.shape)}"
            )
        h, w = image.shape[-2:]
        mult = self.encoder.size_multiple
        ph, pw = (-h) % mult, (-w) % mult
        pad = (0, pw, 0, ph)
        mask_p = self._pad(mask, pad)  # zero padding = hole: generated, never trusted, then cropped
        tensors = [self._pad(t, pad) for t in (image, edge, gray, smooth)]
        if self.channels_last:
            tensors = [t.contiguous(memory_format=torch.channels_last) if t is not None else None for t in tensors]
        image_p, edge_p, gray_p, smooth_p = tensors
        feats = self.encoder(image_p, mask_p, edge_p, gray_p, smooth_p)
        balanced = self.balance(feats.features)
        out = self.decoder(balanced, output_size=image_p.shape[-2:])[..., :h, :w]
        edge_out = None
        if self.aux_decoder is not None and feats.structure is not None and feats.structure_mask is not None:
            edge_out = self.aux_decoder(feats.structure, feats.structure_mask, image_p.shape[-2:])[..., :h, :w]
        return GeneratorOutput(image=out.contiguous(), edge=edge_out.contiguous() if edge_out is not None else None)

    def extra_repr(self) -> str:
        return f"variant={self.variant.name!r}, preset={self.preset!r}, size={self.profile.name!r}"
