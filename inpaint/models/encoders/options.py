"""TSGLOptions: the one typed configuration of the TSGL encoder, taken whole by every generator built on it.

Each field is one choice where the paper and the authors' code differ (docs/deviations.md) or a free design
choice. ``None`` means "the preset's value": a generator resolves its options against its ``preset`` once
(``options.over(get_preset(name))``) and hands the fully resolved object down to the encoder, which passes plain typed
values (``tau: float``, ...) on to the layers. In YAML::

    generator:
      class_path: inpaint.models.generators.tsgl.TSGLGenerator
      init_args: {variant: Baseline, preset: official, encoder_options: {tau: 50, depths: [2, 2, 6, 2]}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

from inpaint.conventions import StructurePrior, check_structure_prior
from inpaint.errors import UserInputError
from inpaint.nn.attention import TauPosition
from inpaint.nn.normalization import GlobalNormKind

PConvStyle = Literal["paper", "official"]
#: how the local residual R_k reaches layer k; ``nearest`` only exists in the 512 Ours(LaMa) code.
ResidualResizeOption = Literal["bilinear", "area", "nearest"]


@dataclass(frozen=True)
class TSGLOptions:
    """TSGL encoder options; ``None`` = take the preset's value (:mod:`inpaint.models.presets`).

    Args:
        tau: the mask strength τ of Eq. 4 (paper 100).
        tau_position: ``before_scale`` ((QKᵀ − τM)/√d, Eq. 4) or ``after_scale`` (QKᵀ/√d − τ, official code).
        global_norm: ``instance`` (Eq. 7) or ``batch`` (official code) in the global reconstruction branch.
        local_norm_unbiased: divide the local variance by C − 1 (official code) instead of C (Eq. 8).
        depths: transformer blocks of stages 2–5 (paper 2-2-6-2, official 2-2-6-6).
        last_stage_masked: the τ term and token-mask update in stage 5 too (official code: no).
        pconv_style: texture partial convs as Eq. 1 (``paper``) or as the official code (``official``).
        aux_decoder: build D_S (Eq. 14) when the variant has a structure encoder.
        spectral_norm: spectral norm on the reconstruction convs.
        residual_resize: how R_k is brought to layer k (``bilinear`` as the code, ``area``; ``nearest`` is
            Ours(LaMa)'s own default).
        antialias: low-pass the input with the [1, 3, 3, 1] FIR filter before the five stride-2 texture convs
            (head downsampler and the four patch merges; official code, :mod:`inpaint.nn.fir`).
        shift_logit: logit added between tokens of different regions of a shifted window (−1e4: never attend;
            official code −100).
        aux_bottleneck_bias: biases in the two 3×3 convs of D_S's residual bottleneck (official code: none).
        use_structure: force the structure encoder on/off; ``None`` = when a reconstruction branch reads it.
        window: attention window side (capped at the feature size).
        structure_prior: what X_S is built from (Table VIII): ``None`` = ``canny_gray`` (edge and gray, the paper),
            else ``lowres_rgb``, ``sobel_x``, ``sobel_y`` or ``segmentation`` (the batch's ``structure`` maps); it
            sets the structure encoder's input channels (C + 1) and what D_S predicts. Not a preset field.
    """

    tau: float | None = None
    tau_position: TauPosition | None = None
    global_norm: GlobalNormKind | None = None
    local_norm_unbiased: bool | None = None
    depths: tuple[int, ...] | None = None
    last_stage_masked: bool | None = None
    pconv_style: PConvStyle | None = None
    aux_decoder: bool | None = None
    spectral_norm: bool | None = None
    residual_resize: ResidualResizeOption | None = None
    antialias: bool | None = None
    shift_logit: float | None = None
    aux_bottleneck_bias: bool | None = None
    use_structure: bool | None = None
    window: int = 8
    structure_prior: StructurePrior | None = None

    def __post_init__(self) -> None:
        if self.depths is not None:  # YAML gives a list; keep the object hashable and comparable
            object.__setattr__(self, "depths", tuple(int(d) for d in self.depths))
            if len(self.depths) != 4:
                raise UserInputError(f"encoder_options.depths must list the blocks of the 4 transformer stages "
                                     f"(stages 2–5), got {list(self.depths)}")
        for name in ("tau", "shift_logit"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, float(getattr(self, name)))
        if self.structure_prior is not None:
            check_structure_prior(self.structure_prior)
        if self.window < 1:
            raise UserInputError(f"encoder_options.window must be ≥ 1, got {self.window}")

    @classmethod
    def of(cls, value: TSGLOptions | Mapping[str, Any] | None) -> TSGLOptions:
        """``value`` as options: a mapping (plain YAML, a checkpoint's hyper-parameters) is checked field by field."""
        if value is None:
            return cls()
        if isinstance(value, TSGLOptions):
            return value
        if isinstance(value, Mapping):
            known = {f.name for f in fields(cls)}
            unknown = sorted(set(value) - known)
            if unknown:
                raise UserInputError(f"unknown encoder_options {unknown}; known: {sorted(known)}")
            return cls(**value)
        raise UserInputError(f"encoder_options must be a mapping of TSGL options, got {type(value).__name__}")

    def given(self) -> dict[str, Any]:
        """The fields set to a value (not left to the preset)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    def over(self, base: TSGLOptions) -> TSGLOptions:
        """``base`` with every field set here on top."""
        return replace(base, **self.given())
