"""Image-level inference on arbitrary H×W: the generator fills the hole, every known pixel stays bit-identical.

Strategies (as the IOPaint family of tools names them):

* ``resize`` — images whose longer side exceeds the model's resolution are scaled down to it (area filter), the
  model fills the hole there, the filled pixels are scaled back up (bicubic) and pasted into the **hole only**;
  smaller images run as they are;
* ``crop`` — each connected hole region is cut out with a margin around it and filled at (or scaled down to) the
  model's resolution; only that region's hole pixels are pasted back;
* ``original`` — the whole image at its own size.

Whatever runs through the model is padded (symmetric reflection, padding counted as known) to the generator's
``size_multiple``. When the image is scaled down, a low-resolution pixel is a hole as soon as any original hole
pixel falls into it, so no hole content leaks into the model's known area.

Mask arrays here are the suite's known-masks (float {0,1}, 1 = known), see :mod:`inpaint.conventions`.

**Bounded work.** :meth:`Predictor.check_fits` estimates the memory an image needs before anything is decoded or run
(:meth:`Predictor.estimate_memory`): the model's own share is measured once by a forward pass at a small probe size
(the bytes of every leaf module's output per pixel, doubled for what hooks cannot see), plus fixed per-pixel costs of
the priors at the model's input size (:data:`PRIOR_BYTES_PER_PIXEL`, measured) and of the full-resolution arrays
(:data:`FULL_RES_BYTES_PER_PIXEL`). When the estimate exceeds the available memory (``MemAvailable``; psutil when
installed) it raises :class:`PredictionTooLargeError` with the numbers and a hint, in well under a second. The
estimate is linear in the pixel count: generators with all-to-all attention grow faster.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import cv2
import numpy as np
import torch
from scipy import ndimage
from torch import nn

from inpaint.conventions import from_uint8, to_uint8
from inpaint.errors import UserInputError

Strategy = Literal["resize", "crop", "original"]
STRATEGIES: tuple[str, ...] = ("resize", "crop", "original")

#: Peak bytes per pixel of the model's input for computing priors (measured on CPU at 1024² and 2048²: L0 ≈ 250–335,
#: gray + Canny ≈ 3–13; RTV is a rough upper guess: its sparse LU grows with the fill-in).
PRIOR_BYTES_PER_PIXEL: dict[str, int] = {"structure": 40, "l0": 340, "rtv": 1000, "none": 0}
#: Bytes per pixel of the full-size image held at once: decoded input, known mask, hole map, upscaled fill, output
#: and its PNG encoding (uint8 RGB ×3, float32 masks ×2, a few bool / uint8 planes).
FULL_RES_BYTES_PER_PIXEL = 48
#: Hooks see module outputs only (not temporaries inside a module's forward): the measured share is doubled.
MODEL_SAFETY_FACTOR = 2.0
#: Only this share of the available memory is planned for.
USABLE_MEMORY_SHARE = 0.8


class PredictionTooLargeError(UserInputError):
    """An image whose estimated memory need exceeds what the machine has available."""


def available_memory_bytes() -> int | None:
    """Memory the process can still use: psutil's ``available`` when installed, else ``MemAvailable`` of
    /proc/meminfo; None when neither is known (no check is made then)."""
    try:
        import psutil  # type: ignore[import-untyped]

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _gib(value: float) -> str:
    return f"{value / 2**30:.1f} GiB"


def check_image_and_mask(
    image: np.ndarray, known: np.ndarray, image_name: str = "image", mask_name: str = "mask"
) -> None:
    """Refuse anything but an H×W×3 uint8 image with an H×W mask of the same size."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"{image_name} must be H×W×3 uint8 RGB, got {image.dtype} {image.shape}")
    if known.ndim != 2:
        raise ValueError(f"{mask_name} must be a single-channel H×W mask, got shape {known.shape}")
    if known.shape != image.shape[:2]:
        raise ValueError(
            f"{mask_name} is {known.shape[1]}×{known.shape[0]} (W×H) but {image_name} is "
            f"{image.shape[1]}×{image.shape[0]}: a mask must have exactly the image's size (no silent resizing)"
        )


def pad_to_multiple(array: np.ndarray, multiple: int, mode: str = "symmetric") -> tuple[np.ndarray, tuple[int, int]]:
    """Pad bottom/right so H and W become multiples of ``multiple``; returns the array and the original (H, W)."""
    h, w = array.shape[:2]
    pad_h, pad_w = (-h) % multiple, (-w) % multiple
    widths = [(0, pad_h), (0, pad_w)] + [(0, 0)] * (array.ndim - 2)
    return np.pad(array, widths, mode=mode), (h, w)


def _hole_at_scale(known: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Known-mask resized to (H, W) where a pixel stays known only if all original pixels under it were known."""
    hole = 1.0 - known.astype(np.float32)
    small = cv2.resize(hole, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    return (small <= 1e-6).astype(np.float32)


class Predictor:
    """Fill holes of uint8 images with a generator that follows :mod:`inpaint.models.interface`.

    Args:
        generator: the inpainting network (eval mode is set here).
        resolution: the model's working resolution (its training size); None → images run at their own size.
        strategy: ``"resize"`` (default), ``"crop"`` or ``"original"``.
        size_multiple: padding multiple; default the generator's ``size_multiple`` (32 when it has none).
        crop_margin: pixels of context kept around each hole region by the ``crop`` strategy.
        smoothing: texture-prior smoother for generators that read ``smooth`` (``"l0"``, ``"rtv"``, ``"none"``).
        device: where the generator runs.
    """

    def __init__(
        self,
        generator: nn.Module,
        resolution: int | None = None,
        strategy: Strategy = "resize",
        size_multiple: int | None = None,
        crop_margin: int = 64,
        smoothing: str = "l0",
        device: str | torch.device = "cpu",
        legacy_edge_wrap: bool = False,
    ) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
        if resolution is not None and resolution < 8:
            raise ValueError(f"resolution must be at least 8 pixels, got {resolution}")
        self.generator = generator.to(device).eval()
        self.resolution = resolution
        self.strategy = strategy
        self.size_multiple = int(size_multiple or getattr(generator, "size_multiple", 32) or 1)
        self.crop_margin = int(crop_margin)
        self.smoothing = smoothing
        self.device = torch.device(device)
        self.priors: tuple[str, ...] = tuple(getattr(generator, "priors", ("edge", "gray", "smooth")))
        self.legacy_edge_wrap = legacy_edge_wrap
        #: a generator that runs at one size only (the exact official preset): every input is resized to it
        self.fixed_size: tuple[int, int] | None = getattr(generator, "fixed_input_size", None)
        self._model_bytes_per_pixel: float | None = None
        self._parameter_bytes = 0

    # --- planning --------------------------------------------------------------------------------------------

    def model_input_size(self, height: int, width: int) -> tuple[int, int]:
        """The largest (H, W) the generator runs at for an image of ``height``×``width`` (padding included); for
        ``crop`` the worst case, one hole region spanning the image."""
        h, w = height, width
        if self.fixed_size is not None:
            return self.fixed_size
        if self.strategy != "original" and self.resolution is not None and max(h, w) > self.resolution:
            scale = self.resolution / max(h, w)
            h, w = max(1, round(h * scale)), max(1, round(w * scale))
        m = self.size_multiple
        return math.ceil(h / m) * m, math.ceil(w / m) * m

    def model_bytes_per_pixel(self) -> float:
        """Bytes per input pixel of one forward pass, measured once at a small probe size (module docstring)."""
        if self._model_bytes_per_pixel is None:
            side = self.size_multiple * max(1, math.ceil(64 / self.size_multiple))
            if self.fixed_size is not None:  # a one-size model is probed at its size
                side = self.fixed_size[0]
            total = 0

            def count(_module: nn.Module, _inputs: Any, output: Any) -> None:
                nonlocal total
                tensors = output if isinstance(output, list | tuple) else [output]
                total += sum(t.numel() * t.element_size() for t in tensors if isinstance(t, torch.Tensor))

            leaves = [m for m in self.generator.modules() if not any(True for _ in m.children())]
            handles = [m.register_forward_hook(count) for m in leaves]
            try:
                probe = np.full((side, side, 3), 128, np.uint8)
                known = np.ones((side, side), np.float32)
                known[side // 4 : side // 2, side // 4 : side // 2] = 0.0
                self._run(probe, known)
            finally:
                for handle in handles:
                    handle.remove()
            params = sum(p.numel() * p.element_size() for p in self.generator.parameters())
            self._model_bytes_per_pixel = MODEL_SAFETY_FACTOR * total / (side * side)
            self._parameter_bytes = params
        return self._model_bytes_per_pixel

    def estimate_memory(self, height: int, width: int) -> dict[str, Any]:
        """Estimated peak bytes for one ``height``×``width`` image: ``total`` and its parts, and ``model_size``."""
        mh, mw = self.model_input_size(height, width)
        model_pixels = mh * mw
        wanted = set(self.priors)
        priors = PRIOR_BYTES_PER_PIXEL["structure"] if wanted & {"edge", "gray", "structure"} else 0
        if "smooth" in wanted:
            priors += PRIOR_BYTES_PER_PIXEL.get(self.smoothing, PRIOR_BYTES_PER_PIXEL["rtv"])
        parts = {
            "model": (self.model_bytes_per_pixel() * model_pixels + self._parameter_bytes
                      if self.device.type == "cpu" else 0.0),  # accelerator memory is not estimated
            "priors": float(priors * model_pixels),
            "full_size": float(FULL_RES_BYTES_PER_PIXEL * height * width),
        }
        return {"total": sum(parts.values()), "model_size": (mh, mw), **parts}

    def check_fits(self, height: int, width: int, name: str = "image", available: int | None = None) -> dict[str, Any]:
        """Refuse (:class:`PredictionTooLargeError`) an image whose estimate exceeds the usable memory; returns the
        estimate. ``available`` defaults to :func:`available_memory_bytes` (no check when unknown)."""
        estimate = self.estimate_memory(height, width)
        free = available if available is not None else available_memory_bytes()
        if free is not None and estimate["total"] > USABLE_MEMORY_SHARE * free:
            mh, mw = estimate["model_size"]
            hint = ("use --strategy resize or crop with --resolution N (the model's training size)"
                    if self.strategy == "original" or self.resolution is None
                    else "use a smaller --resolution, or a machine with more memory")  # fmt: skip
            raise PredictionTooLargeError(
                f"{name} ({width}×{height}) would need about {_gib(estimate['total'])} with the {self.strategy} "
                f"strategy (model at {mw}×{mh}: {_gib(estimate['model'])} network, {_gib(estimate['priors'])} "
                f"priors; {_gib(estimate['full_size'])} full-size arrays) but only {_gib(free)} is available; {hint}"
            )
        return estimate

    # --- public ----------------------------------------------------------------------------------------------

    def __call__(self, image: np.ndarray, known: np.ndarray) -> np.ndarray:
        """Inpaint ``image`` (H×W×3 uint8) where ``known`` (H×W, 1 = known) is 0; known pixels are returned as is."""
        check_image_and_mask(image, known)
        known = (known > 0.5).astype(np.float32)
        if known.all():
            return image.copy()
        if self.strategy == "crop":
            filled = self._crop_strategy(image, known)
        elif self.strategy == "resize":
            filled = self._resize_strategy(image, known)
        else:
            filled = self._run(image, known)
        keep = known[..., None] > 0.5
        return np.where(keep, image, filled)

    # --- strategies ------------------------------------------------------------------------------------------

    def _resize_strategy(self, image: np.ndarray, known: np.ndarray) -> np.ndarray:
        h, w = known.shape
        if self.fixed_size is not None:
            size = self.fixed_size
            if (h, w) == size:
                return self._run(image, known)
        elif self.resolution is None or max(h, w) <= self.resolution:
            return self._run(image, known)
        else:
            scale = self.resolution / max(h, w)
            size = (max(1, round(h * scale)), max(1, round(w * scale)))
        small_image = cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_AREA)
        small_known = _hole_at_scale(known, size)
        small_filled = self._run(small_image, small_known)
        return cv2.resize(small_filled, (w, h), interpolation=cv2.INTER_CUBIC)  # uint8 in, uint8 (saturated) out

    def _crop_strategy(self, image: np.ndarray, known: np.ndarray) -> np.ndarray:
        result = image.copy()
        labels, count = ndimage.label(known < 0.5, structure=np.ones((3, 3)))
        h, w = known.shape
        for index, box in enumerate(ndimage.find_objects(labels), start=1):
            if box is None:
                continue
            top, bottom = max(0, box[0].start - self.crop_margin), min(h, box[0].stop + self.crop_margin)
            left, right = max(0, box[1].start - self.crop_margin), min(w, box[1].stop + self.crop_margin)
            window = (slice(top, bottom), slice(left, right))
            crop_image, crop_known = np.ascontiguousarray(result[window]), np.ascontiguousarray(known[window])
            filled = self._resize_strategy(crop_image, crop_known)
            region = labels[window] == index
            result[window][region] = filled[region]
        return result

    # --- one forward pass --------------------------------------------------------------------------------------

    def _prior_tensors(self, image: np.ndarray) -> dict[str, torch.Tensor]:
        """Structure / texture priors of the (padded) model input, computed as the data module does."""
        wanted = set(self.priors)
        if not wanted & {"edge", "gray", "smooth", "structure"}:
            return {}
        image01 = image.astype(np.float32) / 255.0
        priors: dict[str, torch.Tensor] = {}
        if "structure" in wanted:  # a Table VIII prior (segmentation maps cannot be computed from the image: refused)
            from inpaint.data.structure import structure_maps

            prior = str(getattr(self.generator, "structure_prior", "canny_gray"))
            priors["structure"] = torch.from_numpy(structure_maps(image01, prior))[None]
        if wanted & {"edge", "gray"}:
            from inpaint.data.preprocess import structure_priors

            gray, edge = structure_priors(image01, legacy_edge_wrap=self.legacy_edge_wrap)
            priors["gray"] = torch.from_numpy(np.ascontiguousarray(gray, dtype=np.float32))[None, None]
            if edge is not None:
                priors["edge"] = torch.from_numpy(np.ascontiguousarray(edge, dtype=np.float32))[None, None]
        if "smooth" in wanted:
            from inpaint.data.smoothing import smooth_image

            smooth01 = smooth_image(image01, self.smoothing)
            priors["smooth"] = torch.from_numpy(smooth01).permute(2, 0, 1)[None] * 2.0 - 1.0
        return {k: v.to(self.device) for k, v in priors.items() if k in wanted}

    @torch.no_grad()
    def _run(self, image: np.ndarray, known: np.ndarray) -> np.ndarray:
        """Generator output (uint8, image's size) for one image; the caller keeps only hole pixels."""
        padded_image, (h, w) = pad_to_multiple(image, self.size_multiple)
        padded_known, _ = pad_to_multiple(known, self.size_multiple)
        image_t = from_uint8(torch.from_numpy(np.ascontiguousarray(padded_image)).permute(2, 0, 1)[None])
        mask_t = torch.from_numpy(np.ascontiguousarray(padded_known, dtype=np.float32))[None, None]
        out = self.generator(
            image=image_t.to(self.device), mask=mask_t.to(self.device), **self._prior_tensors(padded_image)
        )
        raw = out.image if hasattr(out, "image") else out
        if raw.shape[-2:] != image_t.shape[-2:]:
            raise RuntimeError(f"generator returned {tuple(raw.shape)} for an input of {tuple(image_t.shape)}")
        return to_uint8(raw.float().clamp(-1, 1))[0].permute(1, 2, 0).cpu().numpy()[:h, :w]
