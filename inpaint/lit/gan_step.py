"""One adversarial training iteration (paper Sec. III-C, Eq. 15–16), shared by training and ``inpaint bench``.

:func:`gan_training_step` is the whole iteration in the official code's order:

1. one generator forward; D judges the composite ``I_gt·M + I_out·(1−M)`` (or the raw output, Eq. 15's I_out);
2. discriminator step on real images vs the *detached* fake, with the optional R1 / gradient-penalty terms;
3. generator step with ``λ_r·L_rec + λ_adv·L_adv^G + λ_aux·L_aux`` (Eq. 16, :func:`inpaint.losses.generator_losses`)
   against the updated discriminator, frozen while G steps.

A pyramid generator with one discriminator per level (seed 002) runs steps 1–3 on every level and weights the
levels' generator losses (:mod:`inpaint.lit.levels`); one discriminator optimiser holds all of them.

What differs between a Lightning run and a plain-PyTorch timing loop (backward, freezing, clipping, the non-finite
guard, Lightning's step counting, memory format) goes through :class:`StepHooks`; :func:`plain_hooks` gives the
plain-PyTorch ones. EMA and learning-rate schedules stay with the caller: they follow the iteration, not part of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from inpaint.conventions import composite
from inpaint.errors import UserInputError
from inpaint.lit.levels import JudgedLevel, judged_levels, weighted_terms
from inpaint.lit.nan_guard import NonFiniteLossError, first_non_finite
from inpaint.losses import (
    LossConfig,
    discriminator_loss,
    generator_losses,
    gradient_penalty,
    logit_grid_known,
    r1_penalty,
)
from inpaint.models.discriminators import discriminator_features
from inpaint.nn.float32 import outside_autocast

PRIOR_KEYS = ("edge", "gray", "smooth")


def _identity(tensor: torch.Tensor) -> torch.Tensor:
    return tensor


def _no_op(_: Any) -> None:
    return None


@dataclass(frozen=True)
class StepHooks:
    """The framework-specific parts of one iteration.

    Attributes:
        backward: ``loss → None``; Lightning's ``manual_backward`` (precision plugins, strategies) or ``loss.backward``.
        toggle: make only this optimiser's parameters trainable (the other network frozen).
        untoggle: undo :attr:`toggle`.
        clip: clip this optimiser's gradients (after backward, before ``step``).
        guard: raise on a non-finite loss among ``{name: loss}`` before any weight changes.
        before_discriminator_step: called with the D optimiser before its step (Lightning: do not count it as an
            iteration).
        memory_format: applied to every image tensor that enters a network (e.g. channels_last).
        generator_backward: the context the generator's backward runs in (``StepInBackward.armed``: each generator
            parameter is updated inside that backward, :mod:`inpaint.lit.step_in_backward`).
    """

    backward: Callable[[torch.Tensor], None] = torch.Tensor.backward
    toggle: Callable[[torch.optim.Optimizer], None] = _no_op
    untoggle: Callable[[torch.optim.Optimizer], None] = _no_op
    clip: Callable[[torch.optim.Optimizer], None] = _no_op
    guard: Callable[[Mapping[str, torch.Tensor]], None] = _no_op
    before_discriminator_step: Callable[[torch.optim.Optimizer], None] = _no_op
    memory_format: Callable[[torch.Tensor], torch.Tensor] = _identity
    generator_backward: Callable[[], AbstractContextManager[Any]] = nullcontext


@dataclass
class StepResult:
    """Losses and diagnostics of one iteration (tensors still attached where the caller logs ``.detach()``)."""

    loss_d: torch.Tensor | None  # None without a discriminator
    generator_terms: dict[str, torch.Tensor]  # generator_losses(): total, rec, adv, aux and the optional terms
    real_logits: torch.Tensor | None  # the top level's; None without a discriminator
    fake_logits: torch.Tensor | None
    discriminator_terms: dict[str, torch.Tensor] = field(default_factory=dict)  # "r1" / "gp" when enabled


def _backward(hooks: StepHooks, loss: torch.Tensor) -> None:
    """``hooks.backward(loss)`` outside autocast: under ``bf16-mixed`` the step runs inside Lightning's autocast
    region, which on the CPU would also cast the float32 islands' backward matmuls to bf16
    (:func:`inpaint.nn.float32.outside_autocast`). Without autocast this is the plain call."""
    with outside_autocast(loss.device.type):
        hooks.backward(loss)


def generator_inputs(batch: Mapping[str, Any],
                     memory_format: Callable[[torch.Tensor], torch.Tensor] = _identity
                     ) -> dict[str, torch.Tensor | None]:
    """Keyword inputs of the generator contract from a batch; missing priors become ``None``."""
    inputs = {"image": memory_format(batch["image"]), "mask": memory_format(batch["mask"])}
    for key in PRIOR_KEYS:
        value = batch.get(key)
        inputs[key] = memory_format(value) if isinstance(value, torch.Tensor) else None
    structure = batch.get("structure")  # a Table VIII prior: only TSGL-encoder generators built for it take it
    if isinstance(structure, torch.Tensor):
        inputs["structure"] = memory_format(structure)
    return inputs


def check_structure_prior(generator: nn.Module, batch: Mapping[str, Any]) -> None:
    """Refuse a batch whose structure prior (Table VIII, ``batch["structure_prior"]``; none = ``canny_gray``) is not
    the one ``generator`` was built for (its ``structure_prior``; a generator without one takes ``canny_gray``).
    A hand-made batch with ``structure`` maps but no name passes (the encoder still checks their channels)."""
    names = batch.get("structure_prior")
    if names is None and isinstance(batch.get("structure"), torch.Tensor):
        return
    data = "canny_gray" if names is None else (names if isinstance(names, str) else str(list(names)[0]))
    model = getattr(generator, "structure_prior", "canny_gray")
    if data != model:
        raise UserInputError(f"the data's structure_prior is {data!r} but the generator was built for {model!r}; set "
                             "data.init_args.structure_prior and the generator's encoder_options.structure_prior alike")


def gan_training_step(
    generator: nn.Module,
    discriminator: nn.Module | None,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer | None,
    losses: LossConfig,
    batch: Mapping[str, Any],
    hooks: StepHooks = StepHooks(),
) -> StepResult:
    """One D step then one G step on ``batch`` (keys ``image``, ``mask`` and optional ``edge``/``gray``/``smooth``).

    Without a discriminator (``discriminator`` and ``opt_d`` None: a reconstruction-only model such as the PConv
    U-Net) the D step is skipped and the G step has no adversarial term.
    """
    fmt = hooks.memory_format
    check_structure_prior(generator, batch)
    # (1) one generator forward; D judges the composite (official code) or the raw output (Eq. 15's I_out) of each
    # level: the output alone, or every level of a pyramid generator with its own discriminator (inpaint.lit.levels).
    out = generator(**generator_inputs(batch, fmt))
    levels = judged_levels(discriminator, out, batch, losses)
    judged = [composite(level.real, level.output, level.known) if losses.discriminator_input == "composite"
              else level.output for level in levels]

    # (2) discriminator(s): real vs the detached fake, G untouched; the levels' D losses add up.
    if discriminator is None or opt_d is None:
        return _generator_step(opt_g, losses, levels, judged, hooks, None, [], {})
    hooks.before_discriminator_step(opt_d)
    hooks.toggle(opt_d)
    d_losses: list[torch.Tensor] = []
    d_terms: dict[str, torch.Tensor] = {}
    logits: list[tuple[torch.Tensor, torch.Tensor]] = []
    for level, fake in zip(levels, judged):
        assert level.discriminator is not None
        real_input = fmt(level.real)
        if losses.r1_gamma > 0:  # LaMa's R1 needs the gradient of D w.r.t. the real images
            real_input = real_input.detach().requires_grad_(True)
        real_logits = level.discriminator(real_input)
        fake_input = fmt(fake.detach())
        fake_logits = level.discriminator(fake_input)
        # LaMa: logits over known pixels of the fake are trained towards "real"
        fake_known = logit_grid_known(level.known, fake_logits) if losses.mask_as_fake_target else None
        loss = discriminator_loss(real_logits, fake_logits, losses.adversarial, fake_known)
        if losses.r1_gamma > 0:
            r1 = r1_penalty(real_logits, real_input)
            loss = loss + losses.r1_gamma * r1
            d_terms["r1"] = d_terms["r1"] + r1.detach() if "r1" in d_terms else r1.detach()
        if losses.gradient_penalty > 0:  # HiFill's WGAN-GP
            gp = gradient_penalty(level.discriminator, real_input, fake_input)
            loss = loss + losses.gradient_penalty * gp
            d_terms["gp"] = d_terms["gp"] + gp.detach() if "gp" in d_terms else gp.detach()
        d_losses.append(loss)
        logits.append((real_logits, fake_logits))
    loss_d = d_losses[0] if len(d_losses) == 1 else torch.stack(d_losses).sum()
    hooks.guard({"d": loss_d})
    opt_d.zero_grad(set_to_none=True)
    _backward(hooks, loss_d)
    hooks.clip(opt_d)
    opt_d.step()
    hooks.untoggle(opt_d)

    return _generator_step(opt_g, losses, levels, judged, hooks, loss_d, logits, d_terms)


def _generator_step(opt_g: torch.optim.Optimizer, losses: LossConfig,
                    levels: list[JudgedLevel], judged: list[torch.Tensor], hooks: StepHooks,
                    loss_d: torch.Tensor | None, logits: list[tuple[torch.Tensor, torch.Tensor]],
                    d_terms: dict[str, torch.Tensor]) -> StepResult:
    """(3) generator: Eq. 16 against the updated (frozen) discriminator(s), Σ_n w_n·L_n over the levels."""
    fmt = hooks.memory_format
    hooks.toggle(opt_g)
    per_level = []
    for level, fake in zip(levels, judged):
        fake_features = real_features = None
        g_logits = None  # stays None without a discriminator: reconstruction only
        if level.discriminator is not None and losses.lambda_feature_matching > 0:  # LaMa's D feature matching
            g_logits, fake_features = discriminator_features(level.discriminator, fmt(fake))
            with torch.no_grad():
                real_features = discriminator_features(level.discriminator, fmt(level.real))[1]
        elif level.discriminator is not None:
            g_logits = level.discriminator(fmt(fake))
        per_level.append(generator_losses(losses, level.output, level.real, level.known, g_logits,
                                          level.edge_prediction, level.edge_target, extras=level.extras,
                                          fake_features=fake_features, real_features=real_features))
    terms = weighted_terms(levels, per_level)
    hooks.guard({"g_" + k: v for k, v in terms.items()})
    opt_g.zero_grad(set_to_none=True)
    with hooks.generator_backward():
        _backward(hooks, terms["total"])
    hooks.clip(opt_g)
    opt_g.step()
    hooks.untoggle(opt_g)
    real_logits, fake_logits = logits[-1] if logits else (None, None)  # the top level's, for logging
    return StepResult(loss_d, terms, real_logits, fake_logits, d_terms)


class _Freezer:
    """Plain-PyTorch counterpart of Lightning's toggle/untoggle: only one optimiser's parameters need grads."""

    def __init__(self, optimizers: Sequence[torch.optim.Optimizer]) -> None:
        self.params = [p for opt in optimizers for group in opt.param_groups for p in group["params"]]
        self.saved: dict[int, bool] = {}

    def toggle(self, optimizer: torch.optim.Optimizer) -> None:
        own = {id(p) for group in optimizer.param_groups for p in group["params"]}
        self.saved = {id(p): p.requires_grad for p in self.params}
        for p in self.params:
            if id(p) not in own:
                p.requires_grad_(False)

    def untoggle(self, optimizer: torch.optim.Optimizer) -> None:
        for p in self.params:
            p.requires_grad_(self.saved.get(id(p), p.requires_grad))
        self.saved = {}


def _raise_on_non_finite(losses: Mapping[str, torch.Tensor]) -> None:
    bad = first_non_finite(losses)
    if bad is not None:
        raise NonFiniteLossError(f"non-finite loss {bad!r}: {float(losses[bad])}")


def plain_hooks(opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer | None,
                gradient_clip_val: float | None = None,
                generator_backward: Callable[[], AbstractContextManager[Any]] = nullcontext) -> StepHooks:
    """Hooks for a step outside Lightning: ``loss.backward()``, freezing, norm clipping, the non-finite guard and
    the generator backward's context (see :class:`StepHooks`)."""
    freezer = _Freezer([opt for opt in (opt_g, opt_d) if opt is not None])

    def clip(optimizer: torch.optim.Optimizer) -> None:
        if gradient_clip_val is not None:
            params = [p for group in optimizer.param_groups for p in group["params"]]
            torch.nn.utils.clip_grad_norm_(params, gradient_clip_val)

    return StepHooks(toggle=freezer.toggle, untoggle=freezer.untoggle, clip=clip, guard=_raise_on_non_finite,
                     generator_backward=generator_backward)
