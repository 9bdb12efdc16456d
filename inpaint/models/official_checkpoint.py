"""Convert the authors' TSGL-256 state dicts (``TSGL_MEDFE/train/model.py``) into this suite's modules.

The official ``Generator()`` maps one to one onto ``TSGLGenerator(variant="2Global(Local)->Global(Local)",
preset="official_exact", size="paper")`` and ``Discriminator(in_channels=3, use_sigmoid=False)`` onto
``PatchDiscriminator(width=64)``. What the conversion does besides renaming (docs/deviations.md):

* **runtime gains folded in**: the StyleGAN2/MAT layers of the texture branch store N(0, 1) weights and multiply
  by 1/√fan_in in the forward; leaky-ReLU layers also multiply weight *and* bias by √2 (``lrelu(z)·√2 =
  lrelu(√2·z)``, so the gain moves into the parameters exactly);
* **SPADE γ and β** (two convs there) become one conv with 2C outputs (γ first);
* **spectral norm**: the old ``weight_orig / weight_u / weight_v`` become the parametrisation's ``original / _u / _v``;
* **balance streams**: each frozen ``mask_conv`` kernel is reduced to the only thing the forward uses, its divisor
  map conv(ones, K) on the 32×32 grid (:class:`inpaint.nn.balance.DividedConv2d`);
* constant buffers (the FIR ``resample_filter`` and the Swin ``attn_mask``) are dropped (rebuilt by the modules);
* a DataParallel ``module.`` prefix is stripped.

State dicts of older revisions of their code and of their LaMa-based 512 model are recognised and refused with a
message naming what differs. Files are always read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

import torch

from inpaint.errors import UserInputError
from inpaint.nn.balance import OFFICIAL_GRID, divisor_map

#: the suite's generator that the official 256 generator converts into
OFFICIAL_GENERATOR: dict[str, Any] = {
    "class_path": "inpaint.models.generators.tsgl.TSGLGenerator",
    "init_args": {"variant": "2Global(Local)->Global(Local)", "preset": "official_exact", "size": "paper"},
}
OFFICIAL_DISCRIMINATOR: dict[str, Any] = {
    "class_path": "inpaint.models.discriminators.PatchDiscriminator",
    "init_args": {"in_channels": 3, "width": 64},
}
#: the resolution the official code (and so the exact preset's stored maps) is built for
OFFICIAL_RESOLUTION = 8 * OFFICIAL_GRID[0]
STREAM_KERNELS: dict[str, int] = {"3": 0, "5": 1, "7": 2}  # cov_<k> → balance.streams.<index>

Tensors = dict[str, torch.Tensor]


class OfficialCheckpointError(UserInputError):
    """A file that is not an official TSGL-256 state dict this converter reads (the message says why)."""


# --- reading -------------------------------------------------------------------------------------------------------


def read_state_dict(path: str | os.PathLike[str], what: str = "generator") -> Tensors:
    """The tensors of an official ``.pth`` (a state dict, possibly wrapped in one dict level), prefix stripped."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise OfficialCheckpointError(f"{what} weights file {path!r} does not exist")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, legacy pickle with code, random bytes: all end here
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise OfficialCheckpointError(
            f"{path} is not a readable weights-only torch file ({type(err).__name__}: {reason[:200]}); "
            "it may be truncated, or a pickle that carries code (never executed here)"
        ) from err
    state = _unwrap(obj, path)
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}


def _unwrap(obj: Any, path: str) -> Mapping[str, torch.Tensor]:
    if isinstance(obj, Mapping) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return obj
    if isinstance(obj, Mapping):
        nested = [v for v in obj.values() if isinstance(v, Mapping) and v
                  and all(isinstance(t, torch.Tensor) for t in v.values())]
        if len(nested) == 1:
            return nested[0]
    raise OfficialCheckpointError(f"{path} holds a {type(obj).__name__} without one state dict of tensors; "
                                  "expected the official Generator/Discriminator state_dict()")


# --- recognising what a state dict is ------------------------------------------------------------------------------


def check_generator_revision(state: Mapping[str, torch.Tensor], path: str = "generator") -> None:
    """Refuse state dicts of other models or revisions with one line naming what differs."""
    keys = list(state)
    if any(re.search(r"(convl2l|convg2g|convl2g|convg2l|\bffc\b|fourier)", k) for k in keys):
        raise OfficialCheckpointError(
            f"{path} is the authors' LaMa-based (512) model (FFC layers such as 'convl2l'); only the TSGL-256 "
            "generator of TSGL_MEDFE converts to the suite's TSGLGenerator"
        )
    if not any(k.startswith("en_low_1_f.") for k in keys) or not any(k.startswith("pc_block.") for k in keys):
        raise OfficialCheckpointError(
            f"{path} is not an official TSGL-256 generator state dict (no 'en_low_1_f.*' / 'pc_block.*' keys; "
            f"first keys: {keys[:3]})"
        )
    if any(k.startswith("de_low_") for k in keys):
        raise OfficialCheckpointError(
            f"{path} is from an older revision of the official code (a texture auxiliary decoder 'de_low_*'); "
            "the suite converts the released revision (e9f6438), which has no texture decoder"
        )
    fusion = state.get("en_fusion_1.0.weight")
    if fusion is not None and tuple(fusion.shape[-2:]) != (1, 1):
        raise OfficialCheckpointError(
            f"{path} is from an older revision of the official code ({fusion.shape[-2]}×{fusion.shape[-1]} fusion "
            "convs 'en_fusion_*'); the released revision uses 1×1 fusion convs"
        )
    stage5 = {int(m.group(1)) for k in keys if (m := re.match(r"en_low_5\.blocks\.(\d+)\.", k))}
    if stage5 and len(stage5) != 6:
        raise OfficialCheckpointError(
            f"{path} is from an older revision of the official code (stage 5 with {len(stage5)} transformer "
            "blocks); the released revision has 6"
        )


def check_discriminator(state: Mapping[str, torch.Tensor], path: str = "discriminator") -> None:
    if not any(k.startswith("encoder.0.") for k in state) or "classifier.weight" not in state:
        raise OfficialCheckpointError(
            f"{path} is not an official TSGL Discriminator state dict (expected 'encoder.0.*' and "
            f"'classifier.weight'; first keys: {list(state)[:3]})"
        )


# --- the key map ---------------------------------------------------------------------------------------------------

#: (official key pattern, suite key template); templates use the groups, ``{s}`` = stage index − 2
_GENERATOR_RULES: list[tuple[str, Callable[[re.Match[str]], str]]] = []


def _rule(pattern: str) -> Callable[[Callable[[re.Match[str]], str]], Callable[[re.Match[str]], str]]:
    def register(fn: Callable[[re.Match[str]], str]) -> Callable[[re.Match[str]], str]:
        _GENERATOR_RULES.append((pattern, fn))
        return fn
    return register


_FC = {"attn.q": "attention.query", "attn.k": "attention.key", "attn.v": "attention.value",
       "attn.proj": "attention.proj", "fuse": "fuse.0", "mlp.fc1": "mlp.0", "mlp.fc2": "mlp.2"}
_SPADE_NORM = {"0": "branches.0.stages.0", "1": "branches.0.stages.1", "s": "branches.1.stages.0"}
_BALANCE = {
    "down_128.model.0": "early.0.0.0", "down_128.model.3": "early.0.1.0", "down_64.model.0": "early.1.0",
    "down_32.model.0": "early.2.0", "up.conv": "late.0", "down.model.0": "down.0", "fuse.model.0": "fuse.0",
    "base.model.0.fc.0": "equalize.gate.1", "base.model.0.fc.2": "equalize.gate.3", "base.down.0": "equalize.fuse.0",
    "up_128.conv": "up_proj.0", "up_64.conv": "up_proj.1", "up_32.conv": "up_proj.2", "down_16.model.0": "out4.0",
    "down_8.model.0": "out5.0.0", "down_8.model.3": "out5.1.0",
    "down_4.model.0": "out6.0.0", "down_4.model.3": "out6.1.0", "down_4.model.6": "out6.2.0",
}
_BOTTLENECK = {"conv1": "0", "bn1": "1", "conv2": "3", "bn2": "4"}
_SN = {"weight_orig": "parametrizations.weight.original", "weight_u": "parametrizations.weight.0._u",
       "weight_v": "parametrizations.weight.0._v", "bias": "bias"}

_rule(r"en_high_1\.conv\.(weight)$")(lambda m: f"encoder.structure.convs.0.conv.{m[1]}")
_rule(r"en_high_([2-5])\.conv\.(weight)$")(lambda m: f"encoder.structure.convs.{int(m[1]) - 1}.conv.{m[2]}")
_rule(r"en_high_([2-5])\.bn\.(\w+)$")(lambda m: f"encoder.structure.norms.{int(m[1]) - 1}.{m[2]}")
_rule(r"en_high_([67])\.conv\.(weight)$")(lambda m: f"aux_decoder.downs.{int(m[1]) - 6}.conv.{m[2]}")
_rule(r"en_high_([67])\.bn\.(\w+)$")(lambda m: f"aux_decoder.down_norms.{int(m[1]) - 6}.{m[2]}")
_rule(r"de_high_([1-7])\.conv\.(weight)$")(lambda m: f"aux_decoder.ups.{7 - int(m[1])}.conv.{m[2]}")
_rule(r"de_high_([1-7])\.bn\.(\w+)$")(lambda m: f"aux_decoder.up_norms.{7 - int(m[1])}.{m[2]}")
_rule(r"de_high_0\.structure_resolver\.(conv1|bn1|conv2|bn2)\.(\w+)$")(
    lambda m: f"aux_decoder.bottleneck.{_BOTTLENECK[m[1]]}.{m[2]}")
_rule(r"de_high_0\.out_layer\.0\.(\w+)$")(lambda m: f"aux_decoder.head.{m[1]}")
_rule(r"en_low_1_f\.conv\.(weight|bias)$")(lambda m: f"encoder.head_in.conv.{m[1]}")
_rule(r"en_low_1_s\.conv\.(weight|bias)$")(lambda m: f"encoder.head_down.conv.{m[1]}")
_rule(r"en_low_([2-5])\.downsample\.conv\.conv\.(weight|bias)$")(
    lambda m: f"encoder.stages.{int(m[1]) - 2}.merge.conv.{m[2]}")
_rule(r"en_low_([2-5])\.conv\.conv\.(weight|bias)$")(lambda m: f"encoder.stages.{int(m[1]) - 2}.refine.conv.{m[2]}")
_rule(r"en_low_([2-5])\.blocks\.(\d+)\.(attn\.q|attn\.k|attn\.v|attn\.proj|fuse|mlp\.fc1|mlp\.fc2)\.(weight|bias)$")(
    lambda m: f"encoder.stages.{int(m[1]) - 2}.blocks.{m[2]}.block.{_FC[m[3]]}.{m[4]}")
_rule(r"en_fusion_([1-5])\.0\.(weight|bias)$")(lambda m: f"encoder.projections.{int(m[1]) - 1}.0.{m[2]}")
_rule(r"en_fusion_6\.0\.(weight|bias)$")(lambda m: f"encoder.top.0.{m[1]}")
_rule(r"h2l_([1-5])\.conv_(0|1|s)\.(weight_orig|weight_u|weight_v|bias)$")(
    lambda m: f"encoder.reconstruction.{int(m[1]) - 1}.{_SPADE_NORM[m[2]]}.conv.{_SN[m[3]]}")
_rule(r"h2l_([1-5])\.norm_(0|1|s)\.param_free_norm\.(\w+)$")(
    lambda m: f"encoder.reconstruction.{int(m[1]) - 1}.{_SPADE_NORM[m[2]]}.modulation.norm.norm.{m[3]}")
_rule(r"h2l_([1-5])\.norm_(0|1|s)\.mlp_shared\.0\.(weight|bias)$")(
    lambda m: f"encoder.reconstruction.{int(m[1]) - 1}.{_SPADE_NORM[m[2]]}.modulation.shared.0.{m[3]}")
_rule(r"pc_block\.cov_([357])\.(\d)\.conv\.input_conv\.weight$")(
    lambda m: f"balance.streams.{STREAM_KERNELS[m[1]]}.{m[2]}.0.weight")
_rule(r"pc_block\.cov_([357])\.(\d)\.bn\.(weight|bias)$")(
    lambda m: f"balance.streams.{STREAM_KERNELS[m[1]]}.{m[2]}.1.{m[3]}")
_rule(r"pc_block\.(.+)\.(weight|bias)$")(lambda m: f"balance.{_BALANCE[m[1]]}.{m[2]}")
_rule(r"Decoder_([1-5])\.model\.1\.(weight|bias)$")(lambda m: f"decoder.blocks.{int(m[1]) - 1}.up.{m[2]}")
_rule(r"Decoder_([1-5])\.model\.2\.(\w+)$")(lambda m: f"decoder.blocks.{int(m[1]) - 1}.post.{m[2]}")
_rule(r"Decoder_6\.model\.1\.(weight|bias)$")(lambda m: f"decoder.blocks.5.up.{m[1]}")

#: official keys the conversion consumes in another way or drops (constants rebuilt by the modules)
_DROPPED = re.compile(r"(\.resample_filter|\.attn_mask)$")
_MASK_KERNEL = re.compile(r"pc_block\.cov_([357])\.(\d)\.conv\.mask_conv\.weight$")
_SPADE_GAMMA_BETA = re.compile(r"h2l_([1-5])\.norm_(0|1|s)\.mlp_(gamma|beta)\.(weight|bias)$")
#: StyleGAN/MAT layers (runtime gain 1/√fan_in) and which of them end in a leaky ReLU (extra √2 gain)
_STYLEGAN = re.compile(r"^(en_low_1_f\.conv|en_low_1_s\.conv|en_low_[2-5]\.(downsample\.conv|conv)\.conv"
                       r"|en_low_[2-5]\.blocks\.\d+\.(attn\.q|attn\.k|attn\.v|attn\.proj|fuse|mlp\.fc1|mlp\.fc2))"
                       r"\.(weight|bias)$")
_LINEAR_OUTPUT = re.compile(r"\.(attn\.q|attn\.k|attn\.v|attn\.proj|mlp\.fc2)\.(weight|bias)$")


def _suite_key(key: str) -> str:
    for pattern, template in _GENERATOR_RULES:
        match = re.match(pattern, key)
        if match:
            try:
                return template(match)
            except KeyError:
                break
    raise OfficialCheckpointError(f"official key {key!r} has no counterpart in the suite's TSGLGenerator")


def _fold_gain(key: str, tensor: torch.Tensor) -> torch.Tensor:
    """Move a StyleGAN/MAT layer's runtime gains into its stored parameter (in the tensor's own precision)."""
    leaky = _LINEAR_OUTPUT.search(key) is None
    if key.endswith(".weight"):
        fan_in = math.prod(tensor.shape[1:])
        tensor = tensor * (1.0 / math.sqrt(fan_in))
    return tensor * math.sqrt(2.0) if leaky else tensor


def convert_generator(state: Mapping[str, torch.Tensor], dtype: torch.dtype = torch.float32,
                      path: str = "generator") -> Tensors:
    """The suite's ``TSGLGenerator`` (preset ``official_exact``) state dict for an official generator state dict.

    Float tensors are cast to ``dtype`` *before* the gains are folded (so a float64 conversion is float64 exact).
    """
    check_generator_revision(state, path)
    out: Tensors = {}
    gamma_beta: dict[tuple[str, str, str], dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        tensor = value.to(dtype) if value.is_floating_point() else value.clone()
        if _DROPPED.search(key):
            continue
        if match := _MASK_KERNEL.match(key):
            stream, layer = STREAM_KERNELS[match[1]], match[2]
            out[f"balance.streams.{stream}.{layer}.0.divisor"] = divisor_map(tensor, OFFICIAL_GRID)
            continue
        if match := _SPADE_GAMMA_BETA.match(key):
            gamma_beta.setdefault((match[1], match[2], match[4]), {})[match[3]] = tensor
            continue
        if _STYLEGAN.match(key):
            tensor = _fold_gain(key, tensor)
        out[_suite_key(key)] = tensor
    for (layer, norm, kind), parts in gamma_beta.items():
        if set(parts) != {"gamma", "beta"}:
            raise OfficialCheckpointError(f"{path}: h2l_{layer}.norm_{norm} has mlp_{next(iter(parts))} but not both "
                                          "mlp_gamma and mlp_beta")
        target = f"encoder.reconstruction.{int(layer) - 1}.{_SPADE_NORM[norm]}.modulation.gamma_beta.{kind}"
        out[target] = torch.cat([parts["gamma"], parts["beta"]], dim=0)
    return out


def convert_discriminator(state: Mapping[str, torch.Tensor], dtype: torch.dtype = torch.float32,
                          path: str = "discriminator") -> Tensors:
    """The suite's ``PatchDiscriminator(width=64)`` state dict for an official ``Discriminator`` state dict."""
    check_discriminator(state, path)
    out: Tensors = {}
    for key, value in state.items():
        tensor = value.to(dtype) if value.is_floating_point() else value.clone()
        if match := re.match(r"encoder\.(\d+)\.(weight_orig|weight_u|weight_v)$", key):
            out[f"net.{match[1]}.{_SN[match[2]]}"] = tensor
        elif match := re.match(r"classifier\.(weight|bias)$", key):
            out[f"net.8.{match[1]}"] = tensor
        else:
            raise OfficialCheckpointError(f"{path}: official discriminator key {key!r} has no counterpart")
    return out


def build_generator(dtype: torch.dtype = torch.float32) -> torch.nn.Module:
    """An empty generator of the official layout (to load a converted state dict into, strictly)."""
    from inpaint.classpath import instantiate

    return instantiate(OFFICIAL_GENERATOR["class_path"], OFFICIAL_GENERATOR["init_args"]).to(dtype)


def build_discriminator(dtype: torch.dtype = torch.float32) -> torch.nn.Module:
    from inpaint.classpath import instantiate

    return instantiate(OFFICIAL_DISCRIMINATOR["class_path"], OFFICIAL_DISCRIMINATOR["init_args"]).to(dtype)


def load_strict(module: torch.nn.Module, state: Tensors, what: str) -> None:
    """``load_state_dict(strict=True)`` with a one-line error naming the first missing / unexpected keys."""
    try:
        result = module.load_state_dict(state, strict=False)
    except RuntimeError as err:  # shape mismatches
        detail = next((line.strip() for line in str(err).splitlines() if "size mismatch" in line), str(err))
        raise OfficialCheckpointError(f"converted {what} does not fit the suite's model: {detail[:300]}") from err
    problems = []
    if result.missing_keys:
        problems.append(f"missing {result.missing_keys[:3]} ({len(result.missing_keys)} in all)")
    if result.unexpected_keys:
        problems.append(f"unexpected {result.unexpected_keys[:3]} ({len(result.unexpected_keys)} in all)")
    if problems:
        raise OfficialCheckpointError(f"converted {what} does not fit the suite's model: {'; '.join(problems)}")
