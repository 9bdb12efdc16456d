"""Cross-layer balance module with feature equalisation (paper Sec. III-B6, Eq. 9–12; MEDFE's design).

Inputs: the six encoder maps f1…f6 (strides 2…64). Wiring (all sizes follow the input):

1. early group (layers 1–3) and late group (layers 4–6) are brought to the stride-8 grid with ``width``
   channels each (f1: two 4×4/2 convs, f2: one, f3: 1×1; f4–f6: bilinear resize + one shared 1×1), each
   group concatenated and reduced by a shared 1×1 (``down``);
2. three multi-kernel streams (kernels 3/5/7, five conv–IN–LReLU layers each), shared by both groups; per
   group the three outputs are concatenated and reduced by the same ``down``;
3. the two groups are concatenated and fused (1×1, 2·width), then equalised (:class:`FeatureEqualization`);
4. the result is redistributed to the six scales and added to the inputs.

The official code's streams are nominally partial convolutions, but a threshold bug makes their masks all
ones and an init bug overwrites their frozen all-ones mask kernels with N(0, 0.02) noise, so every stream conv
divides its response by conv(ones, random kernel): a fixed per-channel, per-pixel map that is not constant near the
map's border. By default the streams are plain convolutions (what the trained model computed, minus the random
divisors); ``BalanceOptions(stream_divisors=True)`` keeps the divisors as 15 stored maps (:class:`DividedConv2d`,
the official checkpoint's frozen kernels are reduced to them by ``inpaint convert``). Likewise the equalisation
runs Eq. 10–11 as written (``equalization="paper"``) or as the official code computes them (``"official"``).

Under bf16 autocast the stream divisions, the equalisation's spatial and range aggregations (a division by a
Gaussian window's sum; softmax-normalised averages) and every instance norm run in float32
(:mod:`inpaint.nn.float32`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from inpaint.nn.exact_sum import ones_conv_exact
from inpaint.nn.float32 import float32_island
from inpaint.nn.normalization import InstanceNorm

EqualizationStyle = Literal["paper", "official"]
#: the balance grid of the authors' code (a 256² input at stride 8): the stored stream divisors have this size
OFFICIAL_GRID: tuple[int, int] = (32, 32)
#: std of the official (re-initialised) frozen mask kernels, used to draw fresh divisors for a new model
MASK_KERNEL_STD = 0.02


@dataclass(frozen=True)
class BalanceOptions:
    """Options of the cross-layer balance module; ``None`` = the preset's value (``BALANCE_PRESETS``).

    Args:
        stream_divisors: divide every multi-kernel stream conv by its stored official divisor map
            (:class:`DividedConv2d`; the balance grid must then be 32×32, i.e. a 256² input).
        equalization: ``paper`` (Eq. 10 as a truncated Gaussian, Eq. 11 softmax over the 3×3 neighbours) or
            ``official`` (full-map Gaussian table, softmax over all positions, (B, HW, C) read as (B, C, H, W)).
    """

    stream_divisors: bool | None = None
    equalization: EqualizationStyle | None = None

    def over(self, base: BalanceOptions) -> BalanceOptions:
        """``base`` with every field set here on top."""
        return BalanceOptions(
            stream_divisors=base.stream_divisors if self.stream_divisors is None else bool(self.stream_divisors),
            equalization=base.equalization if self.equalization is None else self.equalization,
        )


class DividedConv2d(nn.Conv2d):
    """A bias-free stride-1 'same' conv whose response is divided by a stored per-channel, per-pixel map.

    The official balance streams compute ``conv(x) / conv(1, K)`` with a frozen kernel K (0 where the divisor is
    0). Only the divisor map matters, so it is stored (buffer ``divisor``, C_out×H×W) instead of K. A new layer
    draws K ~ N(0, 0.02) once, as the official initialiser leaves it; ``inpaint convert`` stores the divisors of
    a released checkpoint's kernels.
    """

    def __init__(self, channels: int, kernel_size: int, grid: tuple[int, int] = OFFICIAL_GRID) -> None:
        super().__init__(channels, channels, kernel_size, 1, kernel_size // 2, bias=False)
        kernel = torch.randn(channels, channels, kernel_size, kernel_size) * MASK_KERNEL_STD
        self.register_buffer("divisor", divisor_map(kernel, grid))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != self.divisor.shape[-2:]:
            h, w = self.divisor.shape[-2:]
            raise ValueError(
                f"the official balance-stream divisors are stored for a {h}×{w} grid (a {8 * h}×{8 * w} input), got a "
                f"{x.shape[-2]}×{x.shape[-1]} grid; run this model at {8 * h}×{8 * w} or use stream_divisors=False"
            )
        return divide_by_map(super().forward(x), self.divisor)


@float32_island
def divide_by_map(y: torch.Tensor, divisor: torch.Tensor) -> torch.Tensor:
    """``y / divisor`` where the divisor is not 0, else 0 — in float32 under bf16 autocast: the official divisors
    are sums that nearly cancel, and bf16 would keep only 8 bits of them."""
    divisor = divisor.to(y.dtype)
    nonzero = divisor != 0
    return torch.where(nonzero, y / torch.where(nonzero, divisor, torch.ones_like(divisor)), torch.zeros_like(y))


def divisor_map(kernel: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """conv(all-ones, ``kernel``, 'same' zero padding) on a ``grid`` map: C_out×H×W in the kernel's dtype.

    Computed exactly and rounded once (:func:`~inpaint.nn.exact_sum.ones_conv_exact`), never by a float conv: the
    official kernels are random, so some of these sums nearly cancel (condition number ≈ 1e9), and a float conv's
    value — even its sign — then depends on the CPU's kernels; the division would carry that into the image.
    """
    return ones_conv_exact(kernel, grid)


def instance_norm(channels: int, affine: bool) -> nn.Module:
    """Instance norm that also works on the 1×1 maps tiny inputs produce at stride 64."""
    return InstanceNorm(channels, affine=affine)


def conv_in_act(cin: int, cout: int, kernel: int, stride: int = 1, padding: int = 0, affine: bool = False,
                act: bool = True, conv: nn.Conv2d | None = None) -> nn.Sequential:
    if conv is None:
        conv = nn.Conv2d(cin, cout, kernel, stride, padding, bias=False)
    layers: list[nn.Module] = [conv, instance_norm(cout, affine)]
    if act:
        layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


def gaussian_kernel_1d(sigma: float, radius: int) -> torch.Tensor:
    """Unnormalised 1-D Gaussian taps exp(−x²/2σ²), x = −radius…radius."""
    x = torch.arange(-radius, radius + 1, dtype=torch.float64)
    return torch.exp(-(x**2) / (2.0 * sigma**2))


@functools.lru_cache(maxsize=8)
def full_map_gaussian(height: int, width: int, sigma: float) -> torch.Tensor:
    """The official Eq. 10 weights: HW×HW, row p = exp(−‖p−q‖²/2σ²) over all q, normalised to sum 1.

    Computed in float64 and rounded to float32, as the authors' table is.
    """
    ys, xs = torch.meshgrid(torch.arange(height, dtype=torch.float64), torch.arange(width, dtype=torch.float64),
                            indexing="ij")
    points = torch.stack([ys.flatten(), xs.flatten()], dim=1)
    weights = torch.exp(-torch.cdist(points, points).square() / (2.0 * sigma**2))
    with torch.inference_mode(False):
        return (weights / weights.sum(dim=1, keepdim=True)).float()


def _as_official_layout(y: torch.Tensor) -> torch.Tensor:
    """B×C×HW values laid out as the official (B, HW, C) tensor and read back as (B, C, H, W) without a transpose."""
    return y.transpose(1, 2).contiguous()

class FeatureEqualization(nn.Module):
    """Eq. 9–12: channel gate, spatial Gaussian and 3×3 range aggregation, 1×1 fuse.

    * channel (Eq. 9): SE gate σ(W₂ ReLU(W₁ GAP(F)))·F, reduction ``reduction``;
    * spatial (Eq. 10): y^s_p = Σ_q g(‖p−q‖) F′_q / Σ_q g(‖p−q‖) over the map, g Gaussian, σ = 1.5 —
      a fixed separable depthwise convolution (radius ⌈``radius_sigmas``·σ⌉) divided by the same convolution
      of ones, which equals the official full-map normalised sum up to the truncated tail;
    * range (Eq. 11): a_{p,q} = mean_c σ(F′_p)·σ(F′_q) for q in the 3×3 neighbourhood inside the map,
      softmax over those neighbours, y^r_p = Σ_q a_{p,q} F′_q;
    * fuse (Eq. 12): concat → 1×1 (no bias) → IN → LeakyReLU(0.2).

    ``style="official"`` computes Eq. 10–11 as the authors' code does: a full-map Gaussian table (not truncated), a
    softmax of the range affinities over all positions of the map for each of the 9 offsets (zero-padded
    neighbours count), and both results laid out as (B, HW, C) and read as (B, C, H, W) (a fixed scramble).
    """

    def __init__(self, channels: int, reduction: int = 16, sigma: float = 1.5, radius_sigmas: float = 4.0,
                 style: EqualizationStyle = "paper") -> None:
        super().__init__()
        if style not in ("paper", "official"):
            raise ValueError(f"equalization must be 'paper' or 'official', got {style!r}")
        self.style = style
        self.sigma = sigma
        squeezed = max(1, channels // reduction)
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, squeezed, 1), nn.ReLU(),
            nn.Conv2d(squeezed, channels, 1), nn.Sigmoid(),
        )
        self.radius = int(math.ceil(radius_sigmas * sigma))
        self.register_buffer("taps", gaussian_kernel_1d(sigma, self.radius).float(), persistent=False)
        self.fuse = conv_in_act(2 * channels, channels, 1)

    @float32_island
    def spatial(self, x: torch.Tensor) -> torch.Tensor:
        """Eq. 10 as a border-renormalised separable depthwise Gaussian."""
        c = x.shape[1]
        taps = self.taps.to(x.dtype)
        k = taps.numel()
        row = taps.view(1, 1, 1, k)
        col = taps.view(1, 1, k, 1)
        r = self.radius
        num = F.conv2d(F.conv2d(x, row.expand(c, 1, 1, k), padding=(0, r), groups=c),
                       col.expand(c, 1, k, 1), padding=(r, 0), groups=c)
        ones = x.new_ones(1, 1, *x.shape[-2:])
        den = F.conv2d(F.conv2d(ones, row, padding=(0, r)), col, padding=(r, 0))
        return num / den

    @staticmethod
    @float32_island
    def range_weights(x: torch.Tensor) -> torch.Tensor:
        """Eq. 11's normalised affinities a_{p,q}: B×9×H×W, softmax over the in-map 3×3 neighbours of p."""
        b, c, h, w = x.shape
        s = torch.sigmoid(x)
        neighbours = F.unfold(s, 3, padding=1).view(b, c, 9, h * w)
        affinity = (neighbours * s.view(b, c, 1, h * w)).mean(dim=1)  # B×9×HW
        inside = F.unfold(x.new_ones(1, 1, h, w), 3, padding=1).view(1, 9, h * w) > 0.5
        affinity = affinity.masked_fill(~inside, float("-inf"))  # the centre is always inside: no empty row
        return affinity.softmax(dim=1).view(b, 9, h, w)

    @float32_island
    def range(self, x: torch.Tensor) -> torch.Tensor:
        """Eq. 11: y^r_p = Σ_q a_{p,q} x_q over the 3×3 neighbourhood."""
        b, c, h, w = x.shape
        weights = self.range_weights(x).view(b, 1, 9, h * w)
        neighbours = F.unfold(x, 3, padding=1).view(b, c, 9, h * w)
        return (neighbours * weights).sum(dim=2).view(b, c, h, w)

    @float32_island
    def spatial_official(self, x: torch.Tensor) -> torch.Tensor:
        """Eq. 10 as coded: y^s = G·F′ with the full-map table G, in the official layout."""
        b, c, h, w = x.shape
        table = full_map_gaussian(h, w, self.sigma).to(device=x.device, dtype=x.dtype)
        y = torch.matmul(x.reshape(b, c, h * w), table.t())  # B×C×HW: Σ_q G[p, q] F′_q
        return _as_official_layout(y).view(b, c, h, w)

    @staticmethod
    @float32_island
    def range_official(x: torch.Tensor) -> torch.Tensor:
        """Eq. 11 as coded: softmax over the positions p for each 3×3 offset, in the official layout."""
        b, c, h, w = x.shape
        s = torch.sigmoid(x)
        neighbours = F.unfold(s, 3, padding=1).view(b, c, 9, h * w)  # zero-padded S_{p+o}
        weights = (neighbours * s.view(b, c, 1, h * w)).mean(dim=1).softmax(dim=2)  # B×9×HW
        values = F.unfold(x, 3, padding=1).view(b, c, 9, h * w)
        y = (values * weights.view(b, 1, 9, h * w)).sum(dim=2)
        return _as_official_layout(y).view(b, c, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x * self.gate(x)
        if self.style == "official":
            return self.fuse(torch.cat([self.spatial_official(x), self.range_official(x)], dim=1))
        return self.fuse(torch.cat([self.spatial(x), self.range(x)], dim=1))


class CrossLayerBalance(nn.Module):
    """Balance the six encoder maps through a shared stride-8 representation (Sec. III-B6, Fig. 13).

    Args:
        channels: channels of f1…f6 (paper profile 64, 128, 256, 512, 512, 512); f4–f6 must be equal
            (they share one 1×1 projection).
        width: per-group width on the stride-8 grid (256 in the paper profile).
        kernels: kernel sizes of the multi-kernel streams.
        stream_depth: layers per stream (5).
        options: :class:`BalanceOptions`, fully resolved (stream divisors, equalisation style).
    """

    def __init__(
        self,
        channels: tuple[int, ...] | list[int],
        width: int = 256,
        kernels: tuple[int, ...] | list[int] = (3, 5, 7),
        stream_depth: int = 5,
        options: BalanceOptions = BalanceOptions(stream_divisors=False, equalization="paper"),
    ) -> None:
        super().__init__()
        if options.stream_divisors is None or options.equalization is None:
            raise ValueError(f"CrossLayerBalance needs resolved options (options.over(preset)), got {options}")
        self.options = options
        channels = tuple(int(c) for c in channels)
        if len(channels) != 6:
            raise ValueError(f"CrossLayerBalance needs 6 channel counts (f1…f6), got {channels}")
        if not channels[3] == channels[4] == channels[5]:
            raise ValueError(f"f4, f5, f6 share one projection and need equal channels, got {channels[3:]}")
        if width % 2:
            raise ValueError(f"balance width must be even, got {width}")
        self.channels = channels
        c1, c2, c3, c4, c5, c6 = channels
        self.early = nn.ModuleList([
            nn.Sequential(conv_in_act(c1, width // 2, 4, 2, 1), conv_in_act(width // 2, width, 4, 2, 1)),
            conv_in_act(c2, width, 4, 2, 1),
            conv_in_act(c3, width, 1),
        ])
        self.late = conv_in_act(c4, width, 1)  # shared by f4, f5, f6
        self.down = conv_in_act(3 * width, width, 1)  # shared: both group merges and both stream merges
        def stream_layer(k: int) -> nn.Sequential:
            conv = DividedConv2d(width, k) if options.stream_divisors else None
            return conv_in_act(width, width, k, 1, k // 2, affine=True, conv=conv)

        self.streams = nn.ModuleList(nn.Sequential(*[stream_layer(k) for _ in range(stream_depth)]) for k in kernels)
        if len(kernels) != 3:
            raise ValueError(f"the shared 1×1 'down' expects three streams, got kernels {tuple(kernels)}")
        both = 2 * width
        self.fuse = conv_in_act(both, both, 1)
        self.equalize = FeatureEqualization(both, style=options.equalization)
        # redistribution: 1×1 for the early scales (applied before the bilinear upsampling: a 1×1 conv and a
        # bilinear resize commute exactly, so this is the same map at 1/16…1/4 of the cost), strided convs below
        self.up_proj = nn.ModuleList(nn.Conv2d(both, c, 1, bias=False) for c in (c1, c2, c3))
        self.up_norm = nn.ModuleList(nn.Sequential(instance_norm(c, False), nn.LeakyReLU(0.2)) for c in (c1, c2, c3))
        self.out4 = conv_in_act(both, c4, 4, 2, 1, act=False)
        self.out5 = nn.Sequential(conv_in_act(both, c5, 4, 2, 1), conv_in_act(c5, c5, 4, 2, 1, act=False))
        self.out6 = nn.Sequential(
            conv_in_act(both, c6, 4, 2, 1), conv_in_act(c6, c6, 4, 2, 1), conv_in_act(c6, c6, 4, 2, 1, act=False)
        )

    def _streams(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(torch.cat([stream(x) for stream in self.streams], dim=1))

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        if len(features) != 6:
            raise ValueError(f"CrossLayerBalance expects 6 feature maps, got {len(features)}")
        act = [F.leaky_relu(f, 0.2) for f in features]
        grid = features[2].shape[-2:]
        early = [m(a) for m, a in zip(self.early, act[:3])]
        late = [self.late(F.interpolate(a, size=grid, mode="bilinear", align_corners=False)) for a in act[3:]]
        x_early = self._streams(self.down(torch.cat(early, dim=1)))
        x_late = self._streams(self.down(torch.cat(late, dim=1)))
        e = self.equalize(self.fuse(torch.cat([x_late, x_early], dim=1)))
        outs = []
        for proj, norm, f in zip(self.up_proj, self.up_norm, features[:3]):
            y = F.interpolate(proj(e), size=f.shape[-2:], mode="bilinear", align_corners=False)
            outs.append(norm(y) + f)
        outs.append(self._fit(self.out4(e), features[3]) + features[3])
        outs.append(self._fit(self.out5(e), features[4]) + features[4])
        outs.append(self._fit(self.out6(e), features[5]) + features[5])
        return outs

    @staticmethod
    def _fit(y: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """Strided convs on a tiny grid can round differently from the encoder's pyramid: match sizes."""
        if y.shape[-2:] == like.shape[-2:]:
            return y
        return F.interpolate(y, size=like.shape[-2:], mode="nearest")
