"""Generator-only weights for inference, and one loader for them and for full Lightning checkpoints.

An exported file is a plain ``torch.save`` dict that loads with ``torch.load(weights_only=True)`` (no pickled
code)::

    {"format": "inpaint.generator/1",
     "generator": {"class_path": "inpaint.models.generators.tsgl.TSGLGenerator", "init_args": {...}},
     "state_dict": {...generator tensors...},
     "meta": {"source": "last.ckpt", "global_step": 1234, "epoch": 3, "ema": true,
              "resolution": [256, 256], "size_multiple": 32}}

``resolution`` is the training crop (H, W) read from the checkpoint's data module, ``size_multiple`` the generator's
padding multiple; ``inpaint predict`` works at that resolution by default. Files exported before they were recorded
lack both keys and still load (predict then says so and runs at the image's own size).

A YAML file with the same ``generator`` config and ``meta`` is written beside it for people to read, and a SHA-256
beside the weights (``model.pt.sha256``, :mod:`inpaint.lit.integrity`) that every load verifies.
"""

from __future__ import annotations

import os
from typing import Any

import torch
import yaml
from torch import nn

from inpaint.classpath import ClassPathError, instantiate
from inpaint.lit.integrity import file_sha256, verify_checksum, write_checksum

EXPORT_FORMAT = "inpaint.generator/1"


class ExportError(ValueError):
    """A file that cannot be exported or loaded as a generator (message names the file and the fix)."""


def _load(path: str, map_location: Any) -> dict[str, Any]:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such checkpoint or weights file: {path}")
    verify_checksum(path, "checkpoint" if path.endswith(".ckpt") else "weights file")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises several types for truncated / foreign files
        raise ExportError(f"{path} cannot be read as a torch file with weights_only=True: {err}") from err
    if not isinstance(obj, dict):
        raise ExportError(f"{path} holds a {type(obj).__name__}, not an inpaint checkpoint or exported generator")
    return obj


def _from_lightning_checkpoint(ckpt: dict[str, Any], path: str, use_ema: bool) -> tuple[dict, dict, dict]:
    """(generator config, generator state dict, meta) from an ``InpaintingGAN`` checkpoint."""
    hparams = ckpt.get("hyper_parameters") or {}
    spec = hparams.get("generator")
    if not isinstance(spec, dict) or "class_path" not in spec:
        raise ExportError(f"{path} has no generator config in its hyper-parameters; was it written by InpaintingGAN?")
    state = ckpt["state_dict"]
    ema_prefix, plain_prefix = "generator_ema.module.", "generator."
    has_ema = any(k.startswith(ema_prefix) for k in state)
    prefix = ema_prefix if (use_ema and has_ema) else plain_prefix
    weights = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if not weights:
        raise ExportError(f"{path} holds no '{plain_prefix}*' weights")
    meta = {"source": os.path.basename(path), "global_step": ckpt.get("global_step"), "epoch": ckpt.get("epoch"),
            "ema": prefix == ema_prefix}
    resolution = training_resolution(ckpt)
    if resolution is not None:
        meta["resolution"] = list(resolution)
    return {"class_path": spec["class_path"], "init_args": dict(spec.get("init_args") or {})}, weights, meta


def training_resolution(ckpt: dict[str, Any]) -> tuple[int, int] | None:
    """The training crop (H, W) recorded by the checkpoint's data module (``resolution``: a side or [H, W])."""
    hparams = ckpt.get("datamodule_hyper_parameters") or {}
    if isinstance(hparams.get("init_args"), dict):  # a class_path form
        hparams = hparams["init_args"]
    value = hparams.get("resolution") if isinstance(hparams, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value, value
    if isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(v, int) and v > 0 for v in value):
        return int(value[0]), int(value[1])
    return None


def save_generator(out_path: str, spec: dict[str, Any], state_dict: dict[str, Any], meta: dict[str, Any]) -> str:
    """Write an exported generator file (the format of the module docstring) and its checksum; returns ``out_path``.

    ``spec`` is ``{"class_path", "init_args"}``, ``state_dict`` the generator's tensors, ``meta`` free-form plain
    data (``resolution`` and ``size_multiple`` are what ``inpaint predict`` reads). The weights are written to a
    temporary file and renamed into place; ``<out>.sha256`` and ``<out stem>.yaml`` follow.
    """
    payload = {"format": EXPORT_FORMAT, "generator": spec, "state_dict": state_dict, "meta": meta}
    folder = os.path.dirname(os.path.abspath(out_path))
    os.makedirs(folder, exist_ok=True)
    partial = os.path.join(folder, f".{os.path.basename(out_path)}.partial-{os.getpid()}")
    try:
        torch.save(payload, partial)
        digest = file_sha256(partial)
        os.replace(partial, out_path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    write_checksum(out_path, digest)
    sidecar = os.path.splitext(out_path)[0] + ".yaml"
    with open(sidecar, "w") as handle:
        yaml.safe_dump({"format": EXPORT_FORMAT, "generator": spec, "meta": meta, "sha256": digest}, handle,
                       sort_keys=False)  # fmt: skip
    return out_path


def export_generator(ckpt_path: str, out_path: str, use_ema: bool = True) -> dict[str, Any]:
    """Write the generator of a Lightning checkpoint (its EMA copy when present and ``use_ema``) to ``out_path``.

    Returns the ``meta`` dict. The checkpoint's checksum is verified first; the write is atomic and adds a checksum
    (:func:`save_generator`).
    """
    ckpt = _load(ckpt_path, "cpu")
    if "state_dict" not in ckpt:
        raise ExportError(f"{ckpt_path} is not a Lightning checkpoint (no 'state_dict'); export takes a .ckpt file")
    spec, weights, meta = _from_lightning_checkpoint(ckpt, ckpt_path, use_ema)
    try:  # the padding multiple can depend on init_args (LaMa): ask an instance
        multiple = getattr(build_module(spec), "size_multiple", None)
    except ExportError:  # a class outside inpaint.*: loading it needs allow_any_class, so does reading this
        multiple = None
    if isinstance(multiple, int) and multiple > 0:
        meta["size_multiple"] = multiple
    save_generator(out_path, spec, weights, meta)
    return meta


def export_untrained(spec: dict[str, Any], out_path: str) -> dict[str, Any]:
    """Write a generator that needs no training (no parameters, no buffers: the classical OpenCV inpainters) from its
    ``{"class_path", "init_args"}`` alone, so ``inpaint predict`` loads it like a trained export. Returns ``meta``
    (``untrained: true``; no training resolution: it runs at each image's own size unless ``--resolution``)."""
    try:
        generator = build_module(spec)
    except ExportError:
        raise
    except ValueError as err:  # the generator's own argument checks
        raise ExportError(f"{spec.get('class_path')}: {err}") from err
    if generator.state_dict():
        raise ExportError(f"{spec.get('class_path')} has weights ({len(generator.state_dict())} tensors): export "
                          "it from a trained checkpoint (--ckpt), not from its config")
    meta: dict[str, Any] = {"source": "config", "global_step": 0, "epoch": None, "ema": False, "untrained": True}
    multiple = getattr(generator, "size_multiple", None)
    if isinstance(multiple, int) and multiple > 0:
        meta["size_multiple"] = multiple
    save_generator(out_path, {"class_path": spec.get("class_path"), "init_args": dict(spec.get("init_args") or {})},
                   {}, meta)
    return meta


def build_module(spec: dict[str, Any], allow_any_class: bool = False) -> nn.Module:
    """Instantiate ``{"class_path", "init_args"}`` named by a weights file (:func:`inpaint.classpath.instantiate`)."""
    try:
        return instantiate(str(spec.get("class_path", "")), spec.get("init_args"), allow_any_class=allow_any_class)
    except ClassPathError as err:
        raise ExportError(f"generator named by a weights file: {err}") from err


def load_generator(
    path: str, map_location: Any = "cpu", use_ema: bool = True, allow_any_class: bool = False
) -> tuple[nn.Module, dict[str, Any]]:
    """Load a generator from an exported ``.pt`` or a Lightning ``.ckpt``; returns ``(generator in eval mode, info)``.

    ``info`` holds ``generator`` (its config), ``format`` and the ``meta`` fields (source, global_step, epoch, ema,
    and when recorded ``resolution`` (H, W) and ``size_multiple``). Always ``torch.load(weights_only=True)``, after
    the file's checksum is verified (:func:`inpaint.lit.integrity.verify_checksum`).
    """
    obj = _load(path, map_location)
    if obj.get("format") == EXPORT_FORMAT:
        spec, weights, meta = obj["generator"], obj["state_dict"], dict(obj.get("meta") or {})
    elif "state_dict" in obj and "hyper_parameters" in obj:
        spec, weights, meta = _from_lightning_checkpoint(obj, path, use_ema)
    elif "format" in obj:
        raise ExportError(f"{path} has format {obj['format']!r}; this version reads {EXPORT_FORMAT!r}")
    else:
        raise ExportError(f"{path} is neither an exported generator nor an InpaintingGAN checkpoint")
    generator = build_module(spec, allow_any_class=allow_any_class)
    try:
        generator.load_state_dict(weights)
    except RuntimeError as err:
        first = str(err).splitlines()[0]
        raise ExportError(f"{path}: weights do not fit {spec['class_path']}({spec.get('init_args')}): {first}") from err
    generator.to(map_location if isinstance(map_location, str | torch.device) else "cpu").eval()
    if "size_multiple" not in meta and isinstance(getattr(generator, "size_multiple", None), int):
        meta["size_multiple"] = generator.size_multiple
    return generator, {"generator": spec, "format": EXPORT_FORMAT, **meta}
