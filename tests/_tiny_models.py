"""Tiny stand-ins that follow ``inpaint.models.interface`` so the LightningModule can be tested in milliseconds."""

from __future__ import annotations

import torch
from torch import nn

from inpaint.models.interface import GeneratorOutput, InpaintGenerator


class TinyGenerator(InpaintGenerator):
    """Two convolutions on (masked image, mask, masked edge) with a tanh image head and a sigmoid edge head."""

    size_multiple = 4

    def __init__(self, width: int = 8, edge_head: bool = True) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(5, width, 3, padding=1), nn.LeakyReLU(0.2))
        self.to_image = nn.Conv2d(width, 3, 3, padding=1)
        self.to_edge = nn.Conv2d(width, 1, 3, padding=1) if edge_head else None

    def forward(self, image, mask, edge=None, gray=None, smooth=None) -> GeneratorOutput:
        edge = torch.zeros_like(mask) if edge is None else edge
        features = self.body(torch.cat([image * mask, mask, edge * mask], dim=1))
        predicted_edge = torch.sigmoid(self.to_edge(features)) if self.to_edge is not None else None
        return GeneratorOutput(image=torch.tanh(self.to_image(features)), edge=predicted_edge)


class TinyDiscriminator(nn.Module):
    """A two-layer patch discriminator returning logits."""

    def __init__(self, in_channels: int = 3, width: int = 8) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(width, 1, 3, padding=1)
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image)


def tiny_batch(batch_size: int = 2, size: int = 16, seed: int = 0) -> dict:
    """A batch in the data module's format (image, mask, edge, gray, smooth, hole_ratio, id)."""
    gen = torch.Generator().manual_seed(seed)
    image = torch.rand(batch_size, 3, size, size, generator=gen) * 2 - 1
    mask = torch.ones(batch_size, 1, size, size)
    mask[:, :, size // 4 : size // 2, size // 4 : size // 2] = 0
    edge = (torch.rand(batch_size, 1, size, size, generator=gen) > 0.8).float()
    gray = (image.mean(1, keepdim=True) + 1) / 2
    return {
        "image": image,
        "mask": mask,
        "edge": edge,
        "gray": gray,
        "smooth": image.clone(),
        "hole_ratio": 1 - mask.flatten(1).mean(1),
        "id": [f"tiny-{seed}-{i}" for i in range(batch_size)],
    }


class _TinyDataset(torch.utils.data.Dataset):
    def __init__(self, length: int, size: int, seed: int) -> None:
        self.length, self.size, self.seed = length, size, seed

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict:
        sample = tiny_batch(1, self.size, seed=self.seed * 100003 + index)
        return {k: (v[0] if isinstance(v, torch.Tensor) else f"s{self.seed}-{index}") for k, v in sample.items()}


class TinyDataModule(__import__("lightning").pytorch.LightningDataModule):
    """Random images with a square hole, in the data module's batch format."""

    def __init__(self, size: int = 16, batch_size: int = 2, train_length: int = 16, val_length: int = 4) -> None:
        super().__init__()
        self.size, self.batch_size, self.train_length, self.val_length = size, batch_size, train_length, val_length

    def train_dataloader(self):
        return torch.utils.data.DataLoader(_TinyDataset(self.train_length, self.size, 1), self.batch_size, shuffle=True)

    def val_dataloader(self):
        return torch.utils.data.DataLoader(_TinyDataset(self.val_length, self.size, 2), self.batch_size)

    def test_dataloader(self):
        return self.val_dataloader()
