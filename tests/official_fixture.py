"""The official-TSGL-256 golden fixture: where it is, and the weight rule that rebuilds its state dicts.

The full fixture (``official-tsgl-256``: key list, constants, cases with the authors' outputs, float64 outputs) is
looked up in ``$INPAINT_OFFICIAL_FIXTURE``, then in ``shared/fixtures/official-tsgl-256`` next to or above the
checkout. Without it the tests use the trimmed copy committed in ``tests/fixtures/official_tsgl_256`` (made by
:func:`trim`: the same inputs, float32 and float64 outputs and discriminator logits, small levels in full and the
others as mean / std / 64 samples; no constants, which :func:`_constant` rebuilds).
The rule (its WEIGHTS.md) fills every tensor from its key: seed = CRC-32(key), one fresh Mersenne-Twister draw,
a per-kind formula; spectral-norm vectors by 20 float64 power iterations.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import zlib
from functools import cache
from pathlib import Path
from typing import Any

import torch

FIXTURE_NAME = "official-tsgl-256"


TRIMMED = Path(__file__).resolve().parent / "fixtures" / "official_tsgl_256"
#: levels with at most this many elements stay in full in the trimmed copy
TRIM_FULL_LIMIT = 32768


def full_fixture_dir() -> Path | None:
    given = os.environ.get("INPAINT_OFFICIAL_FIXTURE")
    if given:
        return Path(given)
    here = Path(__file__).resolve().parent
    for folder in [here, *here.parents]:
        candidate = folder / "shared" / "fixtures" / FIXTURE_NAME
        if (candidate / "cases.pt").is_file():
            return candidate
    return None


def fixture_dir() -> Path:
    return full_fixture_dir() or TRIMMED


@cache
def entries() -> dict[str, list[dict[str, Any]]]:
    return json.loads((fixture_dir() / "official_state_keys.json").read_text())


def _constant(key: str, shape: list[int]) -> torch.Tensor:
    """The official constant buffers, rebuilt: the FIR filter and the Swin shift masks (0 / −100)."""
    folder = fixture_dir()
    if (folder / "constants.pt").is_file():
        return torch.load(folder / "constants.pt", weights_only=True)[key].clone()
    if key.endswith("resample_filter"):
        taps = torch.tensor([1.0, 3.0, 3.0, 1.0])
        return torch.outer(taps, taps) / 64
    windows, window, shift = shape[0], 8, 4
    side = int(math.isqrt(windows)) * window
    ids = torch.zeros(side, side, dtype=torch.long)
    bounds = (slice(0, -window), slice(-window, -shift), slice(-shift, None))
    for i, rows in enumerate(bounds):
        for j, cols in enumerate(bounds):
            ids[rows, cols] = 3 * i + j
    ids = ids.view(side // window, window, side // window, window).permute(0, 2, 1, 3).reshape(windows, -1)
    return torch.where(ids[:, :, None] == ids[:, None, :], 0.0, -100.0)


@cache
def cases() -> dict[str, Any]:
    loaded = torch.load(fixture_dir() / "cases.pt", weights_only=True)["cases"]
    for case in loaded.values():
        case["reimpl_inputs"] = {k: v.float() for k, v in case["reimpl_inputs"].items()}
    return loaded


def _draw(key: str, shape: list[int], uniform: bool) -> torch.Tensor:
    g = torch.Generator()
    g.manual_seed(zlib.crc32(key.encode("utf-8")) & 0xFFFFFFFF)
    return (torch.rand if uniform else torch.randn)(shape, generator=g, dtype=torch.float32)


def _fan_in(shape: list[int], transposed: bool) -> float:
    """in·kh·kw of a conv (out, in, kh, kw); in·kh·kw/4 of a stride-2 transposed conv (in, out, kh, kw)."""
    if transposed:
        return shape[0] * shape[2] * shape[3] / 4
    return math.prod(shape[1:])


def _scaled(z: torch.Tensor, scale: float) -> torch.Tensor:
    return z * float(torch.tensor(scale, dtype=torch.float64).float())


def _tensor(entry: dict[str, Any]) -> torch.Tensor | None:
    key, shape, kind = entry["key"], entry["shape"], entry["kind"]
    if kind == "stylegan_weight":
        return _draw(key, shape, False)
    if kind in ("conv_weight", "sn_weight_orig", "conv_transpose_weight"):
        fan = _fan_in(shape, kind == "conv_transpose_weight")
        return _scaled(_draw(key, shape, False), math.sqrt(entry["var_gain"] / fan))
    if kind == "mask_conv_weight":
        return _scaled(_draw(key, shape, False), 0.02)
    uniform = {"bias": (0.2, -0.1), "norm_weight": (0.4, 0.8), "running_mean": (0.2, -0.1), "running_var": (1.0, 0.5)}
    if kind in uniform:
        a, b = uniform[kind]
        return _draw(key, shape, True) * a + b
    if kind == "num_batches_tracked":
        return torch.tensor(0, dtype=torch.int64)
    if kind == "constant":
        return _constant(key, shape)
    return None  # sn_u / sn_v: filled once the weights exist


def _power_iteration(weight: torch.Tensor, v_key: str, v_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    w = weight.reshape(weight.shape[0], -1).double()
    v = _draw(v_key, [v_len], False).double()
    v = v / v.norm()
    for _ in range(20):
        u = w @ v
        u = u / u.norm()
        v = w.t() @ u
        v = v / v.norm()
    u = w @ v
    return (u / u.norm()).float(), v.float()


def build(part: str) -> dict[str, torch.Tensor]:
    """The official ``generator`` or ``discriminator`` state dict of the rule, in the official key order."""
    listed = entries()[part]
    out: dict[str, torch.Tensor] = {}
    for entry in listed:
        tensor = _tensor(entry)
        if tensor is not None:
            out[entry["key"]] = tensor
    for entry in listed:
        if entry["kind"] == "sn_v":
            prefix = entry["key"][: -len("weight_v")]
            u, v = _power_iteration(out[prefix + "weight_orig"], entry["key"], entry["shape"][0])
            out[prefix + "weight_u"], out[prefix + "weight_v"] = u, v
    return {e["key"]: out[e["key"]] for e in listed}


def sha256(tensor: torch.Tensor) -> str:
    return hashlib.sha256(tensor.contiguous().numpy().tobytes()).hexdigest()


def summarise(level: torch.Tensor) -> dict[str, Any]:
    """The fixture's summary of a level: mean, unbiased std, the first 64 of randperm(seed 1234) and their values."""
    flat = level.contiguous().flatten()
    index = torch.randperm(flat.numel(), generator=torch.Generator().manual_seed(1234))[:64].sort().values
    return {"shape": torch.tensor(level.shape), "mean": flat.float().mean(), "std": flat.float().std(),
            "sample_index": index, "sample_value": flat[index]}


def trim(full: Path, out: Path) -> None:
    """Write the committed copy from the full fixture (run once by hand; see the module docstring)."""
    out.mkdir(parents=True, exist_ok=True)
    listed = json.loads((full / "official_state_keys.json").read_text())
    keep = ("key", "shape", "dtype", "kind", "var_gain", "sha256")
    slim = {part: [{k: e[k] for k in keep if k in e} for e in listed[part]] for part in ("generator", "discriminator")}
    (out / "official_state_keys.json").write_text(json.dumps(slim, separators=(",", ":")))
    trimmed = {}
    for name, case in torch.load(full / "cases.pt", weights_only=True)["cases"].items():
        inputs = dict(case["reimpl_inputs"])
        for binary in ("mask", "edge"):  # exactly {0, 1}: stored as bytes, read back as float32
            inputs[binary] = inputs[binary].to(torch.uint8)
        levels = {}
        for level, stored in case["levels"].items():
            if "full" in stored and stored["full"].numel() > TRIM_FULL_LIMIT:
                levels[level] = summarise(stored["full"])
            else:
                levels[level] = stored
        trimmed[name] = {"reimpl_inputs": inputs, "outputs": case["outputs"], "outputs_fp64": case["outputs_fp64"],
                         "levels": levels}
    torch.save({"format_version": 1, "trimmed_from": FIXTURE_NAME, "cases": trimmed}, out / "cases.pt")
