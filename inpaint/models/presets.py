"""TSGL encoder presets: the model half of a preset, as :class:`~inpaint.models.encoders.options.TSGLOptions`.

Three presets (docs/deviations.md has the full table):

* ``paper`` follows the paper's text and equations;
* ``official`` is the authors' architecture and training choices where they differ from the paper (depths 2-2-6-6,
  batch norm, τ after the scaling, ...) **with their forward-pass bugs fixed**: no aliasing filter, shift regions
  fully excluded, plain balance streams and the equalisation of Eq. 10–11;
* ``official_exact`` is the authors' code function for function, bugs included: it is the preset that their
  released weights, converted by ``inpaint convert --from official``, reproduce to float rounding (256² only).

A generator's ``preset`` fills every encoder option left at ``None``; TSGLGenerator's balance module takes its
preset half from :data:`BALANCE_PRESETS`.

The other halves of a *run* preset live where they are used, each once: the loss choices in
:data:`inpaint.losses.LOSS_PRESETS`, and the whole run (generator preset + loss preset + LR schedule + smoothing)
in the preset config files ``inpaint/config/presets/<name>.yaml`` that ``preset: <name>`` composes.
"""

from __future__ import annotations

from inpaint.errors import UserInputError
from inpaint.models.encoders.options import TSGLOptions
from inpaint.nn.attention import EXCLUDED
from inpaint.nn.balance import BalanceOptions

_OFFICIAL_ARCHITECTURE = dict(
    global_norm="batch",  # BatchNorm without affine in the authors' code
    local_norm_unbiased=True,  # torch.var's default in their positional norm
    depths=(2, 2, 6, 6),  # matches the released weights
    tau=100.0,
    tau_position="after_scale",  # QKᵀ/√d − 100
    last_stage_masked=False,  # stage 5 is called without a mask
    pconv_style="official",  # no input masking, ratio after bias + activation
    aux_decoder=True,
    spectral_norm=True,
    residual_resize="bilinear",
)

PRESETS: dict[str, TSGLOptions] = {
    "paper": TSGLOptions(
        global_norm="instance",  # Eq. 7: per sample and channel over H×W
        local_norm_unbiased=False,  # Eq. 8 divides by C
        depths=(2, 2, 6, 2),  # Sec. IV-A
        tau=100.0,  # Sec. III-A2
        tau_position="before_scale",  # Eq. 4: (QKᵀ − τM)/√d
        last_stage_masked=True,  # Eq. 4–5 in every stage
        pconv_style="paper",  # texture partial convs as Eq. 1 (input ⊙ M, ratio before bias)
        aux_decoder=True,  # D_S and Eq. 14 whenever a structure encoder exists
        spectral_norm=True,  # reconstruction convs (paper silent; official code)
        residual_resize="bilinear",  # R_k resize as in the code (paper silent)
        antialias=False,  # a plain 3×3 stride-2 conv (paper silent)
        shift_logit=EXCLUDED,  # Swin: tokens of different shift regions never attend to each other
        aux_bottleneck_bias=True,
    ),
    "official": TSGLOptions(
        **_OFFICIAL_ARCHITECTURE,
        antialias=False,  # their bugs fixed: a plain stride-2 conv, shift regions excluded, D_S biases kept
        shift_logit=EXCLUDED,
        aux_bottleneck_bias=True,
    ),
    "official_exact": TSGLOptions(
        **_OFFICIAL_ARCHITECTURE,
        antialias=True,  # MAT's Conv2dLayer(down=2): pad 2, [1,3,3,1] FIR blur, 3×3 stride-2 conv
        shift_logit=-100.0,  # their Swin shift mask
        aux_bottleneck_bias=False,  # their D_S bottleneck convs have no bias
    ),
}


#: the balance-module half of each preset (TSGLGenerator only; the swaps have no balance module)
BALANCE_PRESETS: dict[str, BalanceOptions] = {
    "paper": BalanceOptions(stream_divisors=False, equalization="paper"),
    "official": BalanceOptions(stream_divisors=False, equalization="paper"),
    "official_exact": BalanceOptions(stream_divisors=True, equalization="official"),
}


def get_preset(name: str) -> TSGLOptions:
    """The named preset's encoder options (every preset-governed field set)."""
    if name not in PRESETS:
        raise UserInputError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name]


def get_balance_preset(name: str) -> BalanceOptions:
    """The named preset's balance-module options."""
    get_preset(name)  # the same error for an unknown name
    return BALANCE_PRESETS[name]
