"""A content-addressed cache of the ground-truth Inception features used by FID.

The evaluation set is fixed (same images and masks for every model of a study), so the Inception features of the
*targets* are the same in every trial: only the composites change. :class:`FeatureCache` stores the features of
each batch of uint8 target images under ``<root>/<key>.pt``, where ``key`` is a SHA-256 of the FID backend's name,
the batch shape and its uint8 pixels. A hit returns exactly the float32 tensor a miss computed, so FID with the
cache is bit-identical to FID without it. Files are written to a temporary name and renamed (atomic on POSIX), so
parallel sweep workers sharing one folder never read half a file; a file that fails to load is recomputed.

Default folder (:func:`default_fid_cache_dir`): ``$INPAINT_CACHE_DIR/fid`` when set, else
``$XDG_CACHE_HOME/inpaint/fid`` (``~/.cache/inpaint/fid``) — one place for all runs and all trials of every study
on the machine; the content hash makes sharing safe.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import torch
from torch import nn

CACHE_ENV = "INPAINT_CACHE_DIR"


def default_fid_cache_dir() -> Path:
    """``$INPAINT_CACHE_DIR/fid``, else ``$XDG_CACHE_HOME/inpaint/fid`` (``~/.cache/inpaint/fid``)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]) / "fid"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "inpaint" / "fid"


def batch_key(images: torch.Tensor, backend_name: str) -> str:
    """SHA-256 of (backend name, shape, uint8 pixels) of a B×3×H×W uint8 batch."""
    if images.dtype != torch.uint8:
        raise ValueError(f"feature cache keys are taken on uint8 images, got {images.dtype}")
    digest = hashlib.sha256()
    digest.update(backend_name.encode())
    digest.update(str(tuple(images.shape)).encode())
    digest.update(images.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


class FeatureCache:
    """Inception features of uint8 image batches, stored once per (backend, batch content) in ``root``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.hits = 0
        self.misses = 0

    def path(self, key: str) -> Path:
        return self.root / f"{key}.pt"

    def _load(self, path: Path, batch: int) -> torch.Tensor | None:
        try:
            features = torch.load(path, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            return None
        except Exception:  # truncated or foreign file: recompute and overwrite
            return None
        if not isinstance(features, torch.Tensor) or features.ndim != 2 or features.shape[0] != batch:
            return None
        return features

    def _store(self, path: Path, features: torch.Tensor) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem[:16]}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                torch.save(features.detach().cpu().contiguous(), stream)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise

    def features(self, images: torch.Tensor, backend_name: str, extractor: nn.Module) -> torch.Tensor:
        """``extractor(images).float()``, read from the cache when this exact batch was seen with this backend."""
        key = batch_key(images, backend_name)
        path = self.path(key)
        cached = self._load(path, images.shape[0])
        if cached is not None:
            self.hits += 1
            return cached.to(images.device)
        self.misses += 1
        with torch.no_grad():
            features = extractor(images).float()
        self._store(path, features)
        return features

    def __repr__(self) -> str:
        return f"FeatureCache({str(self.root)!r}, hits={self.hits}, misses={self.misses})"


__all__ = ["CACHE_ENV", "FeatureCache", "batch_key", "default_fid_cache_dir"]
