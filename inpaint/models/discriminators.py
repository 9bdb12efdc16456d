"""PatchGAN discriminator with spectral norm (TSGL official code, EdgeConnect style; spec §7.1)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class PatchDiscriminator(nn.Module):
    """Four 5×5 spectral-norm convs (strides 2, 2, 2, 1; no bias; LeakyReLU 0.2) and a 5×5 classifier.

    Widths are ``width``·(1, 2, 4, 8); the classifier has a bias and no spectral norm. Returns raw logits
    B×1×h×w (27×27 for a 256² input with padding 1), for hinge or BCE-with-logits losses. ``width=64`` gives
    the official 4.32 M parameters.
    """

    def __init__(self, in_channels: int = 3, width: int = 64, kernel_size: int = 5, padding: int = 1,
                 use_spectral_norm: bool = True) -> None:
        super().__init__()
        sn = spectral_norm if use_spectral_norm else (lambda m: m)
        widths = (width, 2 * width, 4 * width, 8 * width)
        layers: list[nn.Module] = []
        cin = in_channels
        for i, cout in enumerate(widths):
            stride = 2 if i < 3 else 1
            layers += [sn(nn.Conv2d(cin, cout, kernel_size, stride, padding, bias=False)), nn.LeakyReLU(0.2)]
            cin = cout
        layers.append(nn.Conv2d(cin, 1, kernel_size, 1, padding))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
