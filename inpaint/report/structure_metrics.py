"""Table VII's metrics: PSNR / SSIM / FID between the structure images of the output and of the ground truth.

Route (the simplest honest one): a trial's evaluation already saved every test image as PNG —
``composites/<id>.png`` (the output pasted into the known pixels) and ``targets/<id>.png`` (ground truth), see
:class:`inpaint.lit.evaluation.EvaluationWriter`. This module reads both folders of a run directory back, applies the
two operators of :mod:`inpaint.report.structure_images` to each, and scores the pairs with the suite's own metric
functions, so no retraining or re-inference is needed and the numbers match the saved images exactly.

Encoding before scoring (both metrics want uint8 with data range 255, FID wants three channels):

* global structure image: Canny edges {0, 1} → {0, 255}, replicated to 3 channels;
* local residual structure image ``r = x − up(down(x))`` ∈ [-2, 2] for x ∈ [-1, 1] → ``to_uint8(r / 2)``, i.e. the
  full residual range maps linearly onto 0…255 (0 residual = 127.5 → 128).

Rows by hole ratio: evaluation ids carry their bucket tag (``…__b10-20__…``); an image belongs to a range (e.g.
``10-30%``) when its bucket lies inside it. Images without a tag only count in ``all``. PSNR of an image whose two
structure images are identical is infinite; such images are left out of the PSNR mean and counted in ``identical``.

Inception features dominate the cost (seconds per image on a small CPU), so :func:`cached_structure_metrics` keeps
the result beside the images in ``<run_dir>/structure_metrics.json``, keyed by the image names, the ranges, the
FID backend and :data:`CACHE_VERSION`; a report rebuilt later reads it back.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from inpaint.conventions import from_uint8, to_uint8
from inpaint.metrics.fid import MIN_IMAGES, frechet_distance
from inpaint.metrics.image_quality import psnr_per_image, ssim_per_image
from inpaint.report.structure_images import structure_image

BUCKET_TAG = re.compile(r"__b(\d+(?:p\d+)?)-(\d+(?:p\d+)?)__")
KINDS: tuple[str, ...] = ("global", "local")
CACHE_FILE = "structure_metrics.json"
CACHE_VERSION = 1  # bump when an operator, the encoding or a metric changes


def bucket_of(name: str) -> tuple[float, float] | None:
    """Hole-ratio bucket (fractions) from an evaluation file name, e.g. ``x__b10-20__m0.png`` → (0.1, 0.2)."""
    match = BUCKET_TAG.search(name)
    if match is None:
        return None
    low, high = (float(part.replace("p", ".")) / 100.0 for part in match.groups())
    return low, high


def parse_range(label: str) -> tuple[float, float]:
    """``"10-30%"`` → (0.1, 0.3)."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)%", label)
    if match is None:
        raise ValueError(f"hole-ratio range must look like '10-30%', got {label!r}")
    return float(match.group(1)) / 100.0, float(match.group(2)) / 100.0


def encode(images: torch.Tensor, kind: str) -> torch.Tensor:
    """B×3×H×W [-1, 1] images → their ``kind`` structure image as uint8 B×3×H×W (see module docstring)."""
    structure = structure_image(images, kind)  # type: ignore[arg-type]
    if kind == "global":
        return (structure * 255).round().to(torch.uint8).expand(-1, 3, -1, -1).contiguous()
    return to_uint8(structure / 2)


@dataclass
class StructureScores:
    """Metrics of one structure kind over one group of images."""

    n: int
    psnr: float | None
    ssim: float | None
    fid: float | None
    identical: int = 0  # images with identical structure images (infinite PSNR, left out of the PSNR mean)
    notes: list[str] = field(default_factory=list)


def _load(folder: Path, names: Sequence[str]) -> torch.Tensor:
    from inpaint.metrics.folders import read_rgb

    arrays = np.stack([read_rgb(folder / name) for name in names])
    return from_uint8(torch.from_numpy(arrays).permute(0, 3, 1, 2).contiguous())


def paired_names(run_dir: str | Path) -> list[str]:
    """File names present in both ``composites/`` and ``targets/`` of a run dir (sorted)."""
    run_dir = Path(run_dir)
    comp, gt = run_dir / "composites", run_dir / "targets"
    if not comp.is_dir() or not gt.is_dir():
        raise FileNotFoundError(f"{run_dir}: no composites/ and targets/ folders (run the test stage with "
                                "run.evaluation.save_images: true)")
    names = sorted({p.relative_to(comp).as_posix() for p in comp.rglob("*.png")}
                   & {p.relative_to(gt).as_posix() for p in gt.rglob("*.png")})
    if not names:
        raise FileNotFoundError(f"{run_dir}: composites/ and targets/ share no PNG file names")
    return names


@dataclass
class EncodedSet:
    """One structure kind of every paired image, encoded once (and its Inception features, when available)."""

    output: torch.Tensor  # uint8 B×3×H×W
    target: torch.Tensor
    features_output: torch.Tensor | None = None
    features_target: torch.Tensor | None = None


def encode_set(output: torch.Tensor, target: torch.Tensor, kind: str, extractor: Any | None) -> EncodedSet:
    """Structure images of both batches, plus Inception features (one pass per image, shared by all groups)."""
    out8, gt8 = encode(output, kind), encode(target, kind)
    if extractor is None:
        return EncodedSet(out8, gt8)
    return EncodedSet(out8, gt8, extractor(out8).double(), extractor(gt8).double())


def score_group(encoded: EncodedSet, members: Sequence[int], fid_reason: str | None = None) -> StructureScores:
    """PSNR / SSIM (per image, then mean) and FID between the structure images of the ``members`` images."""
    idx = torch.as_tensor(list(members), dtype=torch.long)
    out8, gt8 = encoded.output[idx], encoded.target[idx]
    psnr = psnr_per_image(out8, gt8)
    finite = psnr[torch.isfinite(psnr)]
    ssim = ssim_per_image(out8, gt8)
    notes = []
    fid = None
    if encoded.features_output is None or encoded.features_target is None:
        notes.append(fid_reason or "FID n/a: no Inception extractor")
    elif len(idx) < MIN_IMAGES:
        notes.append(f"FID n/a: needs at least {MIN_IMAGES} images, the group has {len(idx)}")
    else:
        fid = frechet_distance(encoded.features_target[idx], encoded.features_output[idx])
    return StructureScores(
        n=int(len(idx)),
        psnr=float(finite.mean()) if finite.numel() else None,
        ssim=float(ssim.mean()),
        fid=fid if fid is None or math.isfinite(fid) else None,
        identical=int(psnr.numel() - finite.numel()),
        notes=notes,
    )


def run_dir_structure_metrics(run_dir: str | Path, ranges: Sequence[str], extractor: Any | None,
                              fid_reason: str | None = None) -> dict[str, dict[str, StructureScores]]:
    """``{range or "all": {kind: scores}}`` for one trial's saved test images; empty ranges are omitted."""
    names = paired_names(run_dir)
    output = _load(Path(run_dir) / "composites", names)
    target = _load(Path(run_dir) / "targets", names)
    groups: dict[str, list[int]] = {"all": list(range(len(names)))}
    for label in ranges:
        low, high = parse_range(label)
        members = [i for i, name in enumerate(names)
                   if (b := bucket_of(name)) is not None and low - 1e-9 <= b[0] and b[1] <= high + 1e-9]
        if members:
            groups[label] = members
    encoded = {kind: encode_set(output, target, kind, extractor) for kind in KINDS}
    return {label: {kind: score_group(encoded[kind], idx, fid_reason) for kind in KINDS}
            for label, idx in groups.items()}


def _cache_key(names: Sequence[str], ranges: Sequence[str], backend_name: str) -> str:
    text = json.dumps({"v": CACHE_VERSION, "names": list(names), "ranges": list(ranges), "fid": backend_name})
    return hashlib.sha256(text.encode()).hexdigest()


def cached_structure_metrics(run_dir: str | Path, ranges: Sequence[str], extractor: Any | None, backend_name: str,
                             fid_reason: str | None = None) -> dict[str, dict[str, StructureScores]]:
    """:func:`run_dir_structure_metrics`, read from / written to ``<run_dir>/structure_metrics.json``."""
    path = Path(run_dir) / CACHE_FILE
    key = _cache_key(paired_names(run_dir), ranges, backend_name)
    if path.is_file():
        try:
            data = json.loads(path.read_text())
            if data.get("key") == key:
                return {g: {k: StructureScores(**v) for k, v in kinds.items()} for g, kinds in data["scores"].items()}
        except (ValueError, TypeError, KeyError):
            pass  # unreadable or from another version: recompute and overwrite
    scores = run_dir_structure_metrics(run_dir, ranges, extractor, fid_reason)
    payload = {"key": key, "fid_backend": backend_name,
               "scores": {g: {k: asdict(v) for k, v in kinds.items()} for g, kinds in scores.items()}}
    try:
        path.write_text(json.dumps(payload, indent=1))
    except OSError:
        pass  # a read-only run dir only costs the recomputation next time
    return scores
