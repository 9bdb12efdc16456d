"""Ours(LaMa) (paper Table III; the authors' 512 "TSGL_Lama" model, docs/hosts.md).

LaMa's FFC ResNet generator whose encoder is replaced by TSGL's two streams and reconstruction blocks, with
**5 downsamplings** (LaMa: 3). No partial convs, no transformer, no balance module:

* structure stream on (edge⊙M, gray⊙M, 1−M): ReflectionPad(3) + 7×7 conv + BN + ReLU, then 3×3/2 convs (reflect
  padding, no bias, BN, ReLU) with widths ngf·2^k capped at ``max_features``; the 5th is the FFC "split" conv
  into a local and a global part (ratio 0.75);
* texture stream on (image⊙M, 1−M): the same layout at a constant width (``max_features``);
* at each of the 5 levels a :class:`~inpaint.nn.reconstruction.ReconstructionBlock` **with identity shortcut**
  (out = Σ branches + x) modulates the texture map by the structure map (global structure) and by the local
  residual R_k = T̃_{k−1} − Up(T_k) (level 1: T̃_0 = the texture head output). Level 5 runs two blocks, one on
  the local and one on the global part, with the residual split the same way;
* LaMa's decoder side unchanged: ``n_blocks`` FFC residual blocks at 1/32, 5 transposed-conv ups, 7×7 RGB head
  (:class:`~inpaint.models.generators.lama.LaMaDecoder`);
* auxiliary structure decoder D_S: 3 FFC residual blocks on the structure stream's level-5 pair, the same
  5-step upsampler, 7×7 conv to 1 channel, sigmoid.

Paper profile widths (ngf 64, max 256) give the official code's layer table; ``small`` = ngf 16, max 64.
"""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from inpaint.conventions import known_mask
from inpaint.errors import UserInputError
from inpaint.models.encoders.options import TSGLOptions
from inpaint.models.generators.host_interface import check_host_inputs
from inpaint.models.generators.lama import LaMaDecoder
from inpaint.models.generators.tsgl_base import PresetName, SizeName
from inpaint.models.interface import GeneratorOutput, InpaintGenerator
from inpaint.models.presets import get_preset
from inpaint.models.variants import DEFAULT_VARIANT, get_variant
from inpaint.nn.ffc import FeaturePair, FFCNormAct, FFCResidualBlock, split_channels
from inpaint.nn.reconstruction import ReconstructionBlock, local_residual

#: (ngf, max_features, SPADE hidden width) per profile; paper = the official TSGL_Lama.
OURS_LAMA_WIDTHS: dict[str, tuple[int, int, int]] = {"paper": (64, 256, 128), "small": (16, 64, 32)}


def conv_bn_relu(in_channels: int, out_channels: int, kernel: int, stride: int) -> nn.Sequential:
    """Reflect-padded conv (no bias) + BN + ReLU; a 7×7 head pads by 3, a 3×3 downsampler by 1."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, bias=False, padding_mode="reflect"),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class StreamLayers(nn.Module):
    """One stream's layers: ``head`` (7×7, stride 1), ``downs`` (3×3/2, levels 1…N−1) and the FFC ``split``
    (3×3/2, level N, into a ``(local, global)`` pair). The generator interleaves them with reconstruction."""

    def __init__(self, in_channels: int, widths: tuple[int, ...], global_ratio: float) -> None:
        super().__init__()
        self.head = conv_bn_relu(in_channels, widths[0], 7, 1)
        self.downs = nn.ModuleList(conv_bn_relu(widths[i], widths[i + 1], 3, 2) for i in range(len(widths) - 2))
        self.split = FFCNormAct(widths[-2], widths[-1], 3, ratio_in=0.0, ratio_out=global_ratio, stride=2, padding=1)

    def split_pair(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        local, global_ = self.split((x, None))
        assert local is not None and global_ is not None
        return local, global_


class AuxLaMaStructureDecoder(nn.Module):
    """D_S of the 512 model: FFC residual blocks on the level-5 structure pair → ups → 7×7 conv → sigmoid."""

    def __init__(self, widths: tuple[int, ...], global_ratio: float, n_blocks: int = 3) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(FFCResidualBlock(widths[-1], global_ratio=global_ratio) for _ in range(n_blocks))
        ups: list[nn.Module] = []
        for i in range(len(widths) - 1, 0, -1):
            ups += [
                nn.ConvTranspose2d(widths[i], widths[i - 1], 3, stride=2, padding=1, output_padding=1),
                nn.BatchNorm2d(widths[i - 1]),
                nn.ReLU(inplace=True),
            ]
        self.upsample = nn.Sequential(*ups)
        self.head = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(widths[0], 1, 7))

    def forward(self, pair: FeaturePair) -> torch.Tensor:
        for block in self.blocks:
            pair = block(pair)
        x = torch.cat([t for t in pair if t is not None], dim=1)
        return torch.sigmoid(self.head(self.upsample(x)))


class OursLaMaGenerator(InpaintGenerator):
    """Ours(LaMa): TSGL two-stream encoder with reconstruction + LaMa's FFC bottleneck and decoder (Table III).

    Args:
        variant: TSGL reconstruction variant (Table IV name); ``Baseline`` builds no structure stream.
        preset: ``paper`` / ``official``: global norm (instance / batch), local-norm variance, spectral norm and
            D_S come from it unless given.
        size: ``paper`` (ngf 64, max 256, SPADE hidden 128) or ``small`` (16, 64, 32).
        n_downsampling: stride-2 stages of both streams (paper and official code: 5).
        n_blocks: FFC residual blocks at the bottleneck (9).
        aux_blocks: FFC residual blocks of D_S (3).
        global_ratio: share of global channels at the bottleneck (0.75).
        encoder_options: the TSGL options (:class:`~inpaint.models.encoders.options.TSGLOptions`); this encoder
            has no transformer and no partial convs, so only ``global_norm``, ``local_norm_unbiased``,
            ``spectral_norm``, ``aux_decoder`` (``None`` = the preset's) and ``residual_resize`` apply — how R_k
            (computed at the previous level's size) reaches level k: ``nearest`` (default here; the authors' 512
            code, SPADE's nearest resize), ``bilinear`` (align_corners, as the 256 model) or ``area``. Setting any
            other field is refused with the reason.
    """

    #: TSGLOptions fields that mean something for this encoder.
    APPLICABLE_OPTIONS: tuple[str, ...] = (
        "global_norm", "local_norm_unbiased", "spectral_norm", "aux_decoder", "residual_resize",
    )

    def __init__(
        self,
        *,
        variant: str = DEFAULT_VARIANT,
        preset: PresetName = "paper",
        size: SizeName = "paper",
        n_downsampling: int = 5,
        n_blocks: int = 9,
        aux_blocks: int = 3,
        global_ratio: float = 0.75,
        encoder_options: TSGLOptions = TSGLOptions(),
    ) -> None:
        super().__init__()
        if size not in OURS_LAMA_WIDTHS:
            raise ValueError(f"OursLaMaGenerator: size must be one of {tuple(OURS_LAMA_WIDTHS)}, got {size!r}")
        if n_downsampling < 1 or n_blocks < 0 or aux_blocks < 0:
            raise ValueError(
                "OursLaMaGenerator: need n_downsampling ≥ 1, n_blocks ≥ 0, aux_blocks ≥ 0, got "
                f"{n_downsampling}, {n_blocks}, {aux_blocks}"
            )
        encoder_options = TSGLOptions.of(encoder_options)
        inapplicable = sorted(set(encoder_options.given()) - set(self.APPLICABLE_OPTIONS)
                              - ({"window"} if encoder_options.window == TSGLOptions.window else set()))
        if inapplicable:
            raise UserInputError(
                f"OursLaMaGenerator: encoder_options {inapplicable} do not apply (its TSGL encoder has no transformer "
                f"stages and no partial convs); it reads only {list(self.APPLICABLE_OPTIONS)}"
            )
        options = encoder_options.over(replace(get_preset(preset), residual_resize="nearest"))
        residual_resize = options.residual_resize
        if residual_resize not in ("nearest", "bilinear", "area"):
            raise UserInputError(
                f"OursLaMaGenerator: residual_resize must be nearest|bilinear|area, got {residual_resize!r}"
            )
        self.encoder_options = options
        ngf, max_features, hidden = OURS_LAMA_WIDTHS[size]
        self.variant = get_variant(variant)
        self.preset, self.size = preset, size
        self.size_multiple = 2**n_downsampling
        self.residual_resize = residual_resize
        structure_widths = tuple(min(max_features, ngf * 2**i) for i in range(n_downsampling + 1))
        texture_widths = (max_features,) * (n_downsampling + 1)
        self.uses_structure = self.variant.uses_structure
        self.structure = StreamLayers(3, structure_widths, global_ratio) if self.uses_structure else None
        self.texture = StreamLayers(4, texture_widths, global_ratio)

        def block(channels: int, structure_channels: int) -> ReconstructionBlock:
            return ReconstructionBlock(
                channels, structure_channels, self.variant.branches, hidden, options.global_norm,
                bool(options.local_norm_unbiased), bool(options.spectral_norm), identity=True,
            )

        self.reconstruction = nn.ModuleList(
            block(max_features, structure_widths[k]) for k in range(1, n_downsampling)
        )
        t_local, t_global = split_channels(max_features, global_ratio)
        s_local, s_global = split_channels(structure_widths[-1], global_ratio)
        self.reconstruction_local = block(t_local, s_local)
        self.reconstruction_global = block(t_global, s_global)
        # LaMa's decoder side unchanged; the widths list mirrors the structure stream (official: 64…256).
        self.decoder = LaMaDecoder(structure_widths[:-1] + (max_features,), global_ratio, n_blocks)
        want_aux = bool(options.aux_decoder) and self.uses_structure
        self.aux_decoder = AuxLaMaStructureDecoder(structure_widths, global_ratio, aux_blocks) if want_aux else None
        self.priors = ("edge", "gray") if self.uses_structure else ()

    def _residual(self, previous: torch.Tensor, current: torch.Tensor) -> torch.Tensor:
        """R_k; for ``nearest`` it stays at the previous level's size (the modulation resizes it, nearest)."""
        if self.residual_resize == "nearest":
            return previous - F.interpolate(current, size=previous.shape[-2:], mode="nearest")
        return local_residual(previous, current, self.residual_resize)  # type: ignore[arg-type]

    def forward(
        self,
        image: torch.Tensor,
        mask: torch.Tensor,
        edge: torch.Tensor | None = None,
        gray: torch.Tensor | None = None,
        smooth: torch.Tensor | None = None,
    ) -> GeneratorOutput:
        check_host_inputs(image, mask, self.size_multiple, "OursLaMaGenerator")
        known = known_mask(mask, image.dtype)
        hole = 1.0 - known
        s: torch.Tensor | None = None
        if self.structure is not None:
            if edge is None or gray is None:
                raise ValueError(
                    "OursLaMaGenerator: this variant uses the structure stream and needs 'edge' and 'gray'"
                )
            s = self.structure.head(torch.cat([edge * known, gray * known, hole], dim=1))
        t = self.texture.head(torch.cat([image * known, hole], dim=1))
        previous = t  # T̃_0: the head output at full size (level 1's residual)
        for k, (down, block) in enumerate(zip(self.texture.downs, self.reconstruction)):  # levels 1 … N−1
            t = down(t)
            sources = {"residual": self._residual(previous, t)}
            if self.structure is not None and s is not None:
                s = self.structure.downs[k](s)
                sources["structure"] = s
            t = previous = block(t, sources)
        # level N: split into local/global parts, one reconstruction block for each
        t_local, t_global = self.texture.split_pair(t)
        residual = self._residual(previous, torch.cat([t_local, t_global], dim=1))
        r_local, r_global = residual.split([t_local.shape[1], t_global.shape[1]], dim=1)
        local_sources, global_sources = {"residual": r_local}, {"residual": r_global}
        s_pair: FeaturePair | None = None
        if self.structure is not None and s is not None:
            s_pair = self.structure.split_pair(s)
            local_sources["structure"], global_sources["structure"] = s_pair
        pair = {
            "local": self.reconstruction_local(t_local, local_sources),
            "global": self.reconstruction_global(t_global, global_sources),
        }
        out = self.decoder(pair, known)
        edge_out = self.aux_decoder(s_pair) if self.aux_decoder is not None and s_pair is not None else None
        return GeneratorOutput(image=out.image, edge=edge_out)

    def extra_repr(self) -> str:
        return f"variant={self.variant.name!r}, preset={self.preset!r}, size={self.size!r}"
