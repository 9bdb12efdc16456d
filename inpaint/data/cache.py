"""Precomputed smoothed images (the texture prior), keyed by file content, method, parameters and crop policy.

Layout on disk::

    <cache_dir>/<method>-<parameter hash>/<layout>-<H>x<W>/<sha256[:2]>/<sha256>.png
    <cache_dir>/<method>-<parameter hash>/meta.json          (the method and parameters, for humans)

The smoothed *canonical* image (see :mod:`inpaint.data.layouts`) is stored as a lossless 8-bit PNG; a renamed or
moved file keeps its entry (the key is its content), an edited file gets a new one. Every write goes to a temporary
file in the same folder and is renamed into place with ``os.replace`` (atomic on POSIX and Windows), so an
interrupted ``inpaint prepare`` leaves no half-written entry and a re-run skips what is done.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

CACHE_FOLDER_NAME = ".inpaint_cache"
CACHE_FORMAT_VERSION = 1


def default_cache_dir(data_root: str | Path) -> Path:
    return Path(data_root) / CACHE_FOLDER_NAME


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary sibling and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class SmoothingCache:
    """One (method, parameters, policy) slice of the cache."""

    def __init__(self, root: str | Path, method: str, parameters: dict[str, object], policy: str) -> None:
        self.root = Path(root)
        self.method = method
        self.parameters = dict(sorted(parameters.items()))
        payload = json.dumps({"v": CACHE_FORMAT_VERSION, "method": method, "params": self.parameters},
                             sort_keys=True)
        self.key = f"{method}-{hashlib.sha256(payload.encode()).hexdigest()[:10]}"
        self.folder = self.root / self.key / policy

    def path_for(self, content_hash: str) -> Path:
        return self.folder / content_hash[:2] / f"{content_hash}.png"

    def exists(self) -> bool:
        return self.folder.is_dir()

    def get(self, content_hash: str) -> np.ndarray | None:
        """The cached H×W×3 uint8 RGB smoothed image, or ``None`` when absent (or unreadable: recomputed then)."""
        path = self.path_for(content_hash)
        if not path.is_file():
            return None
        pixels = cv2.imread(str(path), cv2.IMREAD_COLOR)
        return None if pixels is None else cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)

    def put(self, content_hash: str, smooth01: np.ndarray) -> Path:
        """Store a smoothed H×W×3 float image in [0, 1] atomically; returns its path."""
        rgb = np.clip(np.round(np.asarray(smooth01) * 255.0), 0, 255).astype(np.uint8)
        ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        if not ok:
            raise RuntimeError(f"could not encode the smoothed image for {content_hash}")
        path = self.path_for(content_hash)
        atomic_write_bytes(path, encoded.tobytes())
        meta = self.root / self.key / "meta.json"
        if not meta.exists():
            info = {"format": CACHE_FORMAT_VERSION, "method": self.method, "parameters": self.parameters}
            atomic_write_bytes(meta, json.dumps(info, indent=2).encode())
        return path
