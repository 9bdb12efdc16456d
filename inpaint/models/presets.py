"""TSGL encoder presets: the model half of a preset, as :class:`~inpaint.models.encoders.options.TSGLOptions`.

``paper`` follows the paper's text and equations; ``official`` does what the authors' code does where the two
disagree (docs/deviations.md). A generator's ``preset`` fills every encoder option left at ``None``.

The other halves of a *run* preset live where they are used, each once: the loss choices in
:data:`inpaint.losses.LOSS_PRESETS`, and the whole run (generator preset + loss preset + LR schedule + smoothing)
in the preset config files ``inpaint/config/presets/<name>.yaml`` that ``preset: <name>`` composes.
"""

from __future__ import annotations

from inpaint.errors import UserInputError
from inpaint.models.encoders.options import TSGLOptions

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
    ),
    "official": TSGLOptions(
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
    ),
}


def get_preset(name: str) -> TSGLOptions:
    """The named preset's encoder options (every preset-governed field set)."""
    if name not in PRESETS:
        raise UserInputError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name]
