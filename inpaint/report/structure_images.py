"""The two "structure images" of paper Table VII, on which the encoder-swap comparison computes its metrics.

* **global structure image** — the Canny edge map of the image (the same edge operator that produces the
  network's edge prior: gray = BT.709 luma of the [0, 1] image, Canny σ = 2; see :mod:`inpaint.data.preprocess`);
* **local residual structure image** — the high-frequency residual ``image − up(down(image))``, with ``down`` =
  ``factor``×``factor`` average pooling and ``up`` = bilinear interpolation back to the input size
  (``align_corners=False``). It is the image-space counterpart of the encoder's local residual structure R_k.

Both take B×3×H×W images in [-1, 1] (suite convention) and are meant to be applied to the output (or composite)
and to the ground truth alike; the metrics are then computed between the two structure images. See docs/hosts.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from inpaint.conventions import to_unit
from inpaint.data.preprocess import CANNY_SIGMA, canny_edges, canny_tensor, gray_tensor

StructureKind = Literal["global", "local"]


def _check_image(image: torch.Tensor, name: str) -> None:
    if image.dim() != 4 or image.shape[1] != 3:
        raise ValueError(f"{name}: expects a B×3×H×W image in [-1, 1], got shape {tuple(image.shape)}")


def global_structure_image(
    image: torch.Tensor, sigma: float = CANNY_SIGMA, backend: Literal["skimage", "kornia"] = "skimage"
) -> torch.Tensor:
    """Canny edges of a B×3×H×W image in [-1, 1] → B×1×H×W float {0, 1} (Table VII "global structure image")."""
    _check_image(image, "global_structure_image")
    gray = gray_tensor(to_unit(image.detach().float()).clamp(0.0, 1.0))
    if backend == "kornia":
        return canny_tensor(gray, sigma)
    if backend != "skimage":
        raise ValueError(f"global_structure_image: backend must be 'skimage' or 'kornia', got {backend!r}")
    edges = [canny_edges(g[0].cpu().numpy(), "skimage", sigma) for g in gray]
    return torch.from_numpy(np.stack(edges)[:, None].astype(np.float32)).to(image.device)


def local_residual_structure_image(image: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """``image − up(down(image))`` (Table VII "local residual structure image"), same shape as the input.

    ``down`` averages ``factor``×``factor`` blocks; ``up`` is bilinear (``align_corners=False``). H and W must be
    multiples of ``factor``. The result lies in [-2, 2] for an input in [-1, 1].
    """
    _check_image(image, "local_residual_structure_image")
    if int(factor) != factor or factor < 2:
        raise ValueError(f"local_residual_structure_image: factor must be an integer ≥ 2, got {factor!r}")
    h, w = image.shape[-2:]
    if h % factor or w % factor:
        raise ValueError(
            f"local_residual_structure_image: image {h}×{w} is not divisible by factor {factor}; crop it first"
        )
    low = F.avg_pool2d(image, int(factor))
    return image - F.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)


STRUCTURE_OPERATORS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "global": global_structure_image,
    "local": local_residual_structure_image,
}


def structure_image(image: torch.Tensor, kind: StructureKind) -> torch.Tensor:
    """Dispatch by Table VII's column name: ``global`` or ``local``."""
    if kind not in STRUCTURE_OPERATORS:
        raise ValueError(f"structure image kind must be one of {sorted(STRUCTURE_OPERATORS)}, got {kind!r}")
    return STRUCTURE_OPERATORS[kind](image)
