"""TSGL's decoders: the U-Net image decoder (Fig. 13) and the auxiliary structure (edge) decoder D_S (Eq. 14).

Both take their sizes from the encoder's pyramid, never from constants.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from inpaint.nn.partial_conv import PartialConv2d

#: how the decoder doubles the resolution: the paper's transposed conv, or nearest ×2 then a 3×3 conv
Upsampling = Literal["transposed", "resize"]
UPSAMPLINGS: tuple[str, ...] = ("transposed", "resize")


class UpBlock(nn.Module):
    """ReLU → ConvTranspose 4×4/2 → BatchNorm (or → tanh for the output block).

    ``upsampling="resize"`` replaces the transposed conv by nearest ×2 and a 3×3 conv (Odena et al., "Deconvolution
    and Checkerboard Artifacts", 2016): a 4×4/2 transposed conv gives neighbouring output pixels different kernel
    taps, which an untrained or briefly trained network shows as a checkerboard; resize-then-conv cannot. A model
    change (other weights, 9/16 of the parameters), not the paper's decoder.
    """

    def __init__(self, cin: int, cout: int, last: bool = False, upsampling: Upsampling = "transposed") -> None:
        super().__init__()
        if upsampling not in UPSAMPLINGS:
            raise ValueError(f"decoder upsampling must be one of {UPSAMPLINGS}, got {upsampling!r}")
        self.act = nn.ReLU()
        self.upsampling = upsampling
        transposed = upsampling == "transposed"
        self.up = nn.ConvTranspose2d(cin, cout, 4, 2, 1) if transposed else nn.Conv2d(cin, cout, 3, 1, 1)
        self.post: nn.Module = nn.Tanh() if last else nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor, size: torch.Size | tuple[int, int]) -> torch.Tensor:
        x = self.act(x)
        if self.upsampling == "resize":
            return self.post(self.up(F.interpolate(x, size=tuple(size), mode="nearest")))
        y = self.up(x)
        if y.shape[-2:] != tuple(size):
            y = F.interpolate(y, size=size, mode="bilinear", align_corners=False)
        return self.post(y)


class UNetDecoder(nn.Module):
    """Six up-steps from f6 to the input size with skip concatenation of the balanced maps (out5…out1).

    With encoder channels (C1…C6) the steps are C6→C5, 2C5→C4, 2C4→C3, 2C3→C2, 2C2→C1, 2C1→3 (tanh), i.e.
    the official 512→512, 1024→512, 1024→256, 512→128, 256→64, 128→3 for the paper profile.
    """

    def __init__(self, channels: tuple[int, ...] | list[int], out_channels: int = 3,
                 upsampling: Upsampling = "transposed") -> None:
        super().__init__()
        c = tuple(int(v) for v in channels)
        if len(c) != 6:
            raise ValueError(f"UNetDecoder needs 6 channel counts, got {c}")
        steps = [(c[5], c[4]), (2 * c[4], c[3]), (2 * c[3], c[2]), (2 * c[2], c[1]), (2 * c[1], c[0]),
                 (2 * c[0], out_channels)]
        self.blocks = nn.ModuleList(
            UpBlock(cin, cout, last=i == len(steps) - 1, upsampling=upsampling) for i, (cin, cout) in enumerate(steps)
        )

    def forward(self, features: list[torch.Tensor], output_size: tuple[int, int]) -> torch.Tensor:
        skips = features[:5][::-1]  # out5 … out1
        x = features[5]
        for i, block in enumerate(self.blocks):
            size = skips[i].shape[-2:] if i < 5 else output_size
            x = block(x, size)
            if i < 5:
                x = torch.cat([x, skips[i]], dim=1)
        return x


class AuxStructureDecoder(nn.Module):
    """D_S: a skip-free U-Net from the last structure feature F_N^S to an edge map in (0, 1) (Eq. 14); with
    ``out_channels`` = C > 1, to a Table VIII structure prior of C maps in (0, 1).

    With widths (A1…A5) and input channels C_in: two partial-conv 3×3/2 downsamplers (C_in→A5, A5→A5),
    then seven up-steps [upsample features ×2 bilinear and mask nearest → partial conv 3×3 → BN →
    LeakyReLU(0.2)] with widths A5, A5, A5, A4, A3, A2, A1, then a residual bottleneck and a 1×1 conv +
    sigmoid. The official decoder is A = C^S = (64 … 1024); its bottleneck convs have no bias
    (``bottleneck_bias=False``). The up-steps target the encoder pyramid's sizes (strides 64 … 1 of the input), so
    any input size works.
    """

    def __init__(self, widths: tuple[int, ...] | list[int], in_channels: int | None = None,
                 bottleneck_bias: bool = True, out_channels: int = 1) -> None:
        super().__init__()
        c = tuple(int(v) for v in widths)
        if len(c) != 5:
            raise ValueError(f"AuxStructureDecoder needs 5 widths, got {c}")
        top = c[4]
        cin = top if in_channels is None else int(in_channels)
        self.downs = nn.ModuleList(
            [PartialConv2d(cin, top, 3, 2, 1, bias=False), PartialConv2d(top, top, 3, 2, 1, bias=False)]
        )
        self.down_norms = nn.ModuleList(nn.BatchNorm2d(top) for _ in range(2))
        widths = (top, top, top, top, c[3], c[2], c[1], c[0])
        self.ups = nn.ModuleList(PartialConv2d(widths[i], widths[i + 1], 3, 1, 1, bias=False) for i in range(7))
        self.up_norms = nn.ModuleList(nn.BatchNorm2d(widths[i + 1]) for i in range(7))
        w = c[0]
        self.bottleneck = nn.Sequential(
            nn.Conv2d(w, w, 3, padding=1, bias=bottleneck_bias), nn.BatchNorm2d(w), nn.ReLU(),
            nn.Conv2d(w, w, 3, padding=1, bias=bottleneck_bias), nn.BatchNorm2d(w),
        )
        self.head = nn.Conv2d(w, int(out_channels), 1)

    def forward(self, feature: torch.Tensor, mask: torch.Tensor, output_size: tuple[int, int]) -> torch.Tensor:
        x, m = feature, mask
        for conv, norm in zip(self.downs, self.down_norms):
            x, m = conv(x, m)
            x = F.relu(norm(x))
        h, w = output_size
        sizes = [(max(1, h >> s), max(1, w >> s)) for s in range(6, -1, -1)]  # strides 64 … 1
        for conv, norm, size in zip(self.ups, self.up_norms, sizes):
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
            m = F.interpolate(m, size=size, mode="nearest")
            x, m = conv(x, m)
            x = F.leaky_relu(norm(x), 0.2)
        x = F.relu(x + self.bottleneck(x))
        return torch.sigmoid(self.head(x))
