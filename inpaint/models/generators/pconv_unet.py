"""The partial-convolution U-Net of Liu et al. (ECCV 2018, "Image Inpainting for Irregular Holes Using Partial
Convolutions"), the classic baseline, and seed 004's MSFEF U-Net — one builder, two encoders.

Eight stride-2 encoder stages with widths w·(1, 2, 4, 8, 8, 8, 8, 8) (w = 64 at paper size), then as many decoder
stages: nearest-neighbour upsampling of features *and* mask to the skip's size, concatenation with the skip's
features and mask (the last skip is the masked input image), a 3×3 partial conv, BatchNorm and LeakyReLU 0.2 (the
last stage: 3 channels, bias, no norm). A 256² input reaches 1² after stage 8; any size works (the decoder
upsamples to the skips' sizes). ``stages`` keeps the first n stages: at the cpu profile's 64², 6 stages end at 1²
as 8 do at 256² (an InstanceNorm needs more than one pixel, so 8 stages of the MSFEF U-Net cannot train at 64²).

* ``encoder="pconv"`` (Liu et al.): partial convs with kernels 7, 5, 5, 3, 3, 3, 3, 3; no norm after the first,
  BatchNorm after the others; ReLU.
* ``encoder="msfef"`` (seed 004): stages 1–4 are :class:`~inpaint.nn.msfef.MSFEF` blocks (3/5/7 branches,
  InstanceNorm, ReLU), stages 5–7 3×3 partial convs with InstanceNorm, stage 8 one with BatchNorm (the seed's
  table; its text says every stage but the last uses InstanceNorm).

Partial convs have no bias where a norm follows (Liu et al.'s code). The decoder's partial convs see the
concatenated mask as NVIDIA's multi-channel partial conv does: each part replicated over its channels
(:func:`~inpaint.nn.partial_conv.concat_mask_window`). Deviation: a tanh maps the last stage into the suite's
[-1, 1] images (Liu et al. leave the output unbounded in ImageNet-normalised units).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from inpaint.conventions import known_mask
from inpaint.models.generators.host_interface import check_host_inputs, masked_input
from inpaint.models.interface import GeneratorOutput, InpaintGenerator
from inpaint.nn.msfef import MSFEF
from inpaint.nn.partial_conv import PartialConv2d, concat_mask_window

Encoder = Literal["pconv", "msfef"]
ENCODERS: tuple[str, ...] = ("pconv", "msfef")
#: width of the first stage; the others are multiples of it (STAGE_MULTIPLES)
PCONV_BASE_WIDTH: dict[str, int] = {"paper": 64, "small": 16}
STAGE_MULTIPLES: tuple[int, ...] = (1, 2, 4, 8, 8, 8, 8, 8)
#: Liu et al.'s encoder kernels, stage 1 first
LIU_KERNELS: tuple[int, ...] = (7, 5, 5, 3, 3, 3, 3, 3)
#: seed 004: stages that are MSFEF blocks
MSFEF_STAGES = 4


class EncoderStage(nn.Module):
    """A stride-2 partial conv with an optional norm and ReLU; ``forward(x, mask) → (y, new_mask)``."""

    def __init__(self, cin: int, cout: int, kernel: int, norm: Literal["batch", "instance", "none"]) -> None:
        super().__init__()
        self.conv = PartialConv2d(cin, cout, kernel, stride=2, padding=kernel // 2, bias=norm == "none")
        self.norm: nn.Module = {"batch": nn.BatchNorm2d, "instance": nn.InstanceNorm2d}.get(
            norm, lambda _: nn.Identity())(cout)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y, new_mask = self.conv(x, mask)
        return self.act(self.norm(y)), new_mask


class DecoderStage(nn.Module):
    """Nearest ×2 (to the skip's size) of features and mask, concat with the skip, 3×3 partial conv, BN, LReLU."""

    def __init__(self, cin: int, skip: int, cout: int, last: bool = False) -> None:
        super().__init__()
        self.cin, self.skip = cin, skip
        self.conv = PartialConv2d(cin + skip, cout, 3, stride=1, padding=1, bias=last, mask_input=False)
        self.norm: nn.Module = nn.Identity() if last else nn.BatchNorm2d(cout)
        self.act: nn.Module = nn.Identity() if last else nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, skip: torch.Tensor,
                skip_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        size = skip.shape[-2:]
        x = F.interpolate(x, size=size, mode="nearest")
        mask = F.interpolate(mask, size=size, mode="nearest")
        window = concat_mask_window([(mask, self.cin), (skip_mask, self.skip)], 3, 1, 1)
        y, new_mask = self.conv(torch.cat([x * mask, skip * skip_mask], dim=1), window.mask, window)
        return self.act(self.norm(y)), new_mask


class PConvUNet(InpaintGenerator):
    """Liu et al.'s PConv U-Net (``encoder="pconv"``) or seed 004's MSFEF U-Net (``encoder="msfef"``), see module doc.

    Args:
        encoder: ``"pconv"`` or ``"msfef"``.
        size: ``"paper"`` (widths 64 … 512) or ``"small"`` (16 … 128, CPU runs).
        stages: encoder (and decoder) stages, 8 in both papers; at least 5 (the MSFEF stages and one more).
    """

    size_multiple = 1
    priors: tuple[str, ...] = ()

    def __init__(self, *, encoder: Encoder = "pconv", size: Literal["paper", "small"] = "paper",
                 stages: int = len(STAGE_MULTIPLES)) -> None:
        super().__init__()
        if not MSFEF_STAGES < stages <= len(STAGE_MULTIPLES):
            raise ValueError(f"PConvUNet: stages must be {MSFEF_STAGES + 1} … {len(STAGE_MULTIPLES)}, got {stages}")
        if encoder not in ENCODERS:
            raise ValueError(f"PConvUNet: encoder must be one of {ENCODERS}, got {encoder!r}")
        if size not in PCONV_BASE_WIDTH:
            raise ValueError(f"PConvUNet: size must be one of {tuple(PCONV_BASE_WIDTH)}, got {size!r}")
        self.encoder_kind, self.size, self.stages = encoder, size, stages
        widths = [PCONV_BASE_WIDTH[size] * m for m in STAGE_MULTIPLES[:stages]]
        stages: list[nn.Module] = []
        for i, cout in enumerate(widths):
            cin = 3 if i == 0 else widths[i - 1]
            if encoder == "msfef" and i < MSFEF_STAGES:
                stages.append(MSFEF(cin, cout))
            elif encoder == "msfef":
                stages.append(EncoderStage(cin, cout, 3, "batch" if i == len(widths) - 1 else "instance"))
            else:
                stages.append(EncoderStage(cin, cout, LIU_KERNELS[i], "none" if i == 0 else "batch"))
        self.encoder = nn.ModuleList(stages)
        skips = [3] + widths[:-1]  # the input image, then stages 1 … 7; each decoder stage ends at its skip's width
        ins = [widths[-1]] + skips[:0:-1]  # the deepest stage, then each decoder stage's output
        self.decoder = nn.ModuleList(
            DecoderStage(cin, skip, skip, last=j == len(widths) - 1)
            for j, (cin, skip) in enumerate(zip(ins, skips[::-1]))
        )

    def forward(
        self,
        image: torch.Tensor,
        mask: torch.Tensor,
        edge: torch.Tensor | None = None,
        gray: torch.Tensor | None = None,
        smooth: torch.Tensor | None = None,
    ) -> GeneratorOutput:
        check_host_inputs(image, mask, self.size_multiple, "PConvUNet")
        smallest = 2 ** (self.stages - 1)  # the last InstanceNorm stage must keep more than one pixel
        if self.encoder_kind == "msfef" and min(image.shape[-2:]) <= smallest:
            raise ValueError(f"PConvUNet(encoder='msfef', stages={self.stages}) needs sides above {smallest} px (its "
                             f"InstanceNorm stages need more than one pixel), got {tuple(image.shape[-2:])}; use fewer "
                             "stages (model.generator.init_args.stages, e.g. 6 at 64²)")
        known = known_mask(mask, image.dtype)
        x, m = masked_input(image, known, 0.0), known
        skips = [(x, m)]
        for stage in self.encoder:
            x, m = stage(x, m)
            skips.append((x, m))
        skips.pop()  # the deepest stage is the decoder's input, not a skip
        for stage in self.decoder:
            skip, skip_mask = skips.pop()
            x, m = stage(x, m, skip, skip_mask)
        return GeneratorOutput(image=torch.tanh(x))
