"""Classical inpainting as a generator: OpenCV's Telea (fast marching) and Navier–Stokes methods.

These are the reference rows a trained model has to beat. They need no training: the module has no parameters,
so the suite scores it with ``inpaint test`` (no checkpoint) and a sweep trial's "fit+test" runs its test stage
only (docs/evaluation.md, "Classical reference rows").

What ``forward`` does, per image of the batch:

1. the [-1, 1] image → uint8 once, by the suite's metric rule (:func:`inpaint.conventions.to_uint8`), hole pixels
   set to one constant first so that nothing of the hole can reach the result;
2. ``cv2.inpaint`` at the input's own size (no resampling) with the hole as OpenCV's mask (known 0, hole 255);
3. back to [-1, 1] (:func:`inpaint.conventions.from_uint8`), and the known pixels are put back from the float
   input (:func:`inpaint.conventions.composite`), so the raw output equals the input bit for bit outside the hole
   and only hole pixels change. The composite that metrics use is therefore the raw output itself.

The algorithms are not differentiable: the output is detached from any graph (it never requires grad) and
``InpaintingGAN`` refuses to fit a model with nothing to train (:class:`inpaint.errors.NothingToTrainError`).
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
import torch

from inpaint.conventions import composite, from_uint8, is_known, to_uint8
from inpaint.models.generators.host_interface import check_host_inputs
from inpaint.models.interface import GeneratorOutput, InpaintGenerator

Method = Literal["telea", "ns"]
#: method name → OpenCV flag
CV2_FLAGS: dict[str, int] = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}
#: the name a report shows for each method
MODEL_NAMES: dict[str, str] = {"telea": "Telea", "ns": "NS"}
#: the suite's width profiles; accepted so the size overlays (experiments/model/small.yaml) compose, and ignored
SIZES: tuple[str, ...] = ("paper", "small")


def opencv_hole_mask(known: torch.Tensor) -> np.ndarray:
    """OpenCV's inpainting mask (H×W uint8, 255 = fill this pixel, 0 = keep) of one 1×H×W known-mask (1 = known)."""
    return np.where(is_known(known[0]).cpu().numpy(), 0, 255).astype(np.uint8)


class ClassicalInpainter(InpaintGenerator):
    """OpenCV inpainting (``method="telea"`` or ``"ns"``) behind the generator contract; see the module doc.

    Args:
        method: ``"telea"`` (Telea 2004, fast marching) or ``"ns"`` (Bertalmío et al. 2001, Navier–Stokes).
        radius: OpenCV's ``inpaintRadius``: the neighbourhood (pixels) each filled pixel draws from (OpenCV's
            documentation suggests 3).
        size: ``"paper"`` or ``"small"``; accepted so the suite's width overlays compose, without any effect (the
            method has no widths). Recorded as ``self.size``.
    """

    size_multiple = 1
    priors: tuple[str, ...] = ()

    def __init__(self, method: Method = "telea", radius: int = 3, size: Literal["paper", "small"] = "paper") -> None:
        super().__init__()
        if method not in CV2_FLAGS:
            raise ValueError(f"ClassicalInpainter: method must be one of {tuple(CV2_FLAGS)}, got {method!r}")
        if isinstance(radius, bool) or not isinstance(radius, int) or radius < 1:
            raise ValueError(f"ClassicalInpainter: radius must be a positive integer (pixels), got {radius!r}")
        if size not in SIZES:
            raise ValueError(f"ClassicalInpainter: size must be one of {SIZES}, got {size!r}")
        self.method, self.radius, self.size = method, radius, size

    @property
    def model_name(self) -> str:
        return MODEL_NAMES[self.method]

    def extra_repr(self) -> str:
        return f"method={self.method!r}, radius={self.radius}"

    def fill(self, pixels: np.ndarray, hole: np.ndarray) -> np.ndarray:
        """``cv2.inpaint`` of one H×W×3 uint8 image with OpenCV's H×W uint8 mask (255 = hole)."""
        return cv2.inpaint(pixels, hole, float(self.radius), CV2_FLAGS[self.method])

    @torch.no_grad()
    def forward(
        self,
        image: torch.Tensor,
        mask: torch.Tensor,
        edge: torch.Tensor | None = None,
        gray: torch.Tensor | None = None,
        smooth: torch.Tensor | None = None,
    ) -> GeneratorOutput:
        check_host_inputs(image, mask, self.size_multiple, "ClassicalInpainter")
        image = image.detach()
        known = is_known(mask)
        pixels = to_uint8(torch.where(known, image, torch.zeros_like(image)))  # B×3×H×W uint8, holes black
        filled = torch.empty_like(pixels)
        for i in range(image.shape[0]):
            hole = opencv_hole_mask(mask[i])
            source = np.ascontiguousarray(pixels[i].permute(1, 2, 0).cpu().numpy())
            result = self.fill(source, hole) if hole.any() else source
            filled[i] = torch.from_numpy(result).permute(2, 0, 1).to(filled.device)
        output = from_uint8(filled).to(image.dtype)
        return GeneratorOutput(image=composite(image, output, mask))
