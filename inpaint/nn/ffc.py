"""Fast Fourier Convolution (Chi et al., NeurIPS 2020) as used by LaMa (Suvorov et al., WACV 2022, Sec. 3.1).

Channels are split into a *local* part (ordinary convolutions) and a *global* part whose global-to-global path is
a :class:`SpectralTransform`: a 1×1 conv to half width, a :class:`FourierUnit` (real FFT over H×W → 1×1 conv on
the stacked real/imaginary parts → inverse FFT), a residual add and a 1×1 conv back. One FFT-domain 1×1 conv mixes
every spatial position with every other, so a single FFC layer already has an image-wide receptive field.

Tensors that carry both parts are passed as a ``(local, global)`` tuple; either part may be absent (``None``) when
its width is 0 (e.g. the head of the network has ratio 0 → only local).

Convs inside FFCs have no bias and use reflect padding; BatchNorm + ReLU follow each part (``FFCNormAct``).
The FFT runs in float32 (half precision cuFFT needs power-of-two sizes).
"""

from __future__ import annotations

import torch
from torch import nn

FeaturePair = tuple[torch.Tensor | None, torch.Tensor | None]


def split_channels(channels: int, global_ratio: float) -> tuple[int, int]:
    """(local, global) widths for ``channels`` with ``global_ratio`` of them global: C_g = ⌊C·r⌋."""
    if not 0.0 <= global_ratio <= 1.0:
        raise ValueError(f"global_ratio must lie in [0, 1], got {global_ratio}")
    n_global = int(channels * global_ratio)
    return channels - n_global, n_global


class FourierUnit(nn.Module):
    """Global mixing in the frequency domain: irfft2(ReLU(BN(Conv1×1(rfft2(x))))) with "ortho" normalisation.

    The real and imaginary parts of each channel are interleaved (Re₀, Im₀, Re₁, Im₁, …), LaMa's layout, so
    that a LaMa checkpoint's weights would line up.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2 * channels, 2 * channels, 1, bias=False)
        self.norm = nn.BatchNorm2d(2 * channels)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        dtype = x.dtype
        spectrum = torch.fft.rfft2(x.float(), norm="ortho")  # B × C × H × (W/2+1), complex
        stacked = torch.view_as_real(spectrum).permute(0, 1, 4, 2, 3).reshape(batch, 2 * channels, height, -1)
        mixed = self.act(self.norm(self.conv(stacked.to(dtype)))).float()
        mixed = mixed.view(batch, channels, 2, height, -1).permute(0, 1, 3, 4, 2).contiguous()
        return torch.fft.irfft2(torch.view_as_complex(mixed), s=(height, width), norm="ortho").to(dtype)


class SpectralTransform(nn.Module):
    """FFC's global→global path: ``conv2( h + FU(h) )`` with ``h = ReLU(BN(conv1(x)))``, hidden width C_out/2."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        if out_channels < 2:
            raise ValueError(f"SpectralTransform: out_channels must be ≥ 2, got {out_channels}")
        hidden = out_channels // 2
        self.reduce = nn.Sequential(
            nn.Conv2d(in_channels, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True)
        )
        self.fourier = FourierUnit(hidden)
        self.expand = nn.Conv2d(hidden, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = self.reduce(x)
        return self.expand(hidden + self.fourier(hidden))


class FFC(nn.Module):
    """One Fast Fourier Convolution layer: ``Y_l = l→l(X_l) + g→l(X_g)``, ``Y_g = l→g(X_l) + ST(X_g)``.

    Paths whose input or output width is 0 are absent. ``stride`` may only be > 1 when there is no global input
    (LaMa's downsamplers); the spectral path runs at stride 1.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        ratio_in: float,
        ratio_out: float,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
    ) -> None:
        super().__init__()
        in_local, in_global = split_channels(in_channels, ratio_in)
        out_local, out_global = split_channels(out_channels, ratio_out)
        if stride != 1 and in_global > 0:
            raise ValueError("FFC: a strided FFC with a global input is not supported (LaMa never uses one)")
        self.out_local, self.out_global = out_local, out_global

        def conv(cin: int, cout: int) -> nn.Module | None:
            if cin == 0 or cout == 0:
                return None
            return nn.Conv2d(
                cin, cout, kernel_size, stride, padding, dilation, bias=False, padding_mode="reflect"
            )

        self.local_to_local = conv(in_local, out_local)
        self.local_to_global = conv(in_local, out_global)
        self.global_to_local = conv(in_global, out_local)
        self.global_to_global = (
            SpectralTransform(in_global, out_global) if in_global > 0 and out_global > 0 else None
        )

    def forward(self, x: FeaturePair) -> FeaturePair:
        x_local, x_global = x

        def total(*terms: torch.Tensor | None) -> torch.Tensor | None:
            present = [t for t in terms if t is not None]
            return sum(present[1:], present[0]) if present else None

        def apply(module: nn.Module | None, value: torch.Tensor | None) -> torch.Tensor | None:
            return module(value) if module is not None and value is not None else None

        y_local = total(apply(self.local_to_local, x_local), apply(self.global_to_local, x_global))
        y_global = total(apply(self.local_to_global, x_local), apply(self.global_to_global, x_global))
        return (y_local if self.out_local else None, y_global if self.out_global else None)


class FFCNormAct(nn.Module):
    """:class:`FFC` followed by a separate BatchNorm + activation on the local and on the global part."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        ratio_in: float,
        ratio_out: float,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        activation: bool = True,
    ) -> None:
        super().__init__()
        self.ffc = FFC(
            in_channels,
            out_channels,
            kernel_size,
            ratio_in=ratio_in,
            ratio_out=ratio_out,
            stride=stride,
            padding=padding,
            dilation=dilation,
        )

        def norm_act(width: int) -> nn.Module:
            if width == 0:
                return nn.Identity()
            layers: list[nn.Module] = [nn.BatchNorm2d(width)]
            if activation:
                layers.append(nn.ReLU(inplace=True))
            return nn.Sequential(*layers)

        self.local_out = norm_act(self.ffc.out_local)
        self.global_out = norm_act(self.ffc.out_global)

    def forward(self, x: FeaturePair) -> FeaturePair:
        y_local, y_global = self.ffc(x)
        return (
            self.local_out(y_local) if y_local is not None else None,
            self.global_out(y_global) if y_global is not None else None,
        )


class FFCResidualBlock(nn.Module):
    """LaMa's FFC ResNet block: two 3×3 :class:`FFCNormAct` layers, then a per-part identity add (no final act)."""

    def __init__(self, channels: int, *, global_ratio: float = 0.75, dilation: int = 1) -> None:
        super().__init__()
        self.first = FFCNormAct(
            channels, channels, 3, ratio_in=global_ratio, ratio_out=global_ratio, padding=dilation, dilation=dilation
        )
        self.second = FFCNormAct(
            channels, channels, 3, ratio_in=global_ratio, ratio_out=global_ratio, padding=dilation, dilation=dilation
        )

    def forward(self, x: FeaturePair) -> FeaturePair:
        y_local, y_global = self.second(self.first(x))
        x_local, x_global = x
        return (
            x_local + y_local if x_local is not None and y_local is not None else y_local,
            x_global + y_global if x_global is not None and y_global is not None else y_global,
        )
