"""Gated convolution (DeepFillv2, Yu et al., ICCV 2019, Eq. 1) and HiFill's light-weight variants (LWGC, Yi et al.,
CVPR 2020, Sec. 3.3).

A gated convolution multiplies an ELU feature branch by a sigmoid gate: ``y = σ(G(x)) ⊙ ELU(F(x))`` (ReLU where
DeepFillv2 asks for it). DeepFillv2's
gate is a full k×k conv with one gate per output channel (``gate="full"``); HiFill makes the gate branch cheap in
one of three ways:

* ``"single"``    – one gate channel from a k×k conv, broadcast over all output channels (LWGC_sc; HiFill's
  coarse network);
* ``"pixel"``     – a 1×1 conv with one gate per output channel (LWGC_pw; what the author's re-implementation and
  its checkpoint use in the refine network);
* ``"depthwise"`` – a depthwise k×k conv followed by a pointwise 1×1 conv (LWGC_ds; what the paper describes for
  the refine network).

Padding is symmetric (PyTorch style), not TensorFlow's asymmetric "SAME"; only the half-pixel alignment of
stride-2 layers differs, which matters only when porting TF weights.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

GateKind = Literal["full", "single", "pixel", "depthwise"]
GATE_KINDS: tuple[str, ...] = ("full", "single", "pixel", "depthwise")
UpsampleMode = Literal["bilinear", "nearest"]


class LightweightGatedConv2d(nn.Module):
    """``σ(gate(x)) ⊙ ELU(feature(x))`` with a k×k feature conv and a gate branch (see module doc)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        *,
        stride: int = 1,
        dilation: int = 1,
        gate: GateKind = "pixel",
        activation: Literal["elu", "relu"] = "elu",
    ) -> None:
        super().__init__()
        if activation not in ("elu", "relu"):
            raise ValueError(f"LightweightGatedConv2d: activation must be 'elu' or 'relu', got {activation!r}")
        self.activation = F.elu if activation == "elu" else F.relu
        if gate not in GATE_KINDS:
            raise ValueError(f"LightweightGatedConv2d: gate must be one of {GATE_KINDS}, got {gate!r}")
        if kernel_size % 2 != 1:
            raise ValueError(
                f"LightweightGatedConv2d: kernel_size must be odd for symmetric padding, got {kernel_size}"
            )
        padding = dilation * (kernel_size - 1) // 2
        self.feature = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation)
        self.gate: nn.Module
        if gate == "full":
            self.gate = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation)
        elif gate == "single":
            self.gate = nn.Conv2d(in_channels, 1, kernel_size, stride, padding, dilation)
        elif gate == "pixel":
            # a 1×1 stride-s conv samples the same pixels the k×k stride-s feature conv is centred on
            self.gate = nn.Conv2d(in_channels, out_channels, 1, stride)
        else:
            self.gate = nn.Sequential(
                nn.Conv2d(in_channels, in_channels, kernel_size, stride, padding, dilation, groups=in_channels),
                nn.Conv2d(in_channels, out_channels, 1),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.gate(x)) * self.activation(self.feature(x))


class GatedUpConv2d(nn.Module):
    """×2 upsampling, then a stride-1 :class:`LightweightGatedConv2d`: HiFill's "up" layer (bilinear) and
    DeepFillv2's ``gen_deconv`` (nearest, full gate)."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int = 3, *, gate: GateKind = "pixel",
        mode: UpsampleMode = "bilinear",
    ) -> None:
        super().__init__()
        if mode not in ("bilinear", "nearest"):
            raise ValueError(f"GatedUpConv2d: mode must be 'bilinear' or 'nearest', got {mode!r}")
        self.mode = mode
        self.conv = LightweightGatedConv2d(in_channels, out_channels, kernel_size, gate=gate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "nearest":
            return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False))


GatedInit = Literal["fan_in", "hifill"]


def init_gated_convs(module: nn.Module, scheme: GatedInit = "fan_in") -> None:
    """Initialise every conv of a gated network; biases start at 0.

    ``"hifill"``: HiFill's TensorFlow init, truncated normal (±2 std) with a fixed std 0.05. Through ~25 gated
    layers this shrinks the signal to ~1e-6 (measured at 256²), so training starts from a flat output.
    ``"fan_in"`` (default): Kaiming-normal feature convs scaled by 2 (the σ≈½ gate halves the signal once per
    layer, so the ReLU gain √2 is doubled), which keeps the activations at unit scale at any width; gate convs
    keep PyTorch's default init.
    """
    if scheme not in ("fan_in", "hifill"):
        raise ValueError(f"init_gated_convs: scheme must be 'fan_in' or 'hifill', got {scheme!r}")
    feature_convs = {id(m.feature) for m in module.modules() if isinstance(m, LightweightGatedConv2d)}
    for m in module.modules():
        if not isinstance(m, nn.Conv2d):
            continue
        if scheme == "hifill":
            nn.init.trunc_normal_(m.weight, std=0.05, a=-0.1, b=0.1)
        elif id(m) in feature_convs:
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            with torch.no_grad():
                m.weight.mul_(2.0)
        else:
            continue
        if m.bias is not None:
            nn.init.zeros_(m.bias)
