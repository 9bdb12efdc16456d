"""Presets: every difference between the paper and the official code as a named, individually settable value.

``paper`` (default) follows the paper's text and equations; ``official`` reproduces what the authors' code
does where it disagrees (see docs/deviations.md). The generator reads the ``model`` part (each key is also a
``TSGLGenerator`` argument that overrides it); the ``loss``, ``optim`` and ``data`` parts are data for the
training and data helpers — the model does not implement them.
"""

from __future__ import annotations

import copy
from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {
        "model": {
            "global_norm": "instance",  # Eq. 7: per sample and channel over H×W
            "local_norm_unbiased": False,  # Eq. 8 divides by C
            "depths": [2, 2, 6, 2],  # Sec. IV-A
            "tau": 100.0,  # Sec. III-A2
            "tau_position": "before_scale",  # Eq. 4: (QKᵀ − τM)/√d
            "last_stage_masked": True,  # Eq. 4–5 in every stage
            "pconv_style": "paper",  # texture partial convs as Eq. 1 (input ⊙ M, ratio before bias)
            "aux_decoder": True,  # D_S and Eq. 14 whenever a structure encoder exists
            "spectral_norm": True,  # reconstruction convs (paper silent; official code)
            "residual_resize": "bilinear",  # R_k resize as in the code (paper silent)
        },
        "loss": {
            "adversarial": "bce",  # Eq. 15 non-saturating
            "hole_weight": 1.0,  # Eq. 13 plain L1
            "valid_weight": 1.0,
            "aux_hole_weight": 1.0,  # Eq. 14 plain L1
            "aux_valid_weight": 1.0,
            "lambda_rec": 1.0,  # Eq. 16
            "lambda_adv": 0.1,
            "lambda_aux": 1.0,
            "discriminator_input": "composite",
        },
        "optim": {"lr_g": 5e-4, "lr_d": 1e-4, "betas": [0.5, 0.99], "schedule": None},
        "data": {"smoothing": "l0"},  # [39] in the text: L0 gradient minimisation
    },
    "official": {
        "model": {
            "global_norm": "batch",  # SynchronizedBatchNorm2d(affine=False)
            "local_norm_unbiased": True,  # torch.var default in PositionalNorm
            "depths": [2, 2, 6, 6],  # since commit 61e6f1c, matches the released weights
            "tau": 100.0,
            "tau_position": "after_scale",  # QKᵀ/√d − 100
            "last_stage_masked": False,  # stage 5 is called with mask=None
            "pconv_style": "official",  # no input masking, ratio after bias + activation
            "aux_decoder": True,
            "spectral_norm": True,
            "residual_resize": "bilinear",
        },
        "loss": {
            "adversarial": "hinge",
            "hole_weight": 5.0,  # 5·mean|·⊙(1−M)| + 1·mean|·⊙M|
            "valid_weight": 1.0,
            "aux_hole_weight": 5.0,
            "aux_valid_weight": 1.0,
            "lambda_rec": 1.0,
            "lambda_adv": 0.1,
            "lambda_aux": 1.0,
            "discriminator_input": "composite",
        },
        "optim": {"lr_g": 5e-4, "lr_d": 1e-4, "betas": [0.5, 0.99], "schedule": {"step_epochs": 3, "gamma": 0.1}},
        "data": {"smoothing": "rtv"},  # README: RTV (λ 0.015, σ 3, sharpness 0.001, 3 iterations)
    },
}

MODEL_KEYS: tuple[str, ...] = tuple(PRESETS["paper"]["model"])


def get_preset(name: str) -> dict[str, Any]:
    """A deep copy of a preset (``model``, ``loss``, ``optim``, ``data`` parts)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return copy.deepcopy(PRESETS[name])
