"""The fixed test set as files, so that a system outside the suite can be scored on exactly the suite's test set.

``export_test_set(module, folder)`` writes the main test set of an :class:`~inpaint.data.datamodule.InpaintDataModule`
(the crops and masks its test loader yields, sample for sample):

* ``images/<name>.png`` — the ground-truth crop, RGB, lossless;
* ``masks/<name>.png`` — the mask in the suite's file convention: **white (255) = hole**, black (0) = known;
* ``manifest.json`` — what the set is (:func:`~inpaint.data.datamodule.describe_eval_set`), one entry per sample
  (name, hole ratio, mask kind) and the set's ``fingerprint``: a SHA-256 over every name, ground-truth pixel and
  mask pixel. Two sets with the same fingerprint are the same test set; any other seed, resolution, bucket list,
  per-bucket count or data source changes it.

``<name>`` is the sample id of the loaders (``<crop>__b10-20__m000``). Results made for the set carry the same names
(any image extension; PNG keeps the metrics exact) plus a copy of ``manifest.json``, which ties them to this set.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from inpaint.errors import UserInputError

if TYPE_CHECKING:
    from inpaint.data.datamodule import FixedSample, InpaintDataModule

MANIFEST = "manifest.json"
FORMAT = "inpaint-test-set/1"
MASK_FILES = "white (255) = hole, black (0) = known; binarised at 127"
_UNSAFE = re.compile(r"[^A-Za-z0-9._/-]+")


def sample_file_stem(sample_id: str) -> str:
    """The file stem of a sample id (relative, ``/`` kept as sub-folders, other unsafe characters → ``_``)."""
    parts = [p for p in _UNSAFE.sub("_", str(sample_id)).split("/") if p not in ("", ".", "..")]
    if not parts:
        raise UserInputError(f"sample id {sample_id!r} gives no file name")
    return "/".join(parts)


def sample_names(samples: Sequence[FixedSample]) -> list[str]:
    """One distinct file stem per sample, in order (an error if two ids give the same stem)."""
    names = [sample_file_stem(s.id) for s in samples]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise UserInputError(f"the test set names two samples alike: {', '.join(twice[:5])}")
    return names


def fingerprint(samples: Sequence[FixedSample]) -> str:
    """SHA-256 over names, sizes, ground-truth pixels and hole pixels of the set, in order."""
    digest = hashlib.sha256(FORMAT.encode())
    for name, sample in zip(sample_names(samples), samples):
        digest.update(name.encode() + b"\0" + np.asarray(sample.rgb.shape, np.int64).tobytes())
        digest.update(np.ascontiguousarray(sample.rgb, np.uint8).tobytes())
        digest.update(np.packbits(np.asarray(sample.known) < 0.5).tobytes())
    return digest.hexdigest()


def manifest(samples: Sequence[FixedSample], protocol: dict[str, Any]) -> dict[str, Any]:
    """The manifest of a set (what :func:`export_test_set` writes as ``manifest.json``)."""
    return {
        "format": FORMAT, "fingerprint": fingerprint(samples), "n": len(samples), "mask_files": MASK_FILES,
        "protocol": protocol,
        "samples": [{"name": name, "height": int(s.rgb.shape[0]), "width": int(s.rgb.shape[1]),
                     "hole_ratio": float(np.count_nonzero(s.known < 0.5)) / s.known.size, "mask_kind": s.mask_kind}
                    for name, s in zip(sample_names(samples), samples)],
    }  # fmt: skip


def export_test_set(module: InpaintDataModule, folder: str | Path) -> Path:
    """Write the module's fixed test set into ``folder`` (``images/``, ``masks/``, ``manifest.json``); returns the
    manifest's path. Refuses a folder that already holds a different test set (never mixes two)."""
    from inpaint.data.datamodule import describe_eval_set

    root = Path(folder)
    samples = module.fixed_test_samples()
    content = manifest(samples, describe_eval_set(module))
    existing = root / MANIFEST
    if existing.is_file():
        old = read_manifest(existing)
        if old.get("fingerprint") != content["fingerprint"]:
            raise UserInputError(f"{existing} is the manifest of another test set (fingerprint "
                                 f"{str(old.get('fingerprint'))[:12]}…, this one {content['fingerprint'][:12]}…); "
                                 "export into an empty folder")  # fmt: skip
    for name, sample in zip(sample_names(samples), samples):
        for sub, pixels in (("images", sample.rgb), ("masks", np.where(sample.known < 0.5, 255, 0).astype(np.uint8))):
            path = root / sub / f"{name}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.ascontiguousarray(pixels, np.uint8)).save(path, format="PNG")
    existing.write_text(json.dumps(content, indent=1) + "\n")
    return existing


def read_manifest(path: str | Path) -> dict[str, Any]:
    """A test-set manifest; an unreadable or foreign file is a :class:`UserInputError` naming it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise UserInputError(f"{path}: not a readable test-set manifest ({err})") from err
    if not isinstance(data, dict) or data.get("format") != FORMAT or "fingerprint" not in data:
        raise UserInputError(f"{path}: not a test-set manifest of the suite (format {FORMAT} expected); "
                             "copy the manifest.json written by --export-test-set")  # fmt: skip
    return data


__all__ = ["FORMAT", "MANIFEST", "export_test_set", "fingerprint", "manifest", "read_manifest", "sample_file_stem",
           "sample_names"]
