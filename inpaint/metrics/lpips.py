"""LPIPS (Zhang et al. 2018) through the ``lpips`` package, with the ImageNet backbone resolved offline.

The calibrated linear heads (v0.1) ship inside the ``lpips`` wheel; the backbone (AlexNet by default, VGG16 as an
option) is torchvision's ImageNet model, which torchvision reads from ``$TORCH_HOME/hub/checkpoints/`` and would
otherwise download. Nothing can be downloaded here, so :func:`resolve_lpips` looks for the file first and, when it is
absent, returns a backend whose ``unavailable_reason`` names the file and the folder instead of a number.
Backbones are not interchangeable (LaMa reports VGG; MAT, MI-GAN, ZITS alex): the net is recorded with every value.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from inpaint.metrics.inception import hub_checkpoints_dir

LPIPSNet = Literal["alex", "vgg"]
BACKBONE_WEIGHTS: dict[str, str] = {"alex": "alexnet-owt-7be5be79.pth", "vgg": "vgg16-397923af.pth"}
_CHUNK = 32
MIN_SIZE = 32  # AlexNet's three stride-2 poolings reduce smaller inputs to nothing


@dataclass
class LPIPSBackend:
    """The resolved LPIPS model (None when unavailable, with the reason to print instead)."""

    net: str
    model: nn.Module | None
    unavailable_reason: str | None = None

    @property
    def available(self) -> bool:
        return self.model is not None


def missing_backbone_message(net: LPIPSNet) -> str:
    return (
        f"LPIPS n/a: the ImageNet {net} backbone '{BACKBONE_WEIGHTS[net]}' is not in '{hub_checkpoints_dir()}' "
        "(no download possible); copy that file there (or set TORCH_HOME to a folder whose hub/checkpoints/ holds it)."
    )


def build_lpips(net: LPIPSNet = "alex", random_backbone: bool = False) -> nn.Module:
    """``lpips.LPIPS`` in eval mode with frozen weights; ``random_backbone`` builds it without ImageNet weights."""
    import lpips

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")  # torchvision's `pretrained=` deprecation notices
        model = lpips.LPIPS(net=net, pnet_rand=random_backbone, verbose=False)
    model.eval().requires_grad_(False)
    return model


def resolve_lpips(net: LPIPSNet = "alex") -> LPIPSBackend:
    """LPIPS with the real backbone when its weight file is present offline, else an explained "n/a"."""
    if net not in BACKBONE_WEIGHTS:
        raise ValueError(f"lpips net must be one of {sorted(BACKBONE_WEIGHTS)}, got {net!r}")
    if not (hub_checkpoints_dir() / BACKBONE_WEIGHTS[net]).is_file():
        return LPIPSBackend(net, None, missing_backbone_message(net))
    return LPIPSBackend(net, build_lpips(net))


@torch.no_grad()
def lpips_per_image(model: nn.Module, preds: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """LPIPS distance of each image pair; inputs float B×3×H×W in [-1, 1] (the lpips convention)."""
    if preds.shape != target.shape or preds.ndim != 4:
        raise ValueError(f"expected two equal B×3×H×W tensors, got {tuple(preds.shape)} and {tuple(target.shape)}")
    if min(preds.shape[-2:]) < MIN_SIZE:
        raise ValueError(
            f"LPIPS needs images of at least {MIN_SIZE}×{MIN_SIZE} (backbone pooling), got {tuple(preds.shape)}"
        )
    if not preds.is_floating_point():
        raise TypeError(f"LPIPS takes float images in [-1, 1], got {preds.dtype}")
    values = [model(p, t).flatten() for p, t in zip(preds.split(_CHUNK), target.split(_CHUNK))]
    return torch.cat(values).double() if values else preds.new_zeros(0, dtype=torch.float64)
