"""Discriminators: the TSGL PatchGAN with spectral norm (the authors' code, EdgeConnect style), LaMa's pix2pixHD
NLayer PatchGAN with batch norm (``pix2pixhd_nlayer``), HiFill's global WGAN critic, DeepFillv2's SN-PatchGAN and
one SN-PatchGAN per level of the Pyramid Generator (seed 002); sizes in docs/hosts.md and docs/seeds.md.

All map a B×3×H×W image in [-1, 1] to raw scores (B×1×h×w logits for the PatchGANs, B×1 for the critic,
B×C×h×w for the SN-PatchGAN, whose every element is a score); ``forward_features`` also returns the intermediate
feature maps (after each activation) for LaMa's feature-matching loss (:func:`inpaint.losses.feature_matching_loss`).
A discriminator with ``sees_mask = True`` also takes the known-mask (``forward(x, known)``); the training step binds
it (:func:`judge`), so the losses see every discriminator as ``x → scores``.
"""

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

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(logits, the four feature maps after each LeakyReLU)."""
        features = []
        for layer in self.net:
            x = layer(x)
            if isinstance(layer, nn.LeakyReLU):
                features.append(x)
        return x, features


class NLayerDiscriminator(nn.Module):
    """LaMa's ``pix2pixhd_nlayer`` PatchGAN: 4×4 convs with padding 2, LeakyReLU 0.2, batch norm after the first.

    ``n_layers`` stride-2 blocks (the first without BN) with widths ``width``·2^k capped at 512, one stride-1 block,
    then a stride-1 conv to one logit map. LaMa uses ``width=64, n_layers=4`` (6,962,369 parameters). All convs
    have a bias. ``forward_features`` returns the logits and the ``n_layers + 1`` block outputs (LaMa's
    feature-matching features).
    """

    def __init__(self, in_channels: int = 3, width: int = 64, n_layers: int = 4, max_width: int = 512) -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"NLayerDiscriminator: n_layers must be >= 1, got {n_layers}")
        kernel, pad = 4, 2
        blocks: list[nn.Module] = [nn.Sequential(nn.Conv2d(in_channels, width, kernel, 2, pad), nn.LeakyReLU(0.2))]
        cout = width
        for k in range(1, n_layers + 1):
            cin, cout = cout, min(width * 2**k, max_width)
            stride = 2 if k < n_layers else 1  # the last block keeps the resolution
            blocks.append(nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, pad), nn.BatchNorm2d(cout),
                                        nn.LeakyReLU(0.2)))
        self.blocks = nn.ModuleList(blocks)
        self.classifier = nn.Conv2d(cout, 1, kernel, 1, pad)

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        features = []
        for block in self.blocks:
            x = block(x)
            features.append(x)
        return self.classifier(x), features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_features(x)[0]


class GlobalCritic(nn.Module):
    """HiFill's critic: six 5×5 stride-2 convs with bias and "same" padding (LeakyReLU 0.2, no normalisation),
    widths ``width``·(1, 2, 4, 4, 4, 4), then a dense layer on the flattened (side/64)² map to one score per image.

    For WGAN-GP (``losses.adversarial: wgan``, ``gradient_penalty: 10``). The dense layer ties the critic to
    ``input_size`` (5,961,601 parameters at 512², HiFill's checkpoint; 5,949,313 at 256²); another size is a clear
    error. Sides must be multiples of 64.
    """

    def __init__(self, in_channels: int = 3, width: int = 64, input_size: int = 256) -> None:
        super().__init__()
        if input_size % 64 or input_size < 64:
            raise ValueError(f"GlobalCritic: input_size must be a positive multiple of 64, got {input_size}")
        self.input_size = input_size
        widths = (width, 2 * width, 4 * width, 4 * width, 4 * width, 4 * width)
        layers: list[nn.Module] = []
        cin = in_channels
        for cout in widths:
            layers += [nn.Conv2d(cin, cout, 5, stride=2, padding=2), nn.LeakyReLU(0.2)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.score = nn.Linear(cin * (input_size // 64) ** 2, 1)

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        if x.shape[-2:] != (self.input_size, self.input_size):
            raise ValueError(f"GlobalCritic was built for {self.input_size}² inputs (its dense layer fixes the size), "
                             f"got {tuple(x.shape[-2:])}; set discriminator.init_args.input_size to the crop size")
        maps = []
        for layer in self.features:
            x = layer(x)
            if isinstance(layer, nn.LeakyReLU):
                maps.append(x)
        return self.score(x.flatten(1)), maps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_features(x)[0]


class SNPatchGAN(nn.Module):
    """DeepFillv2's SN-PatchGAN: six 5×5 stride-2 spectral-norm convs with bias and "same" padding, LeakyReLU 0.2
    after every one, widths ``width``·(1, 2, 4, 4, 4, 4), on the image and the hole indicator (1 = hole, DeepFill's
    convention, converted here).

    There is no classifier layer: every element of the last B×4·width×⌈H/64⌉×⌈W/64⌉ map is a score (DeepFillv2
    applies the hinge loss to the flattened map). ``width=64`` gives DeepFillv2's 5,946,816 parameters.
    """

    sees_mask = True

    def __init__(self, in_channels: int = 3, width: int = 64) -> None:
        super().__init__()
        widths = (width, 2 * width, 4 * width, 4 * width, 4 * width, 4 * width)
        layers: list[nn.Module] = []
        cin = in_channels + 1  # + the hole indicator
        for cout in widths:
            layers += [spectral_norm(nn.Conv2d(cin, cout, 5, stride=2, padding=2)), nn.LeakyReLU(0.2)]
            cin = cout
        self.net = nn.Sequential(*layers)

    def forward_features(self, x: torch.Tensor, known: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(scores, the six maps after each LeakyReLU; the last one *is* the scores)."""
        hole = (1.0 - known).to(x.dtype).expand(x.shape[0], 1, *x.shape[-2:])
        x = torch.cat([x, hole], dim=1)
        features = []
        for layer in self.net:
            x = layer(x)
            if isinstance(layer, nn.LeakyReLU):
                features.append(x)
        return x, features

    def forward(self, x: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
        return self.forward_features(x, known)[0]


class LevelDiscriminators(nn.Module):
    """One independent :class:`SNPatchGAN` per level of a pyramid generator, bottom level first (seed 002: one
    discriminator per level, all of the same structure).

    The training step gives level n's discriminator that level's output (``extras["level_<n>"]``) and the ground
    truth and mask downscaled to it (:mod:`inpaint.lit.levels`); it is never called on one image directly.
    """

    def __init__(self, levels: int = 3, in_channels: int = 3, width: int = 64) -> None:
        super().__init__()
        if levels < 1:
            raise ValueError(f"LevelDiscriminators: levels must be >= 1, got {levels}")
        self.levels = nn.ModuleList(SNPatchGAN(in_channels, width) for _ in range(levels))

    def __len__(self) -> int:
        return len(self.levels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise TypeError("LevelDiscriminators judges each pyramid level with its own discriminator; the training step "
                        "calls discriminator.levels[n] (inpaint.lit.levels), not the container")


class NoDiscriminator(nn.Module):
    """No adversarial training: ``InpaintingGAN`` trains the generator alone (one optimiser, no D step), as with
    ``discriminator=None``. A config names it (``class_path: inpaint.models.discriminators.NoDiscriminator``) rather
    than ``null`` so that size overlays, which narrow "the" discriminator (``init_args.width``), still compose;
    ``width`` is accepted and has nothing to size."""

    def __init__(self, width: int | None = None) -> None:
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise TypeError("NoDiscriminator stands for training without a discriminator; it judges nothing")


class MaskBound:
    """A mask-conditioned discriminator with its known-mask bound: callable as ``x → scores`` like any other."""

    def __init__(self, discriminator: nn.Module, known: torch.Tensor) -> None:
        self.discriminator, self.known = discriminator, known

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.discriminator(x, self.known)

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return self.discriminator.forward_features(x, self.known)


def judge(discriminator: nn.Module, known: torch.Tensor) -> nn.Module | MaskBound:
    """``discriminator`` as an ``x → scores`` callable: mask-conditioned ones (``sees_mask``) get ``known`` bound."""
    return MaskBound(discriminator, known) if getattr(discriminator, "sees_mask", False) else discriminator


def discriminator_features(discriminator: nn.Module | MaskBound,
                           x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """(logits, feature maps) of any discriminator that has ``forward_features``; a clear error otherwise."""
    forward_features = getattr(discriminator, "forward_features", None)
    if forward_features is None:
        raise TypeError(
            f"{type(discriminator).__name__} exposes no feature maps (forward_features), which "
            "losses.lambda_feature_matching needs; use inpaint.models.discriminators.NLayerDiscriminator or "
            "PatchDiscriminator, or set lambda_feature_matching: 0"
        )
    return forward_features(x)
