"""Training losses of TSGL (paper Sec. III-C, Eq. 13–16) and the official code's variants.

Every term is a plain function of tensors; :class:`LossConfig` holds the choices (which adversarial loss,
how holes are weighted, the λ weights of Eq. 16) as data, so a YAML config or a preset can select them.

* Reconstruction (Eq. 13): ``‖I_out − I_gt‖₁`` as a mean over all elements. The official code instead weights
  hole pixels 5× and known pixels 1× (both means over *all* elements); :func:`masked_l1` covers both — with
  weights 1 : 1 it is exactly the plain mean L1.
* Auxiliary structure (Eq. 14): the same L1 between the auxiliary edge prediction D_S(F_N^S) and the **full**
  (unmasked) edge map.
* Adversarial (Eq. 15): non-saturating BCE on logits (paper) or hinge (official); ``wgan`` (a Wasserstein
  critic, HiFill) as a host option.
* Total generator loss (Eq. 16): ``λ_r·L_rec + λ_adv·L_adv^G + λ_aux·L_aux`` with λ = 1 / 0.1 / 1 by default.

Host generators' own published losses are options, all off by default (the swap study compares every generator
under the common loss above):

* PEN-Net's pyramid L1 (deep supervision): ``Σ_l mean|img_l − resize(I_gt, size_l)|`` over the generator's
  ``extras["pyramid_*"]`` side outputs, whole image, no mask (PEN-Net weight 0.5) → ``lambda_pyramid``;
* LaMa's discriminator feature matching: ``mean_k MSE(D_k(fake), D_k(real))`` over D's intermediate feature maps
  (LaMa weight 100; needs a discriminator with ``forward_features``) → ``lambda_feature_matching``;
* LaMa's R1 penalty on real images: ``mean_b ‖∇_x ΣD(x)_b‖²`` added to D's loss (LaMa γ = 0.001) → ``r1_gamma``;
* LaMa's "known pixels of the fake count as real" discriminator target: the hole mask resized (nearest) to
  the logit grid selects, per logit, the fake or the real target of D's fake term → ``mask_as_fake_target``;
* LaMa's ResNet-PL perceptual loss needs the ADE20k ResNet50-dilated weights, which cannot be downloaded here:
  ``lambda_perceptual > 0`` fails with what to put where (the loss network itself is not part of the suite);
* HiFill's WGAN-GP: ``adversarial="wgan"`` (D: ``E D(fake) − E D(real)``, G: ``−E D(fake)``) with the gradient
  penalty ``mean_b (‖∇D(x̂_b)‖₂ − 1)²`` on random interpolates x̂ of real and fake (HiFill weight 10) →
  ``gradient_penalty``;
* HiFill's coarse-stage L1 over ``extras["coarse"]``, weighted like the main L1 → ``lambda_coarse`` (HiFill 1.2);
* the Pyramid Generator's per-level losses (seed 002): with one discriminator per level, every level's adversarial
  and L1 terms against the ground truth downscaled to it, weighted 10 : 1 : 1 bottom to top → ``level_weights``
  (the step's side: :mod:`inpaint.lit.levels`);
* the PConv family's terms (Liu et al. 2018; seed 004): the hole/valid terms as L1 (``hole_weight`` /
  ``valid_weight``) or as MSE (``reconstruction_distance``, seed 004 as written), perceptual and style losses on the
  frozen ImageNet VGG-16's pool1–3 features of both the output and the composite (``lambda_vgg_perceptual``,
  ``lambda_vgg_style``; the weights file must be present, :mod:`inpaint.models.vgg16_features`) and total variation
  over the 1-pixel-dilated hole of the composite (``lambda_tv``);
* the L1 normalisations of PEN-Net (hole and known terms each divided by the batch's hole / known fraction) and
  HiFill (only the known term) → ``l1_normalize = "both"`` / ``"known"``.

``experiments/model/recipes/{pennet,hifill,lama}.yaml`` combine these into each host's published recipe.

Under bf16 autocast (``bf16-mixed``) :func:`generator_losses` and :func:`discriminator_loss` run in float32 on
float32 copies of their inputs (:mod:`inpaint.nn.float32`): a mean over a whole batch, a softplus or a hole/known
fraction in bf16 would round every step's loss (and its gradient) to 8 significant bits. The VGG-16 loss network,
when used, then runs in float32 as well.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

from inpaint.conventions import composite
from inpaint.errors import MissingWeightsError, UserInputError
from inpaint.models.vgg16_features import vgg16_pools, vgg16_unavailable_message, vgg16_weights_path
from inpaint.nn.float32 import float32_island

AdversarialKind = Literal["bce", "hinge", "wgan"]
L1Normalization = Literal["none", "both", "known"]
Distance = Literal["l1", "mse"]


@dataclass(frozen=True)
class LossConfig:
    """Loss choices of Eq. 13–16 and the official code's alternatives (named sets in :data:`LOSS_PRESETS`).

    Args:
        adversarial: ``"bce"`` (paper Eq. 15, non-saturating, on logits), ``"hinge"`` (official code) or ``"wgan"``
            (Wasserstein critic, HiFill; pair it with ``gradient_penalty``).
        hole_weight: weight of hole pixels in the reconstruction L1 (paper 1, official 5).
        valid_weight: weight of known pixels in the reconstruction L1 (paper 1, official 1).
        aux_hole_weight: weight of hole pixels in the auxiliary edge L1 (paper 1, official 5).
        aux_valid_weight: weight of known pixels in the auxiliary edge L1 (paper 1, official 1).
        lambda_rec: λ_r of Eq. 16.
        lambda_adv: λ_adv of Eq. 16.
        lambda_aux: λ_r^str of Eq. 16 (auxiliary edge loss); ignored for generators without an edge head.
        discriminator_input: what D judges as "fake": the ``composite`` (official code, the suite's default) or
            the raw ``output`` (Eq. 15 writes D(I_out)).
        lambda_pyramid: weight of PEN-Net's pyramid L1 over ``extras["pyramid_*"]`` (PEN-Net: 0.5; default off).
        lambda_feature_matching: weight of LaMa's D feature matching (LaMa: 100; default off).
        r1_gamma: weight of LaMa's R1 penalty in D's loss (LaMa: 0.001; default off).
        lambda_perceptual: LaMa's ResNet-PL weight (LaMa: 30); only 0 is accepted (weights unavailable offline).
        mask_as_fake_target: LaMa's D target: logits over known pixels of the fake are trained towards "real"
            (needs spatial logits; not with ``wgan``).
        gradient_penalty: weight of the WGAN-GP penalty in D's loss (HiFill: 10; default off).
        lambda_coarse: weight of the L1 on ``extras["coarse"]`` (HiFill's coarse stage: 1.2; default off).
        l1_normalize: divide the L1's hole / known terms by the batch's hole / known fraction: ``"none"``
            (default), ``"both"`` (PEN-Net) or ``"known"`` (HiFill). Applies to the main and the coarse L1.
        level_weights: weight of each level's generator loss L_n, bottom level first, for a pyramid generator with
            one discriminator per level (seed 002: 10, 1, 1); empty (default) = every level 1. Needs
            :class:`~inpaint.models.discriminators.LevelDiscriminators`.
        reconstruction_distance: ``"l1"`` (default; Liu et al.) or ``"mse"`` (seed 004 as written) for the
            hole/known reconstruction terms (main and coarse).
        lambda_vgg_perceptual: weight of the VGG-16 perceptual loss (Liu et al. 0.05, seed 004 0.01; default off).
        lambda_vgg_style: weight of the VGG-16 style loss (both 120; default off).
        lambda_tv: weight of the total-variation loss on the composite's dilated hole (Liu et al. 0.1; default off).
    """

    adversarial: AdversarialKind = "bce"
    hole_weight: float = 1.0
    valid_weight: float = 1.0
    aux_hole_weight: float = 1.0
    aux_valid_weight: float = 1.0
    lambda_rec: float = 1.0
    lambda_adv: float = 0.1
    lambda_aux: float = 1.0
    discriminator_input: Literal["composite", "output"] = "composite"
    lambda_pyramid: float = 0.0
    lambda_feature_matching: float = 0.0
    r1_gamma: float = 0.0
    lambda_perceptual: float = 0.0
    mask_as_fake_target: bool = False
    gradient_penalty: float = 0.0
    lambda_coarse: float = 0.0
    l1_normalize: L1Normalization = "none"
    level_weights: tuple[float, ...] = ()
    reconstruction_distance: Distance = "l1"
    lambda_vgg_perceptual: float = 0.0
    lambda_vgg_style: float = 0.0
    lambda_tv: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "level_weights", tuple(float(w) for w in self.level_weights))  # YAML gives a list
        if not all(w >= 0.0 for w in self.level_weights):
            raise ValueError(f"losses.level_weights must be non-negative numbers, got {list(self.level_weights)}")
        if self.adversarial not in ("bce", "hinge", "wgan"):
            raise ValueError(f"losses.adversarial must be 'bce', 'hinge' or 'wgan', got {self.adversarial!r}")
        if self.l1_normalize not in ("none", "both", "known"):
            raise ValueError(f"losses.l1_normalize must be 'none', 'both' or 'known', got {self.l1_normalize!r}")
        if self.mask_as_fake_target and self.adversarial == "wgan":
            raise ValueError("losses.mask_as_fake_target needs a per-logit real/fake target ('bce' or 'hinge'); "
                             "a Wasserstein critic has none")
        if self.discriminator_input not in ("composite", "output"):
            raise ValueError(
                f"losses.discriminator_input must be 'composite' or 'output', got {self.discriminator_input!r}"
            )
        for name in ("hole_weight", "valid_weight", "aux_hole_weight", "aux_valid_weight", "lambda_rec",
                     "lambda_adv", "lambda_aux", "lambda_pyramid", "lambda_feature_matching", "r1_gamma",
                     "lambda_perceptual", "gradient_penalty", "lambda_coarse", "lambda_vgg_perceptual",
                     "lambda_vgg_style", "lambda_tv"):
            value = getattr(self, name)
            if not value >= 0.0:  # also rejects NaN
                raise ValueError(f"losses.{name} must be a non-negative number, got {value!r}")
        if self.lambda_perceptual > 0:
            raise NotImplementedError(perceptual_unavailable_message())
        if self.reconstruction_distance not in ("l1", "mse"):
            raise ValueError("losses.reconstruction_distance must be 'l1' or 'mse', got "
                             f"{self.reconstruction_distance!r}")
        if (self.lambda_vgg_perceptual > 0 or self.lambda_vgg_style > 0) and not vgg16_weights_path().is_file():
            raise MissingWeightsError(vgg16_unavailable_message("losses.lambda_vgg_perceptual / lambda_vgg_style"),
                                      vgg16_weights_path())

    def check_without_discriminator(self) -> None:
        """Training without a discriminator: refuse every term that needs one (a clear error, not a silent 0)."""
        needs_d = {"lambda_adv": self.lambda_adv, "lambda_feature_matching": self.lambda_feature_matching,
                   "r1_gamma": self.r1_gamma, "gradient_penalty": self.gradient_penalty}
        used = [name for name, value in needs_d.items() if value > 0] + (
            ["mask_as_fake_target"] if self.mask_as_fake_target else []) + (
            ["level_weights"] if self.level_weights else [])
        if used:
            raise ValueError(f"model.discriminator is null (no adversarial training) but losses set {', '.join(used)}, "
                             "which need a discriminator; set them to 0 (lambda_adv: 0) or give a discriminator")

    @classmethod
    def from_preset(cls, name: str) -> LossConfig:
        """The named loss preset (``paper``, ``official``, ``official_exact``) of :data:`LOSS_PRESETS`."""
        if name not in LOSS_PRESETS:
            raise UserInputError(f"unknown loss preset {name!r}; choose one of {sorted(LOSS_PRESETS)}")
        return LOSS_PRESETS[name]


#: the paper's choices (Eq. 13–16): non-saturating BCE, plain L1, λ 1 / 0.1 / 1.
PAPER_LOSSES = LossConfig()
#: the authors' code: hinge + 5:1 hole/known weighted L1 for both L1 terms (docs/deviations.md).
OFFICIAL_LOSSES = LossConfig(adversarial="hinge", hole_weight=5.0, aux_hole_weight=5.0)
#: the loss half of each run preset (``preset: <name>`` selects it as ``model.losses: <name>``).
LOSS_PRESETS: dict[str, LossConfig] = {
    "paper": PAPER_LOSSES, "official": OFFICIAL_LOSSES, "official_exact": OFFICIAL_LOSSES,  # exact = the same losses
}


def loss_summary(losses: LossConfig, adversarial: bool, edge_head: bool) -> str:
    """The objective a run trains, as one line of weighted terms (the leaderboard's "loss" column), e.g.
    ``1 L1 + 1 edge L1 + 0.1 BCE GAN``; ``adversarial`` / ``edge_head``: whether the run has a discriminator and the
    generator an edge head (without them those terms are not trained, whatever their weights say)."""
    distance = losses.reconstruction_distance.upper()
    rec = f"{losses.lambda_rec:g} {distance}"
    if losses.hole_weight != losses.valid_weight:
        rec += f" (hole {losses.hole_weight:g} : known {losses.valid_weight:g})"
    if losses.l1_normalize != "none":
        rec += f" (normalised: {losses.l1_normalize})"
    terms = [rec]
    weighted = (("lambda_coarse", f"coarse {distance}"), ("lambda_pyramid", "side-output L1"),
                ("lambda_vgg_perceptual", "VGG perceptual"), ("lambda_vgg_style", "VGG style"), ("lambda_tv", "TV"))
    terms += [f"{getattr(losses, name):g} {label}" for name, label in weighted if getattr(losses, name) > 0]
    if edge_head and losses.lambda_aux > 0:
        terms.append(f"{losses.lambda_aux:g} edge L1")
    if adversarial and losses.lambda_adv > 0:
        judged = " on the output" if losses.discriminator_input == "output" else ""
        kind = {"bce": "BCE", "hinge": "hinge", "wgan": "WGAN"}[losses.adversarial]
        terms.append(f"{losses.lambda_adv:g} {kind} GAN{judged}")
        extras = (("lambda_feature_matching", "feature matching"), ("r1_gamma", "R1"),
                  ("gradient_penalty", "gradient penalty"))
        terms += [f"{getattr(losses, name):g} {label}" for name, label in extras if getattr(losses, name) > 0]
    text = " + ".join(terms)
    if losses.level_weights:
        text += f", levels weighted {' / '.join(f'{w:g}' for w in losses.level_weights)}"
    return text


def masked_l1(
    prediction: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    hole_weight: float = 1.0,
    valid_weight: float = 1.0,
    normalize: L1Normalization = "none",
    distance: Distance = "l1",
) -> torch.Tensor:
    """Hole/known weighted L1: ``hole_weight·mean(|p−t|·(1−M)) + valid_weight·mean(|p−t|·M)`` (``distance="mse"``:
    squared errors instead, seed 004's reading of the PConv valid/hole terms).

    Both means run over *all* elements (not just the hole ones), as in the official code, so weights 1 : 1 give
    the plain mean absolute error of Eq. 13. ``mask`` is B×1×H×W with 1 = known and broadcasts over channels.
    ``normalize`` divides the hole term by the batch's hole fraction mean(1−M) and/or the known term by mean(M)
    (``"both"``: PEN-Net; ``"known"``: HiFill), turning them into means over hole / known pixels.
    """
    if prediction.shape != target.shape:
        raise ValueError(f"masked_l1: prediction {tuple(prediction.shape)} and target {tuple(target.shape)} differ")
    error = (prediction.float() - target.float()).abs()  # fp32 means also under bf16/fp16 autocast
    if distance == "mse":
        error = error.square()
    if hole_weight == valid_weight and normalize == "none":  # the plain mean, without the mask products
        return hole_weight * error.mean()
    known = mask.to(error.dtype).expand_as(error)
    hole_term = (error * (1.0 - known)).mean()
    known_term = (error * known).mean()
    # a batch without holes (or without known pixels) has a zero term: divide by a floor, not by 0
    if normalize == "both":
        hole_term = hole_term / (1.0 - known).mean().clamp_min(1e-8)
    if normalize in ("both", "known"):
        known_term = known_term / known.mean().clamp_min(1e-8)
    return hole_weight * hole_term + valid_weight * known_term


def logit_grid_known(mask: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """The known-mask (1 = known) resized to the logits' grid with nearest sampling, as LaMa resizes its mask."""
    if logits.dim() != 4:
        raise ValueError(f"losses.mask_as_fake_target needs spatial logits B×1×h×w from D, got shape "
                         f"{tuple(logits.shape)} (a global critic has no per-pixel target)")
    return F.interpolate(mask.to(logits.dtype), size=logits.shape[-2:], mode="nearest")


#: per-logit D terms (towards "real", towards "fake", overall scale): softplus(∓x) = BCE with target 1 / 0.
_LOGIT_TERMS = {
    "bce": (lambda x: F.softplus(-x), F.softplus, 1.0),
    "hinge": (lambda x: F.relu(1.0 - x), lambda x: F.relu(1.0 + x), 0.5),
}


@float32_island
def discriminator_loss(
    real_logits: torch.Tensor,
    fake_logits: torch.Tensor,
    kind: AdversarialKind,
    fake_known: torch.Tensor | None = None,
) -> torch.Tensor:
    """The discriminator's loss on real and (detached) fake logits.

    ``bce``: ``−E log σ(D(real)) − E log(1 − σ(D(fake)))`` (paper, below Eq. 15).
    ``hinge``: ``½[E relu(1 − D(real)) + E relu(1 + D(fake))]`` (as the official code computes it; docs/deviations.md).
    ``wgan``: ``E D(fake) − E D(real)`` (a critic; add :func:`gradient_penalty`).
    ``fake_known`` (logit grid, 1 = known, :func:`logit_grid_known`): LaMa's mask-as-fake target — a fake logit
    over known pixels takes the *real* term instead of the fake one.
    """
    real_logits, fake_logits = real_logits.float(), fake_logits.float()
    if kind == "wgan":
        if fake_known is not None:
            raise ValueError("a Wasserstein critic has no per-logit target for mask_as_fake_target")
        return fake_logits.mean() - real_logits.mean()
    if kind not in _LOGIT_TERMS:
        raise ValueError(f"unknown adversarial loss {kind!r}; use 'bce', 'hinge' or 'wgan'")
    as_real, as_fake, scale = _LOGIT_TERMS[kind]
    fake_term = as_fake(fake_logits)
    if fake_known is not None:
        known = fake_known.to(fake_logits.dtype).expand_as(fake_logits)
        fake_term = (1.0 - known) * fake_term + known * as_real(fake_logits)
    return scale * (as_real(real_logits).mean() + fake_term.mean())


def gradient_penalty(discriminator: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                     fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017) as HiFill uses it: ``mean_b (‖∇_x̂ D(x̂)_b‖₂ − 1)²`` at
    x̂ = real + ε·(fake − real), ε ~ U(0, 1) per sample; the graph is kept so it back-propagates into D."""
    epsilon = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    mixed = (real.detach() + epsilon * (fake.detach() - real.detach())).requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(mixed).float().sum(), mixed, create_graph=True)
    return (grad.float().flatten(1).norm(dim=1) - 1.0).pow(2).mean()


def generator_adversarial_loss(fake_logits: torch.Tensor, kind: AdversarialKind) -> torch.Tensor:
    """The generator's adversarial term: ``−E log σ(D(fake))`` (Eq. 15, non-saturating) or ``−E D(fake)`` (hinge,
    wgan)."""
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    if kind in ("hinge", "wgan"):
        return -fake_logits.float().mean()
    raise ValueError(f"unknown adversarial loss {kind!r}; use 'bce', 'hinge' or 'wgan'")


RESNET_PL_WEIGHTS = "ade20k/ade20k-resnet50dilated-ppm_deepsup/encoder_epoch_20.pth"  # LaMa's ResNet-PL encoder


def perceptual_unavailable_message() -> str:
    """Why LaMa's perceptual loss cannot be used, and what would be needed."""
    import os

    folder = os.environ.get("TORCH_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "torch")
    return (
        "losses.lambda_perceptual: n/a — LaMa's ResNet-PL perceptual loss needs the ADE20k-pretrained ResNet50-dilated "
        f"encoder weights '{RESNET_PL_WEIGHTS}' inside '{folder}' (TORCH_HOME), which cannot be downloaded here, and "
        "the suite does not implement that loss network; set lambda_perceptual: 0 (use lambda_feature_matching / "
        "r1_gamma for LaMa's other terms)"
    )


def pyramid_l1(extras: dict[str, torch.Tensor], target: torch.Tensor) -> torch.Tensor:
    """PEN-Net's pyramid loss: ``Σ_l mean|img_l − resize(target, size_l)|`` over ``extras["pyramid_*"]``.

    The ground truth is resized to each side output with area averaging (``adaptive_avg_pool``-style downsampling,
    exact for the power-of-two scales of PEN-Net's pyramid); whole image, no mask, as in PEN-Net.
    """
    sides = {k: v for k, v in sorted(extras.items()) if k.startswith("pyramid_")}
    if not sides:
        raise ValueError(
            f"losses.lambda_pyramid > 0 but the generator returned no extras['pyramid_*'] side outputs "
            f"(extras: {sorted(extras)}); use it with PEN-Net style generators or set lambda_pyramid: 0"
        )
    total = torch.zeros((), device=target.device, dtype=torch.float32)
    for name, side in sides.items():
        if side.shape[1] != target.shape[1]:
            raise ValueError(f"extras[{name!r}] has {side.shape[1]} channels, the target {target.shape[1]}")
        resized = F.interpolate(target.float(), size=side.shape[-2:], mode="area")
        total = total + (side.float() - resized).abs().mean()
    return total


def feature_matching_loss(fake_features: list[torch.Tensor], real_features: list[torch.Tensor]) -> torch.Tensor:
    """LaMa's discriminator feature matching: mean over layers of ``MSE(D_k(fake), D_k(real).detach())``."""
    if len(fake_features) != len(real_features) or not fake_features:
        raise ValueError(f"feature matching needs the same non-zero number of feature maps, got "
                         f"{len(fake_features)} fake and {len(real_features)} real")
    terms = [F.mse_loss(f.float(), r.detach().float()) for f, r in zip(fake_features, real_features)]
    return torch.stack(terms).mean()


def r1_penalty(real_logits: torch.Tensor, real_images: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018) as LaMa computes it: ``mean_b ‖∇_x ΣD(x)‖²_b`` w.r.t. the real images.

    ``real_images`` must require grad and ``real_logits`` must be computed from them; the graph is kept so the
    penalty can be back-propagated into D.
    """
    if not real_images.requires_grad:
        raise ValueError("r1_penalty: real_images must require grad (call .requires_grad_() before D's forward)")
    (grad,) = torch.autograd.grad(real_logits.float().sum(), real_images, create_graph=True)
    return grad.float().pow(2).flatten(1).sum(dim=1).mean()


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Liu et al.'s normalised Gram matrix of B×C×H×W features: ``F·Fᵀ / (C·H·W)``, B×C×C."""
    b, c, h, w = features.shape
    flat = features.float().reshape(b, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


def perceptual_loss(fake: list[torch.Tensor], real: list[torch.Tensor]) -> torch.Tensor:
    """Σ_p mean|Ψ_p(fake) − Ψ_p(real)| over the loss network's pools (Liu et al.'s L_perceptual for one image)."""
    return torch.stack([(f.float() - r.float()).abs().mean() for f, r in zip(fake, real)]).sum()


def style_loss(fake: list[torch.Tensor], real: list[torch.Tensor]) -> torch.Tensor:
    """Σ_p mean|G(Ψ_p(fake)) − G(Ψ_p(real))| with :func:`gram_matrix` (the mean is Liu et al.'s 1/C_p² scaling)."""
    return torch.stack([(gram_matrix(f) - gram_matrix(r)).abs().mean() for f, r in zip(fake, real)]).sum()


def hole_tv_loss(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Liu et al.'s total variation: |horizontal| + |vertical| neighbour differences of ``image`` over the pairs that
    both lie in P, the hole dilated by one pixel (3×3), each sum divided by the image's element count."""
    hole = 1.0 - mask.float()
    region = (F.max_pool2d(hole, 3, stride=1, padding=1) > 0.5).float()
    x = image.float()
    horizontal = (x[..., :, 1:] - x[..., :, :-1]).abs() * (region[..., :, 1:] * region[..., :, :-1])
    vertical = (x[..., 1:, :] - x[..., :-1, :]).abs() * (region[..., 1:, :] * region[..., :-1, :])
    return (horizontal.sum() + vertical.sum()) / x.numel()


@float32_island
def generator_losses(
    config: LossConfig,
    output: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    fake_logits: torch.Tensor | None,
    edge_prediction: torch.Tensor | None = None,
    edge_target: torch.Tensor | None = None,
    extras: dict[str, torch.Tensor] | None = None,
    fake_features: list[torch.Tensor] | None = None,
    real_features: list[torch.Tensor] | None = None,
) -> dict[str, torch.Tensor]:
    """All generator terms and their Eq. 16 total.

    Returns a dict with ``rec``, ``adv``, ``aux`` (zero when the generator has no edge head) and ``total``, plus
    ``pyramid`` / ``fm`` / ``coarse`` / ``vgg_perceptual`` / ``vgg_style`` / ``tv`` when the host-loss options
    ``lambda_pyramid`` / ``lambda_feature_matching`` / ``lambda_coarse`` / ``lambda_vgg_*`` / ``lambda_tv`` are on
    (they need ``extras`` / the discriminator's ``fake_features`` and ``real_features``).
    ``output`` is the raw generator output (Eq. 13 compares I_out, not the composite); ``fake_logits`` are D's
    logits on its fake input (see ``LossConfig.discriminator_input``), None when training without a discriminator
    (``adv`` is then 0).
    """
    rec = masked_l1(output, target, mask, config.hole_weight, config.valid_weight, config.l1_normalize,
                    config.reconstruction_distance)
    # no discriminator (a reconstruction-only model): no adversarial term
    adv = (generator_adversarial_loss(fake_logits, config.adversarial) if fake_logits is not None
           else torch.zeros((), device=output.device, dtype=rec.dtype))
    if edge_prediction is not None:
        if edge_target is None:
            raise ValueError("the generator predicts edges but the batch has no 'edge' map for the auxiliary loss")
        aux = masked_l1(edge_prediction, edge_target.to(edge_prediction.dtype), mask, config.aux_hole_weight,
                        config.aux_valid_weight)
    else:
        aux = torch.zeros((), device=output.device, dtype=rec.dtype)
    total = config.lambda_rec * rec + config.lambda_adv * adv + config.lambda_aux * aux
    terms = {"rec": rec, "adv": adv, "aux": aux}
    if config.lambda_pyramid > 0:
        terms["pyramid"] = pyramid_l1(extras or {}, target)
        total = total + config.lambda_pyramid * terms["pyramid"]
    if config.lambda_feature_matching > 0:
        if fake_features is None or real_features is None:
            raise ValueError("losses.lambda_feature_matching > 0 needs the discriminator's feature maps "
                             "(a discriminator with forward_features, e.g. NLayerDiscriminator)")
        terms["fm"] = feature_matching_loss(fake_features, real_features)
        total = total + config.lambda_feature_matching * terms["fm"]
    if config.lambda_coarse > 0:
        coarse = (extras or {}).get("coarse")
        if coarse is None:
            raise ValueError(f"losses.lambda_coarse > 0 but the generator returned no extras['coarse'] (extras: "
                             f"{sorted(extras or {})}); use it with HiFill (keep_coarse: true) or set lambda_coarse: 0")
        terms["coarse"] = masked_l1(coarse, target, mask, config.hole_weight, config.valid_weight, config.l1_normalize,
                                    config.reconstruction_distance)
        total = total + config.lambda_coarse * terms["coarse"]
    if config.lambda_vgg_perceptual > 0 or config.lambda_vgg_style > 0:
        merged = composite(target, output, mask)
        net = vgg16_pools(str(output.device))
        with torch.no_grad():
            real = net(target)
        fakes = [net(output), net(merged)]  # Liu et al.: both the output and the composite
        for name, weight, term in (("vgg_perceptual", config.lambda_vgg_perceptual, perceptual_loss),
                                   ("vgg_style", config.lambda_vgg_style, style_loss)):
            if weight > 0:
                terms[name] = sum(term(fake, real) for fake in fakes)
                total = total + weight * terms[name]
    if config.lambda_tv > 0:
        terms["tv"] = hole_tv_loss(composite(target, output, mask), mask)
        total = total + config.lambda_tv * terms["tv"]
    return {**terms, "total": total}
