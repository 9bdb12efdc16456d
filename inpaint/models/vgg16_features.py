"""The loss network of the PConv family's perceptual and style terms (Liu et al. 2018; seed 004): the ImageNet
VGG-16's pool1, pool2 and pool3 features, frozen.

The weights are torchvision's ``vgg16-397923af.pth``, read from ``$TORCH_HOME/hub/checkpoints/`` (no download:
these machines are offline). Without it the terms that need it fail at start-up with the file and folder named
(:func:`vgg16_unavailable_message`); they are never silently dropped. Images enter in the suite's [-1, 1] and are
normalised with ImageNet's mean and std, as the network was trained.
"""

from __future__ import annotations

import functools
from pathlib import Path

import torch
from torch import nn

from inpaint.errors import MissingWeightsError
from inpaint.metrics.inception import hub_checkpoints_dir

VGG16_WEIGHTS = "vgg16-397923af.pth"
#: torchvision's ``vgg16().features`` indices that end pool1, pool2, pool3
POOL_ENDS: tuple[int, ...] = (4, 9, 16)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def vgg16_weights_path() -> Path:
    return hub_checkpoints_dir() / VGG16_WEIGHTS


def vgg16_unavailable_message(what: str) -> str:
    return (f"{what}: n/a — the ImageNet VGG-16 weights '{VGG16_WEIGHTS}' are not in '{hub_checkpoints_dir()}' (no "
            "download possible here); copy that file there (or set TORCH_HOME to a folder whose hub/checkpoints/ "
            "holds it), or set these loss weights to 0")


class VGG16Pools(nn.Module):
    """Frozen VGG-16 ``features`` up to pool3; ``forward(x in [-1, 1]) → [pool1, pool2, pool3]``."""

    def __init__(self, state_dict: dict[str, torch.Tensor] | None = None) -> None:
        super().__init__()
        from torchvision.models import vgg16

        features = vgg16(weights=None).features[: POOL_ENDS[-1] + 1]
        if state_dict is not None:
            prefix = "features."
            features.load_state_dict({k[len(prefix):]: v for k, v in state_dict.items()
                                      if k.startswith(prefix) and int(k.split(".")[1]) <= POOL_ENDS[-1]})
        starts = (0,) + tuple(end + 1 for end in POOL_ENDS[:-1])
        self.blocks = nn.ModuleList(features[a: b + 1] for a, b in zip(starts, POOL_ENDS))
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = ((x.float() + 1.0) / 2.0 - self.mean) / self.std
        pools = []
        for block in self.blocks:
            x = block(x)
            pools.append(x)
        return pools


@functools.lru_cache(maxsize=4)
def vgg16_pools(device: str) -> VGG16Pools:
    """The loss network on ``device``, loaded once per process (an error naming the file when it is missing)."""
    path = vgg16_weights_path()
    if not path.is_file():
        raise MissingWeightsError(vgg16_unavailable_message("the VGG-16 perceptual / style loss"), path)
    return VGG16Pools(torch.load(path, map_location="cpu", weights_only=True)).to(device)
