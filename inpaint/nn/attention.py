"""Masked window attention with the τ term (paper Eq. 3–5), the transformer block and a texture stage.

Eq. 4: ``MCA(F) = Softmax((Q Kᵀ − τ·M) / √d) · V`` with M(i, j) = 1 for an invalid key token j (Eq. 5).

Where τ enters is an option (``tau_position``):

* ``"before_scale"`` — the paper's Eq. 4: τ is divided by √d with the logits, so an invalid key is pushed
  down by τ/√d;
* ``"after_scale"`` — the official code: ``Q Kᵀ/√d − τ`` (its literal −100).

Both are exact additive masks, so the work goes through ``F.scaled_dot_product_attention`` (which adds the
mask after its own 1/√d scaling). Windows are square, ``window`` tokens a side, capped at the feature map's
shorter side; odd blocks of a stage shift by half a window (Swin), tokens from different regions of a
shifted window never attend to each other (logit ``shift_logit``: −1e4 by default; the official code's −100
lets a region whose keys are all holes still attend across regions). Maps whose sides are not a multiple of the
window are padded with tokens that get zero weight (logit −1e4) in every softmax. There is no positional encoding (as in
the official code): position enters through the convolutions only.
"""

from __future__ import annotations

import functools
import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from inpaint.conventions import is_known
from inpaint.nn.float32 import float32_island
from inpaint.nn.partial_conv import PartialConv2d, RatioPosition

TauPosition = Literal["before_scale", "after_scale"]

#: additive logit for keys that must never be attended (other shift region, padding). Finite so a row whose
#: keys are all excluded (a padded query) stays NaN-free; exp(-1e4) underflows to exactly 0 in float32.
EXCLUDED = -1.0e4


def _window_partition(x: torch.Tensor, window: int) -> torch.Tensor:
    """B×H×W×C → (B·nW)×(window²)×C."""
    b, h, w, c = x.shape
    x = x.view(b, h // window, window, w // window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window * window, c)


def _window_merge(windows: torch.Tensor, window: int, b: int, h: int, w: int) -> torch.Tensor:
    """(B·nW)×(window²)×C → B×H×W×C."""
    c = windows.shape[-1]
    x = windows.view(b, h // window, w // window, window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(b, h, w, c)


def shift_region_ids(height: int, width: int, window: int, shift: int, device: torch.device) -> torch.Tensor:
    """Region index of every position of a cyclically shifted map (Swin's 3×3 region layout), H×W."""
    ids = torch.zeros(height, width, dtype=torch.long, device=device)
    bounds = (slice(0, -window), slice(-window, -shift), slice(-shift, None))
    region = 0
    for rows in bounds:
        for cols in bounds:
            ids[rows, cols] = region
            region += 1
    return ids


@functools.lru_cache(maxsize=64)
def static_window_bias(
    height: int, width: int, window: int, shift: int, device: torch.device, dtype: torch.dtype,
    shift_logit: float = EXCLUDED,
) -> torch.Tensor | None:
    """The input-independent part of the key bias, nW×N×N: shift regions and padding (None when neither).

    Depends only on the geometry, so it is built once per (size, window, shift) and reused by every block
    and step (cached; it never requires grad). Built outside inference mode so that a tensor cached during
    validation can later be saved for backward in training.
    """
    pad_h, pad_w = (-height) % window, (-width) % window
    if not shift and not (pad_h or pad_w):
        return None
    with torch.inference_mode(False):
        return _build_static_bias(height, width, window, shift, pad_h, pad_w, device, dtype, shift_logit)


def window_inside(height: int, width: int, window: int, shift: int, device: torch.device) -> torch.Tensor:
    """nW×N bool: True for the tokens of each window that lie on the map, False for the padding tokens."""
    inside = torch.zeros(height + (-height) % window, width + (-width) % window, dtype=torch.bool, device=device)
    inside[:height, :width] = True
    if shift:
        inside = torch.roll(inside, shifts=(-shift, -shift), dims=(0, 1))
    return _window_partition(inside[None, :, :, None].float(), window)[..., 0] > 0.5


def _build_static_bias(height: int, width: int, window: int, shift: int, pad_h: int, pad_w: int,
                       device: torch.device, dtype: torch.dtype, shift_logit: float) -> torch.Tensor:
    hp, wp = height + pad_h, width + pad_w
    inside_w = window_inside(height, width, window, shift, device)
    n_tokens = window * window
    bias = torch.zeros(inside_w.shape[0], n_tokens, n_tokens, dtype=dtype, device=device)
    if shift:
        ids = shift_region_ids(hp, wp, window, shift, device)[None, :, :, None].float()
        regions = _window_partition(ids, window)[..., 0]
        bias = bias.masked_fill(regions[:, :, None] != regions[:, None, :], shift_logit)
    return bias.masked_fill(~inside_w[:, None, :], EXCLUDED)


@float32_island
def unit_tokens(tokens: torch.Tensor) -> torch.Tensor:
    """Tokens L2-normalised over channels (float32 under bf16 autocast: a division by a sum of squares)."""
    return F.normalize(tokens, dim=-1)


class WindowAttention(nn.Module):
    """Multi-head attention inside one window with the τ mask term on invalid keys (Eq. 4–5).

    As in MAT/the official code, queries and keys are computed from the L2-normalised tokens and values
    from the raw tokens. ``forward(tokens, key_bias)`` takes (B·nW)×N×C tokens and an additive key bias that
    broadcasts to (B·nW)×heads×N×N (already containing −τ·M, the shift-region and padding terms).
    """

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"attention dim {dim} is not divisible by heads {heads}")
        self.heads = heads
        self.head_dim = dim // heads
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def _split(self, t: torch.Tensor) -> torch.Tensor:
        n, length, _ = t.shape
        return t.view(n, length, self.heads, self.head_dim).transpose(1, 2)

    def qkv(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        normed = unit_tokens(tokens)
        return self._split(self.query(normed)), self._split(self.key(normed)), self._split(self.value(tokens))

    def attention_weights(self, tokens: torch.Tensor, key_bias: torch.Tensor | None) -> torch.Tensor:
        """The explicit softmax weights (B·nW)×heads×N×N — the reference path (used by tests and analysis)."""
        q, k, _ = self.qkv(tokens)
        logits = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)
        if key_bias is not None:
            logits = logits + key_bias
        return logits.softmax(dim=-1)

    def forward(self, tokens: torch.Tensor, key_bias: torch.Tensor | None) -> torch.Tensor:
        q, k, v = self.qkv(tokens)
        if key_bias is not None:
            key_bias = key_bias.to(q.dtype)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=key_bias)
        n, _, length, _ = out.shape
        return self.proj(out.transpose(1, 2).reshape(n, length, -1))


class TransformerBlock(nn.Module):
    """Eq. 3: ``F ← MLP(FC(Concat(MCA(F), F)))`` — no LayerNorm and no residual inside the block.

    ``FC`` fuses the 2C concat back to C with a LeakyReLU(0.2); the MLP is C → ratio·C → C with a LeakyReLU
    in between and a linear output.
    """

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 2.0) -> None:
        super().__init__()
        hidden = int(round(dim * mlp_ratio))
        self.attention = WindowAttention(dim, heads)
        self.fuse = nn.Sequential(nn.Linear(2 * dim, dim), nn.LeakyReLU(0.2))
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, dim))

    def forward(self, tokens: torch.Tensor, key_bias: torch.Tensor | None) -> torch.Tensor:
        attended = self.attention(tokens, key_bias)
        return self.mlp(self.fuse(torch.cat([tokens, attended], dim=-1)))


class MaskedWindowAttentionLayer(nn.Module):
    """One transformer block applied on a B×C×H×W map: partition → masked attention (Eq. 4) → merge.

    Handles the window cap, the cyclic shift (when ``shifted`` and the window is smaller than the map),
    padding to a multiple of the window, the τ term and the window-level token-mask update (Sec. III-A2:
    every token of a window becomes valid after attention if at least one was valid before).
    """

    def __init__(
        self,
        dim: int,
        heads: int,
        window: int,
        shifted: bool,
        tau: float = 100.0,
        tau_position: TauPosition = "before_scale",
        mlp_ratio: float = 2.0,
        shift_logit: float = EXCLUDED,
    ) -> None:
        super().__init__()
        if tau_position not in ("before_scale", "after_scale"):
            raise ValueError(f"tau_position must be 'before_scale' or 'after_scale', got {tau_position!r}")
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.block = TransformerBlock(dim, heads, mlp_ratio)
        self.window = window
        self.shifted = shifted
        self.tau = float(tau)
        self.tau_position = tau_position
        self.shift_logit = float(shift_logit)

    def effective_window(self, height: int, width: int) -> int:
        """The window capped at the feature map's shorter side."""
        return max(1, min(self.window, height, width))

    def _tau_scale(self) -> float:
        head_dim = self.block.attention.head_dim
        return self.tau / math.sqrt(head_dim) if self.tau_position == "before_scale" else self.tau

    def window_geometry(self, height: int, width: int) -> tuple[int, int, int, int]:
        """(window, shift, pad_h, pad_w) this block uses on a height×width map."""
        window = self.effective_window(height, width)
        shift = window // 2 if self.shifted and window < min(height, width) else 0
        return window, shift, (-height) % window, (-width) % window

    def windowed_validity(self, mask: torch.Tensor) -> torch.Tensor:
        """The token mask as the attention sees it: (B·nW)×N, 1 = valid key, 0 = hole or padding token, windows
        in the order of :func:`_window_partition` after padding and the cyclic shift."""
        window, shift, pad_h, pad_w = self.window_geometry(*mask.shape[-2:])
        valid = is_known(mask[:, 0])
        if pad_h or pad_w:
            valid = F.pad(valid, (0, pad_w, 0, pad_h))
        if shift:
            valid = torch.roll(valid, shifts=(-shift, -shift), dims=(1, 2))
        return _window_partition(valid[..., None].to(mask.dtype), window)[..., 0]

    def attention_windows(
        self, x: torch.Tensor, mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """What the attention sees: the (B·nW)×N×C window tokens (padded, shifted), the additive key bias
        (B·nW)×1×N×N or None (τ term, shift regions, padding) and the windowed validity (B·nW)×N or None."""
        b, c, h, w = x.shape
        window, shift, pad_h, pad_w = self.window_geometry(h, w)
        tokens = x.permute(0, 2, 3, 1)
        if pad_h or pad_w:
            tokens = F.pad(tokens, (0, 0, 0, pad_w, 0, pad_h))
        if shift:
            tokens = torch.roll(tokens, shifts=(-shift, -shift), dims=(1, 2))

        windows = _window_partition(tokens, window)  # (B·nW)×N×C
        n_windows = windows.shape[0] // b
        n_tokens = window * window
        static = static_window_bias(h, w, window, shift, x.device, x.dtype, self.shift_logit)  # nW×N×N or None
        key_bias: torch.Tensor | None = None
        valid_w = self.windowed_validity(mask.to(x.dtype)) if mask is not None else None  # (B·nW)×N
        if valid_w is not None and self.tau != 0.0:
            tau_term = (1.0 - valid_w).view(b, n_windows, 1, n_tokens) * (-self._tau_scale())
            key_bias = tau_term if static is None else tau_term + static[None]
            key_bias = key_bias.reshape(b * n_windows, 1, -1, n_tokens)
        elif static is not None:
            key_bias = static[None].expand(b, -1, -1, -1).reshape(b * n_windows, 1, n_tokens, n_tokens)
        return windows, key_bias, valid_w

    def merge_windows(self, windows: torch.Tensor, batch: int, height: int, width: int) -> torch.Tensor:
        """(B·nW)×N×C per-window values back to a B×C×H×W map (undo the shift, drop the padding)."""
        window, shift, pad_h, pad_w = self.window_geometry(height, width)
        out = _window_merge(windows, window, batch, height + pad_h, width + pad_w)
        if shift:
            out = torch.roll(out, shifts=(shift, shift), dims=(1, 2))
        return out[:, :height, :width].permute(0, 3, 1, 2)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        b, c, h, w = x.shape
        windows, key_bias, valid_w = self.attention_windows(x, mask)
        out = self.merge_windows(self.block(windows, key_bias), b, h, w)
        if valid_w is None:
            return out, None
        # Sec. III-A2: after attention every token of a window with at least one valid token is valid
        any_valid = (valid_w.amax(dim=1, keepdim=True) > 0.5).expand(-1, valid_w.shape[1])
        return out, self.merge_windows(any_valid[..., None].to(x.dtype), b, h, w)


class TextureStage(nn.Module):
    """One transformer stage of the texture encoder (stages 2–5): halve, attend ``depth`` times, refine.

    ``merge`` = partial conv 3×3 stride 2 (the stage input is the previous layer's reconstructed map), then
    ``depth`` masked-attention blocks (shifted on odd blocks), then a partial conv 3×3 stride 1 whose output
    is added to the merged map (the stage-level skip, the only residual of the stage).

    ``masked=False`` runs the stage as the official code runs stage 5, with no mask at all: merge and refine are
    plain convs (no partial-conv ratio) and the attention has no τ term. The mask is still carried through the
    convs' windows so that the encoder reports a mask at every stride. ``antialias`` blurs before the merge
    (:mod:`inpaint.nn.fir`).
    """

    def __init__(
        self,
        dim: int,
        depth: int,
        heads: int,
        window: int,
        tau: float = 100.0,
        tau_position: TauPosition = "before_scale",
        mlp_ratio: float = 2.0,
        masked: bool = True,
        pconv_mask_input: bool = True,
        pconv_ratio_position: RatioPosition = "before_bias",
        antialias: bool = False,
        shift_logit: float = EXCLUDED,
    ) -> None:
        super().__init__()
        pconv = dict(mask_input=pconv_mask_input, ratio_position=pconv_ratio_position)
        self.merge = PartialConv2d(
            dim, dim, 3, stride=2, padding=1, activation=nn.LeakyReLU(0.2), antialias=antialias, **pconv
        )
        self.blocks = nn.ModuleList(
            MaskedWindowAttentionLayer(dim, heads, window, bool(i % 2), tau, tau_position, mlp_ratio, shift_logit)
            for i in range(depth)
        )
        self.refine = PartialConv2d(dim, dim, 3, stride=1, padding=1, activation=nn.LeakyReLU(0.2), **pconv)
        self.masked = masked

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.masked:
            merged = self.merge.plain(x)
            out = merged
            for block in self.blocks:
                out, _ = block(out, None)
            mask = self.refine.window(self.merge.window(mask).mask).mask
            return self.refine.plain(out) + merged, mask
        merged, mask = self.merge(x, mask)
        out = merged
        token_mask: torch.Tensor | None = mask
        for block in self.blocks:
            out, token_mask = block(out, token_mask)
        if token_mask is not None:
            mask = token_mask
        out, mask = self.refine(out, mask)
        return out + merged, mask
