"""The one wiring of every generator built on the TSGL encoder: pad → encode → decode → crop, plus D_S.

:class:`TSGLEncoderGenerator` owns the encoder (built from the variant, preset, size profile and one
:class:`~inpaint.models.encoders.options.TSGLOptions`), the auxiliary structure decoder D_S (Eq. 14) and the
forward pass; a subclass supplies only :meth:`~TSGLEncoderGenerator.decode`, the decoder side that turns
:class:`~inpaint.models.encoders.tsgl.EncoderFeatures` into an image (TSGL's balance + U-Net, PEN-Net's or
HiFill's decoder).

Inputs are zero-padded at the bottom and right to a multiple of 64 (the pyramid's deepest stride); the padding is
marked as hole, so its values never matter, and every output map is cropped back.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from inpaint.conventions import DEFAULT_STRUCTURE_PRIOR, known_mask, structure_target_channels
from inpaint.errors import UserInputError
from inpaint.models.decoders import AuxStructureDecoder
from inpaint.models.encoders.options import TSGLOptions
from inpaint.models.encoders.tsgl import EncoderFeatures, StructureEncoder, build_encoder
from inpaint.models.generators.host_interface import check_host_inputs
from inpaint.models.interface import GeneratorOutput, InpaintGenerator
from inpaint.nn.attention import TextureStage
from inpaint.nn.partial_conv import PartialConv2d
from inpaint.nn.reconstruction import ReconstructionBlock

PresetName = Literal["paper", "official", "official_exact"]
SizeName = Literal["paper", "small"]


def crop_like(t: torch.Tensor, padded: tuple[int, int], size: tuple[int, int]) -> torch.Tensor:
    """Crop a map that covers the padded input at an integer stride back to the unpadded input's area."""
    if t.dim() != 4 or padded == size or padded[0] % t.shape[-2] or padded[1] % t.shape[-1]:
        return t  # not a spatial map of the padded input (e.g. HiFill's attention matrix)
    sh, sw = padded[0] // t.shape[-2], padded[1] // t.shape[-1]
    return t[..., : -(-size[0] // sh), : -(-size[1] // sw)].contiguous()


class TSGLEncoderGenerator(InpaintGenerator):
    """Base of TSGLGenerator and the encoder swaps: the TSGL encoder, D_S and the shared forward pass.

    Args:
        variant: Table IV / Appendix E name (``->`` arrows) or its slug.
        preset: ``paper``, ``official`` or ``official_exact`` (:mod:`inpaint.models.presets`); fills every encoder
            option left at ``None``.
        size: width profile, ``paper`` or ``small``.
        encoder_options: the TSGL encoder options (:class:`~inpaint.models.encoders.options.TSGLOptions`).
        channels_last: run the convolutions in channels-last memory format.
    """

    #: sides the input must be divisible by; 1 = any size (the wiring pads to the encoder's multiple anyway).
    input_multiple: int = 1
    #: the one input size the model runs at (set by a subclass whose stored maps fix it), or None for any size
    fixed_input_size: tuple[int, int] | None = None
    host_name: str = "TSGL encoder generator"
    #: the encoder's blocks (every one holds full-width maps) and D_S; a subclass adds its decoder's
    recompute_blocks = (PartialConv2d, TextureStage, ReconstructionBlock, StructureEncoder, AuxStructureDecoder)

    def _init_encoder(
        self, variant: str, preset: str, size: str, encoder_options: TSGLOptions, channels_last: bool
    ) -> None:
        encoder_options = TSGLOptions.of(encoder_options)
        self.encoder, self.variant, self.profile, self.encoder_options = build_encoder(
            variant, preset, size, encoder_options
        )
        self.preset = preset
        options = self.encoder_options
        if encoder_options.aux_decoder and not self.encoder.uses_structure:
            raise UserInputError(
                f"encoder_options.aux_decoder=True needs a structure encoder, which variant {self.variant.name!r} "
                "does not build; set encoder_options.use_structure=True as well (or leave aux_decoder unset)"
            )
        #: the structure prior X_S is built from (Table VIII); ``canny_gray`` reads ``edge`` and ``gray``
        self.structure_prior: str = self.encoder.structure_prior
        self.aux_decoder = (
            AuxStructureDecoder(
                self.profile.aux_channels, self.profile.structure_channels[-1], options.aux_bottleneck_bias,
                out_channels=structure_target_channels(self.structure_prior),
            )
            if options.aux_decoder and self.encoder.uses_structure else None
        )
        structure_keys = ("edge", "gray") if self.structure_prior == DEFAULT_STRUCTURE_PRIOR else ("structure",)
        self.priors = (*structure_keys, "smooth") if self.encoder.uses_structure else ("smooth",)
        self.channels_last = channels_last

    def decode(self, features: EncoderFeatures, known: torch.Tensor) -> GeneratorOutput:
        """The decoder side on the padded input's features; ``known`` is the padded 1 = known mask."""
        raise NotImplementedError

    def encode(
        self,
        image: torch.Tensor,
        mask: torch.Tensor,
        edge: torch.Tensor | None = None,
        gray: torch.Tensor | None = None,
        smooth: torch.Tensor | None = None,
        structure: torch.Tensor | None = None,
    ) -> EncoderFeatures:
        """Run only the encoder (inputs already a multiple of 64)."""
        return self.encoder(image, mask, edge, gray, smooth, structure)

    def forward(
        self,
        image: torch.Tensor,
        mask: torch.Tensor,
        edge: torch.Tensor | None = None,
        gray: torch.Tensor | None = None,
        smooth: torch.Tensor | None = None,
        structure: torch.Tensor | None = None,
    ) -> GeneratorOutput:
        check_host_inputs(image, mask, self.input_multiple, self.host_name)
        if self.fixed_input_size is not None and tuple(image.shape[-2:]) != self.fixed_input_size:
            fh, fw = self.fixed_input_size
            raise UserInputError(
                f"preset {self.preset!r} with stream divisors runs at {fh}×{fw} only (the authors' code is built for "
                f"it), got {image.shape[-2]}×{image.shape[-1]}; resize the input (data.init_args.resolution: {fh}; "
                "inpaint predict does it) or use preset 'official'"
            )
        h, w = image.shape[-2:]
        mult = self.encoder.size_multiple
        pad = (0, (-w) % mult, 0, (-h) % mult)

        def prepared(t: torch.Tensor | None) -> torch.Tensor | None:
            if t is None:
                return None
            t = F.pad(t, pad) if any(pad) else t
            return t.contiguous(memory_format=torch.channels_last) if self.channels_last else t

        known = prepared(known_mask(mask, image.dtype))  # zero padding = hole: generated, never trusted, cropped
        assert known is not None
        features = self.encoder(prepared(image), known, prepared(edge), prepared(gray), prepared(smooth),
                                prepared(structure))
        out = self.decode(features, known)
        full = (known.shape[-2], known.shape[-1])
        extras = {name: crop_like(t, full, (h, w)) for name, t in out.extras.items()}
        edge_out = None
        if self.aux_decoder is not None and features.structure is not None and features.structure_mask is not None:
            edge_out = self.aux_decoder(features.structure, features.structure_mask, full)[..., :h, :w].contiguous()
        return GeneratorOutput(image=out.image[..., :h, :w].contiguous(), edge=edge_out, extras=extras)

    def extra_repr(self) -> str:
        return f"variant={self.variant.name!r}, preset={self.preset!r}, size={self.profile.name!r}"
