"""The TSGL encoder: structure encoder + texture encoder + per-layer reconstruction + the 6th concat layer.

Paper Sec. III-A/III-B. At input size H×W (a multiple of 64):

* structure encoder (Sec. III-A1, Eq. 1–2): five partial-conv layers (7/2, 5/2, 5/2, 3/2, 3/2; BN from the
  second on; ReLU) on X_S = (edge⊙M, gray⊙M, M) → F_1^S … F_5^S at strides 2 … 32 (Table VIII's other priors:
  X_S = (structure⊙M, M), ``options.structure_prior``);
* texture encoder (Sec. III-A2): a partial-conv head (3×3 stride 1, then 3×3 stride 2) on
  X_T = (image⊙M, smooth⊙M, M) → F_1^T at stride 2, then four transformer stages (Eq. 3–5), each taking the
  previous layer's *reconstructed* map → F_2^T … F_5^T at strides 4 … 32;
* reconstruction at every layer k (Eq. 6–8): F̃_k^T = ReconstructionBlock(F_k^T; F_k^S, R_k) with the
  variant's branches;
* for a variant with structure branches (Table I(b)), the inverse direction first: F̃_k^S =
  ReconstructionBlock(F_k^S; F_k^T), which then takes F_k^S's place (the next structure layer's input, the texture
  branches' ``structure`` source, D_S's input); the two encoders then run layer by layer, interleaved;
* projections f_k = ReLU(conv1×1(F̃_k^T)) to the pyramid widths, and layer 6: f1…f4 resized to f5's size,
  concatenated with f5, conv3×3/2 + ReLU → f6 at stride 64.

The Baseline variant builds no structure encoder. Hosts (PEN-Net, HiFill, LaMa) consume
:class:`EncoderFeatures`; see docs/model.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import torch
import torch.nn.functional as F
from torch import nn

from inpaint.conventions import DEFAULT_STRUCTURE_PRIOR, STRUCTURE_PRIOR_CHANNELS
from inpaint.errors import UserInputError
from inpaint.models.encoders.options import TSGLOptions
from inpaint.models.presets import PRESETS, get_preset
from inpaint.models.profiles import SizeProfile, get_profile
from inpaint.models.variants import Variant, get_variant
from inpaint.nn.attention import TextureStage
from inpaint.nn.partial_conv import PartialConv2d
from inpaint.nn.reconstruction import Branch, ReconstructionBlock, ResidualResize, local_residual

#: strides of the six pyramid levels relative to the input
PYRAMID_STRIDES: tuple[int, ...] = (2, 4, 8, 16, 32, 64)
#: (kernel, stride, padding) of the five structure partial convs (official code = paper's 5-layer encoder)
STRUCTURE_LAYERS: tuple[tuple[int, int, int], ...] = ((7, 2, 3), (5, 2, 2), (5, 2, 2), (3, 2, 1), (3, 2, 1))


@dataclass
class EncoderFeatures:
    """What the TSGL encoder hands to a decoder side (TSGL's own balance+U-Net, or a host's).

    Attributes:
        features: the six pyramid maps f1…f6 (activated, ReLU), fine to coarse.
        channels: their channel counts (paper profile 64, 128, 256, 512, 512, 512).
        strides: their strides w.r.t. the encoder input (2, 4, 8, 16, 32, 64).
        masks: the texture branch's updated validity masks (1 = valid) at the six strides (B×1×h×w); the
            6th is the max-pool of the 5th.
        reconstructed: the reconstructed texture maps F̃_1^T…F̃_5^T (C_T channels each, strides 2…32).
        structure: F_N^S, the last structure feature (input of D_S; F̃_N^S when the variant reconstructs the structure
            map), or None without a structure encoder.
        structure_mask: its partial-conv mask, or None.
    """

    features: list[torch.Tensor]
    channels: tuple[int, ...]
    strides: tuple[int, ...]
    masks: list[torch.Tensor]
    reconstructed: list[torch.Tensor] = field(default_factory=list)
    structure: torch.Tensor | None = None
    structure_mask: torch.Tensor | None = None

    def by_stride(self) -> dict[int, torch.Tensor]:
        """``{stride: feature}`` — the host adapters' view."""
        return dict(zip(self.strides, self.features))


class StructureEncoder(nn.Module):
    """Five partial convs (no bias) → [BN] → ReLU on the structure input (Sec. III-A1)."""

    def __init__(self, in_channels: int, widths: tuple[int, ...]) -> None:
        super().__init__()
        if len(widths) != len(STRUCTURE_LAYERS):
            raise ValueError(f"structure encoder needs {len(STRUCTURE_LAYERS)} widths, got {widths}")
        chans = (in_channels, *widths)
        self.convs = nn.ModuleList(
            PartialConv2d(chans[i], chans[i + 1], k, s, p, bias=False) for i, (k, s, p) in enumerate(STRUCTURE_LAYERS)
        )
        self.norms = nn.ModuleList(nn.Identity() if i == 0 else nn.BatchNorm2d(w) for i, w in enumerate(widths))

    def layer(self, k: int, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Layer k (0-based) alone: F_{k+1}^S and its partial-conv mask from layer k's input."""
        x, mask = self.convs[k](x, mask)
        return F.relu(self.norms[k](x)), mask

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        feats, masks = [], []
        for k in range(len(self.convs)):
            x, mask = self.layer(k, x, mask)
            feats.append(x)
            masks.append(mask)
        return feats, masks


class TSGLEncoder(nn.Module):
    """Structure + texture encoder with per-layer reconstruction and the concat 6th layer.

    Args:
        profile: widths (see :mod:`inpaint.models.profiles`).
        branches: the reconstruction branches of the variant (the same at every layer); empty = Baseline.
        options: the encoder options, fully resolved against a preset (:meth:`TSGLOptions.resolved`).
        texture_in_channels: channels of X_T (image 3 + smooth 3 + mask 1).
        structure_in_channels: channels of X_S (edge 1 + gray 1 + mask 1); ``None``: the options' structure prior's
            channels + 1.
        structure_branches: branches reconstructing the structure map from the texture map at every layer
            (source ``texture``; Table I(b)); empty = the structure encoder runs on its own.
    """

    size_multiple: int = 64

    def __init__(
        self,
        profile: SizeProfile,
        branches: tuple[Branch, ...] = (),
        options: TSGLOptions = PRESETS["paper"],
        texture_in_channels: int = 7,
        structure_in_channels: int | None = None,
        structure_branches: tuple[Branch, ...] = (),
    ) -> None:
        super().__init__()
        unresolved = [f.name for f in fields(options)
                      if getattr(options, f.name) is None and f.name not in ("use_structure", "structure_prior")]
        if unresolved:
            raise ValueError(
                f"TSGLEncoder needs resolved options (options.over(get_preset(name))); unset: {unresolved}"
            )
        if options.pconv_style not in ("paper", "official"):
            raise UserInputError(
                f"encoder_options.pconv_style must be 'paper' or 'official', got {options.pconv_style!r}"
            )
        if options.residual_resize not in ("bilinear", "area"):
            raise UserInputError(
                f"encoder_options.residual_resize must be 'bilinear' or 'area' for the TSGL encoder, got "
                f"{options.residual_resize!r} ('nearest' is Ours(LaMa)'s resize)"
            )
        self.options = options
        #: the structure prior X_S is built from (Table VIII; ``canny_gray`` = edge and gray)
        self.structure_prior: str = options.structure_prior or DEFAULT_STRUCTURE_PRIOR
        if structure_in_channels is None:
            structure_in_channels = STRUCTURE_PRIOR_CHANNELS[self.structure_prior] + 1
        self.profile = profile
        self.branches = tuple(branches)
        self.structure_branches = tuple(structure_branches)
        if any(b.source != "texture" for b in self.structure_branches):
            raise ValueError(f"structure branches are modulated by the texture map (source 'texture'), got "
                             f"{self.structure_branches}")
        needs_structure = bool(self.structure_branches) or any(b.source == "structure" for b in self.branches)
        self.uses_structure = needs_structure if options.use_structure is None else bool(options.use_structure)
        if needs_structure and not self.uses_structure:
            raise UserInputError("the variant reads or reconstructs the structure map but "
                                 "encoder_options.use_structure=False")
        self.residual_resize: ResidualResize = options.residual_resize
        ct = profile.texture_channels
        paper_pconv = options.pconv_style == "paper"
        pconv = dict(mask_input=paper_pconv, ratio_position="before_bias" if paper_pconv else "after_activation")

        self.structure = (
            StructureEncoder(structure_in_channels, profile.structure_channels) if self.uses_structure else None
        )
        self.head_in = PartialConv2d(texture_in_channels, ct, 3, 1, 1, activation=nn.LeakyReLU(0.2), **pconv)
        self.head_down = PartialConv2d(
            ct, ct, 3, 2, 1, activation=nn.LeakyReLU(0.2), antialias=options.antialias, **pconv
        )
        self.stages = nn.ModuleList(
            TextureStage(
                ct, depth, profile.heads, options.window, options.tau, options.tau_position,
                masked=(i < 3 or options.last_stage_masked),
                pconv_mask_input=pconv["mask_input"], pconv_ratio_position=pconv["ratio_position"],
                antialias=options.antialias, shift_logit=options.shift_logit,
            )
            for i, depth in enumerate(options.depths)
        )
        self.reconstruction = nn.ModuleList(
            ReconstructionBlock(
                ct, profile.structure_channels[k], self.branches, profile.spade_hidden, options.global_norm,
                options.local_norm_unbiased, options.spectral_norm,
            )
            for k in range(5)
        )
        #: F̃_k^S = the structure map reconstructed from the texture map (Table I(b)); None: F_k^S is used as it is
        self.structure_reconstruction = nn.ModuleList(
            ReconstructionBlock(
                profile.structure_channels[k], 0, self.structure_branches, profile.spade_hidden, options.global_norm,
                options.local_norm_unbiased, options.spectral_norm, texture_channels=ct,
            )
            for k in range(5)
        ) if self.structure_branches else None
        pyr = profile.pyramid_channels
        self.projections = nn.ModuleList(nn.Sequential(nn.Conv2d(ct, c, 1), nn.ReLU()) for c in pyr[:5])
        self.top = nn.Sequential(nn.Conv2d(sum(pyr[:5]), pyr[5], 3, 2, 1), nn.ReLU())
        self.channels: tuple[int, ...] = tuple(pyr)
        self.strides: tuple[int, ...] = PYRAMID_STRIDES

    def encoder_only_parameters(self) -> list[nn.Parameter]:
        """The parameters Table V counts: everything except the f1…f5 projections."""
        skip = {id(p) for p in self.projections.parameters()}
        return [p for p in self.parameters() if id(p) not in skip]

    @staticmethod
    def structure_input(mask: torch.Tensor, edge: torch.Tensor, gray: torch.Tensor) -> torch.Tensor:
        """X_S = (edge⊙M, gray⊙M, M) (the order of the authors' code)."""
        return torch.cat([edge * mask, gray * mask, mask], dim=1)

    @staticmethod
    def prior_structure_input(mask: torch.Tensor, structure: torch.Tensor) -> torch.Tensor:
        """X_S = (structure⊙M, M) for a Table VIII prior of C channels."""
        return torch.cat([structure * mask, mask], dim=1)

    def _structure_input(self, mask: torch.Tensor, edge: torch.Tensor | None, gray: torch.Tensor | None,
                         structure: torch.Tensor | None) -> torch.Tensor:
        check_structure_batch(self.structure_prior, structure, edge, gray)
        if structure is None:
            assert edge is not None and gray is not None
            return self.structure_input(mask, edge, gray)
        return self.prior_structure_input(mask, structure)

    @staticmethod
    def texture_input(image: torch.Tensor, mask: torch.Tensor, smooth: torch.Tensor) -> torch.Tensor:
        """X_T = (image⊙M, smooth⊙M, M) (the order of the authors' code)."""
        return torch.cat([image * mask, smooth * mask, mask], dim=1)

    def forward(
        self,
        image: torch.Tensor,
        mask: torch.Tensor,
        edge: torch.Tensor | None = None,
        gray: torch.Tensor | None = None,
        smooth: torch.Tensor | None = None,
        structure: torch.Tensor | None = None,
    ) -> EncoderFeatures:
        """Encode unmasked inputs (they are multiplied by ``mask`` here); H, W must be multiples of 64.

        ``structure``: the maps of a Table VIII prior (B×C×H×W), in place of ``edge`` and ``gray``, for an encoder
        built with that ``structure_prior``.
        """
        h, w = image.shape[-2:]
        if h % self.size_multiple or w % self.size_multiple:
            raise ValueError(
                f"TSGLEncoder needs H and W divisible by {self.size_multiple}, got {h}×{w}; pad the input "
                "(TSGLGenerator does this itself)"
            )
        if smooth is None:
            raise ValueError("TSGLEncoder needs the 'smooth' prior (edge-preserving smoothed image) for X_T")
        structure_feats: list[torch.Tensor] = []
        structure_masks: list[torch.Tensor] = []
        interleaved = self.structure is not None and self.structure_reconstruction is not None
        if self.structure is not None:
            s, s_mask = self._structure_input(mask, edge, gray, structure), mask
            if not interleaved:
                structure_feats, structure_masks = self.structure(s, s_mask)

        x, m = self.head_in(self.texture_input(image, mask, smooth), mask)
        previous = x  # F_{1,pre}^T at stride 1: the "previous map" of layer 1's residual
        reconstructed: list[torch.Tensor] = []
        masks: list[torch.Tensor] = []
        needs_residual = any(b.source == "residual" for b in self.branches)
        for k in range(5):
            if k == 0:
                current, m = self.head_down(x, m)
            else:
                current, m = self.stages[k - 1](reconstructed[-1], m)
            if interleaved:  # F̃_k^S from F_k^S and this layer's texture map, then on to the next structure layer
                assert self.structure is not None and self.structure_reconstruction is not None
                s, s_mask = self.structure.layer(k, s, s_mask)
                s = self.structure_reconstruction[k](s, {"texture": current})
                structure_feats.append(s)
                structure_masks.append(s_mask)
            sources: dict[str, torch.Tensor] = {}
            if structure_feats:
                sources["structure"] = structure_feats[k]
            if needs_residual:
                sources["residual"] = local_residual(previous, current, self.residual_resize)
            rec = self.reconstruction[k](current, sources)
            reconstructed.append(rec)
            masks.append(m)
            previous = rec

        pyramid = [proj(r) for proj, r in zip(self.projections, reconstructed)]
        size5 = pyramid[4].shape[-2:]
        resized = [F.interpolate(f, size=size5, mode="bilinear", align_corners=True) for f in pyramid[:4]]
        pyramid.append(self.top(torch.cat([*resized, pyramid[4]], dim=1)))
        masks.append(F.max_pool2d(masks[-1], 2, ceil_mode=True))
        return EncoderFeatures(
            features=pyramid,
            channels=self.channels,
            strides=self.strides,
            masks=masks,
            reconstructed=reconstructed,
            structure=structure_feats[-1] if structure_feats else None,
            structure_mask=structure_masks[-1] if structure_masks else None,
        )


def check_structure_batch(prior: str, structure: torch.Tensor | None, edge: torch.Tensor | None,
                          gray: torch.Tensor | None) -> None:
    """Refuse inputs that do not carry the prior a model was built for (one line, both names)."""
    if prior == DEFAULT_STRUCTURE_PRIOR:
        if structure is not None:
            raise UserInputError("the batch carries a Table VIII 'structure' prior but this TSGL model was built for "
                                 "canny_gray (edge + gray); set encoder_options.structure_prior to the data's "
                                 "structure_prior")
        if edge is None or gray is None:
            raise ValueError("this TSGL variant uses the structure encoder and needs the 'edge' and 'gray' priors")
        return
    if structure is None:
        raise UserInputError(f"this TSGL model was built for structure_prior={prior!r} but the batch has no "
                             "'structure' maps; set the data's structure_prior to the same prior")
    channels = STRUCTURE_PRIOR_CHANNELS[prior]
    if structure.dim() != 4 or structure.shape[1] != channels:
        raise UserInputError(f"structure_prior={prior!r} has {channels} channels, the batch's 'structure' is "
                             f"{tuple(structure.shape)}")


def build_encoder(
    variant: str, preset: str, size: str, options: TSGLOptions
) -> tuple[TSGLEncoder, Variant, SizeProfile, TSGLOptions]:
    """The encoder of ``variant`` at width profile ``size``, ``options`` resolved against ``preset``.

    Returns the encoder, the variant, the profile and the resolved options. Every TSGL-encoder generator builds
    its encoder here.
    """
    spec = get_variant(variant)
    resolved = options.over(get_preset(preset))
    profile = get_profile(size)
    encoder = TSGLEncoder(profile, spec.branches, resolved, structure_branches=spec.structure_branches)
    return encoder, spec, profile, resolved
