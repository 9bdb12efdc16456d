"""The figure set of the feature analyses: every operator of :mod:`inpaint.analysis` applied to the maps of one or
more TSGL-encoder generators on the same inputs, drawn the paper's way (encoder levels across, models down) and
written with a JSON of every number plotted.

For each model (first sample of the batch for pictures, the whole batch for numbers), at each encoder level k:

* ``heatmap``: channel-mean of the reconstructed texture map F̃_k (stretched per map);
* ``spectrogram``: centred log spectrogram of the high-pass of that channel mean (the "global structure");
* ``entropy``: per-pixel channel entropy of F̃_k (softmax normalisation);
* ``kl``: KL(F̃_k ‖ F̃_{k−1}) between consecutive levels (channel distributions, batch mean);
* ``complementarity``: Fig. 12's curves, KL between consecutive levels of the per-channel high-pass of F̃_k
  ("global") and of the local residual R_k ("local"; empty for variants without a residual branch), each taken in
  magnitude (a high-pass has channel means ≈ 0, so its channel distribution would be uniform everywhere);
* ``attention``: per masked-attention block that saw a hole (none did: the first block), each query token's
  attention share on invalid keys (:mod:`inpaint.analysis.attention_maps`; first sample for the picture, batch mean
  per block for the numbers).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from inpaint.analysis.attention_maps import HoleAttentionTaps
from inpaint.analysis.complementarity import stage_kl_curve
from inpaint.analysis.entropy import channel_entropy
from inpaint.analysis.heatmap import channel_mean_map, stretch
from inpaint.analysis.spectrum import high_pass, log_spectrogram
from inpaint.analysis.taps import EncoderTaps
from inpaint.analysis.token_masks import block_label

FIGURES: tuple[str, ...] = ("heatmap", "spectrogram", "entropy")


@dataclass
class ModelAnalysis:
    """One model's maps (first sample, per level) and numbers (batch means)."""

    label: str
    maps: dict[str, list[torch.Tensor]] = field(default_factory=dict)  # figure → per level H×W
    kl: list[float] = field(default_factory=list)  # KL(F̃_k ‖ F̃_{k−1}), k = 2 … 5
    complementarity: dict[str, list[float]] = field(default_factory=dict)
    mean_entropy: list[float] = field(default_factory=list)  # per level
    sizes: list[int] = field(default_factory=list)  # map side per level
    attention_blocks: list[str] = field(default_factory=list)  # attention blocks that saw a hole
    hole_attention: list[float] = field(default_factory=list)  # per such block: mean share on invalid keys
    attention_maps: list[torch.Tensor] = field(default_factory=list)  # per such block, first sample, H×W

    def numbers(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("maps")
        data.pop("attention_maps")
        return data


def _channel_high_pass(features: torch.Tensor) -> torch.Tensor:
    """The Gaussian high-pass of every channel: B×C×H×W → B×C×H×W (float64)."""
    b, c, h, w = features.shape
    return high_pass(features.reshape(b * c, h, w)).reshape(b, c, h, w)


def _magnitude(maps: list[torch.Tensor]) -> list[torch.Tensor]:
    """|x| of signed detail maps: a high-pass has channel means ≈ 0 by construction, so its channel distribution
    (softmax of the GAP vector) would be uniform at every level; the mean magnitude per channel is what differs."""
    return [m.abs() for m in maps]


def analyze_generator(label: str, generator: nn.Module, inputs: Mapping[str, torch.Tensor]) -> ModelAnalysis:
    """Run ``generator(**inputs)`` once under :class:`EncoderTaps` and compute every analysis of the module doc."""
    with torch.no_grad(), EncoderTaps(generator) as taps, HoleAttentionTaps(generator) as attention:
        generator(**inputs)
    levels = taps.maps["reconstructed"]
    result = ModelAnalysis(label, sizes=[int(f.shape[-1]) for f in levels])
    result.maps["heatmap"] = [stretch(channel_mean_map(f[:1]))[0] for f in levels]
    result.maps["spectrogram"] = [log_spectrogram(high_pass(channel_mean_map(f[:1])))[0] for f in levels]
    entropy = [channel_entropy(f) for f in levels]
    result.maps["entropy"] = [e[0] for e in entropy]
    result.mean_entropy = [float(e.mean()) for e in entropy]
    result.kl = stage_kl_curve(levels)
    residual = taps.maps["residual"]
    result.complementarity = {"global": stage_kl_curve(_magnitude([_channel_high_pass(f) for f in levels])),
                              "local": stage_kl_curve(_magnitude(residual)) if len(residual) > 1 else []}
    shares = attention.maps()
    # blocks without a hole show a share of 0 everywhere: only those that saw one (else the first, to say so)
    shown = [name for name in shares if bool((attention.inputs[name][1] < 0.5).any())] or list(shares)[:1]
    for name in shown:
        result.attention_blocks.append(block_label(name))
        result.hole_attention.append(float(shares[name].mean()))
        result.attention_maps.append(shares[name][0, 0])
    return result


def _grid(analyses: list[ModelAnalysis], figure: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = max(len(a.maps[figure]) for a in analyses)
    fig, axes = plt.subplots(len(analyses), levels, figsize=(1.8 * levels, 1.9 * len(analyses)), squeeze=False)
    for row, analysis in enumerate(analyses):
        for col in range(levels):
            ax = axes[row][col]
            ax.set_xticks([])
            ax.set_yticks([])
            if col < len(analysis.maps[figure]):
                ax.imshow(analysis.maps[figure][col].cpu().numpy(), cmap="jet" if figure != "spectrogram" else "magma")
            if row == 0:
                ax.set_title(f"level {col + 1} ({analysis.sizes[col]}²)", fontsize=8)
            if col == 0:
                ax.set_ylabel(analysis.label, fontsize=8)
    fig.suptitle(figure, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _attention_grid(analyses: list[ModelAnalysis], path: Path) -> Path:
    """Models down, attention blocks that saw a hole across: each query's share of attention on invalid keys
    (one colour scale, 0 … 1, so models and blocks compare)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = max(len(a.attention_maps) for a in analyses)
    fig, axes = plt.subplots(len(analyses), columns, figsize=(2.0 * columns + 0.8, 1.9 * len(analyses)),
                             squeeze=False)
    image = None
    for row, analysis in enumerate(analyses):
        for col in range(columns):
            ax = axes[row][col]
            ax.set_xticks([])
            ax.set_yticks([])
            if col < len(analysis.attention_maps):
                image = ax.imshow(analysis.attention_maps[col].cpu().numpy(), cmap="viridis", vmin=0.0, vmax=1.0)
                ax.set_title(f"{analysis.attention_blocks[col]}: {analysis.hole_attention[col]:.3f}", fontsize=7)
            if col == 0:
                ax.set_ylabel(analysis.label, fontsize=8)
    if image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8)
    fig.suptitle("attention share on invalid keys per query (block: batch mean)", fontsize=9)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _curves(analyses: list[ModelAnalysis], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.2))
    for analysis in analyses:
        steps = [f"{k}→{k + 1}" for k in range(1, len(analysis.kl) + 1)]
        axes[0].plot(steps, analysis.kl, marker="o", label=analysis.label)
        axes[1].plot(steps, analysis.complementarity["global"], marker="o", label=f"{analysis.label}: global")
        if analysis.complementarity["local"]:
            axes[1].plot(steps, analysis.complementarity["local"], marker="s", linestyle="--",
                         label=f"{analysis.label}: local")
    axes[0].set_title("KL(F̃_k+1 ‖ F̃_k) of the reconstructed texture", fontsize=9)
    axes[1].set_title("complementarity (Fig. 12): stage-to-stage KL", fontsize=9)
    for ax in axes:
        ax.set_xlabel("levels")
        ax.set_ylabel("KL (nats)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_analysis(analyses: list[ModelAnalysis], out_dir: str | Path,
                   provenance: Mapping[str, Any] | None = None) -> list[Path]:
    """``heatmap.png``, ``spectrogram.png``, ``entropy.png`` (levels across, models down), ``kl.png``,
    ``attention.png`` (when a model has masked attention) and ``analysis.json`` (every number plotted, plus
    ``provenance``: where the models and images came from) in ``out_dir``; returns the paths."""
    if not analyses:
        raise ValueError("write_analysis: no model analyses to draw")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [_grid(analyses, figure, out / f"{figure}.png") for figure in FIGURES]
    paths.append(_curves(analyses, out / "kl.png"))
    if any(a.attention_maps for a in analyses):
        paths.append(_attention_grid(analyses, out / "attention.png"))
    numbers = {"models": [a.numbers() for a in analyses],
               "operators": "docs/analysis.md; kl and complementarity in nats, entropy with softmax over channels"}
    if provenance:
        numbers["provenance"] = dict(provenance)
    json_path = out / "analysis.json"
    json_path.write_text(json.dumps(numbers, indent=2))
    paths.append(json_path)
    return paths
