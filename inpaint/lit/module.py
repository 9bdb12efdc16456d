"""``InpaintingGAN``: the suite's one LightningModule for adversarial inpainting training (paper Sec. III-C), and for
reconstruction-only models without a discriminator (``discriminator=None``: one optimiser, no D step).

Manual optimisation with two Adam optimisers, in the authors' code's step order (docs/training.md):

1. one generator forward, composite ``I_gt·M + I_out·(1−M)``;
2. discriminator step on real images vs the *detached* composite;
3. generator step with ``λ_r·L_rec + λ_adv·L_adv^G(D(composite)) + λ_aux·L_aux`` (Eq. 16), D re-evaluated after
   its update and frozen while G steps.

The iteration itself is :func:`inpaint.lit.gan_step.gan_training_step` (``inpaint bench`` times the same function);
this module supplies Lightning's hooks and adds EMA, learning-rate schedules and logging.

Any generator following :mod:`inpaint.models.interface` and any discriminator returning logits plug in through the
typed ``generator`` / ``discriminator`` arguments (``class_path`` in YAML).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Literal

import numpy as np
import torch
from lightning.pytorch import LightningModule
from torch import nn

from inpaint.conventions import composite, hole_ratio, to_unit
from inpaint.errors import NothingToTrainError, UserInputError
from inpaint.lit import gan_step
from inpaint.lit.ema import ModelEMA
from inpaint.lit.gan_step import PRIOR_KEYS  # noqa: F401  (re-exported: the generator contract's prior keys)
from inpaint.lit.lightning_private import hyperparameters_being_saved, set_optimizer_step_hooks
from inpaint.lit.nan_guard import NonFiniteLossError, first_non_finite, non_finite_message
from inpaint.lit.step_in_backward import StepInBackward, refusal
from inpaint.losses import LossConfig
from inpaint.models.discriminators import NoDiscriminator
from inpaint.nn.recompute import enable_recompute


def module_spec(module: nn.Module) -> dict[str, Any]:
    """``{"class_path", "init_args"}`` for a module built outside the CLI (init args recorded when it exposes them)."""
    cls = type(module)
    init_args = getattr(module, "init_args", None)
    return {"class_path": f"{cls.__module__}.{cls.__qualname__}", "init_args": dict(init_args or {})}


def nothing_to_train(generator: nn.Module) -> str | None:
    """Why ``fit`` cannot train ``generator`` — it has no trainable parameters (the classical OpenCV inpainters) —
    as one line; None when it has something to train."""
    if any(p.requires_grad for p in generator.parameters()):
        return None
    name = getattr(generator, "model_name", type(generator).__name__)
    return (f"{name} has nothing to train (no trainable parameters); use test: inpaint test --config … scores it "
            "without a checkpoint (a sweep's fit+test runs its test stage only)")


def _built_by_cli() -> bool:
    """True while LightningCLI instantiates the module (it then supplies the config as hyper-parameters)."""
    return hyperparameters_being_saved() is not None


class StepDecay:
    """LR factor ``gamma^k`` where k counts the milestones (in optimiser steps) already passed; picklable."""

    def __init__(self, milestones: Sequence[int], gamma: float) -> None:
        self.milestones = sorted(int(m) for m in milestones)
        self.gamma = gamma

    def __call__(self, step: int) -> float:
        return self.gamma ** sum(step >= m for m in self.milestones)


class InpaintingGAN(LightningModule):
    """GAN training of an inpainting generator.

    Args:
        generator: an :class:`~inpaint.models.interface.InpaintGenerator` (``class_path`` in YAML).
        discriminator: a module mapping a B×3×H×W image in [-1, 1] to logits (a mask-conditioned one such as
            DeepFillv2's ``SNPatchGAN`` also gets the known-mask), or ``LevelDiscriminators``: one per level of a
            pyramid generator (:mod:`inpaint.lit.levels`), or ``None``: a reconstruction-only model (the PConv
            U-Nets) trained with one optimiser and no adversarial term (``losses.lambda_adv`` must be 0); configs
            say ``NoDiscriminator`` for it.
        losses: loss choices and the λ weights of Eq. 16 (paper: BCE, plain L1, 1 / 0.1 / 1), or the name of a
            preset whose ``loss`` part to use (``paper`` / ``official`` / ``official_exact``).
        lr_g: generator learning rate (paper 5e-4).
        lr_d: discriminator learning rate (paper 1e-4).
        betas: Adam betas for both (paper (0.5, 0.99)).
        lr_milestones: optional step decay: fractions of the whole run (e.g. ``[0.67]``) after which both LRs are
            multiplied by ``lr_gamma``. The paper gives no schedule; the official code's StepLR(3 epochs) is
            ``lr_step_epochs: 3``.
        lr_gamma: decay factor of the schedule.
        lr_step_epochs: decay every this many epochs (official code: 3) instead of at ``lr_milestones``.
        gradient_clip_val: clip each network's gradient norm to this value (None: no clipping).
        ema_decay: keep an exponential moving average of G with this decay and evaluate with it (None: off).
        channels_last: convert networks and inputs to channels_last memory format (faster convs on GPU).
        recompute_activations: keep only the inputs of the generator's heavy blocks (its ``recompute_blocks``) in the
            forward pass and recompute the rest in backward: less memory, one more forward of those blocks per step
            (:mod:`inpaint.nn.recompute`; same gradients).
        step_in_backward: update each generator parameter as soon as backward has its gradient and free that
            gradient (:mod:`inpaint.lit.step_in_backward`; same weights, bit for bit): the step never holds all of
            G's gradients. Not with ``gradient_clip_val``, 16-bit precision or several processes.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module | None,
        losses: LossConfig | Literal["paper", "official", "official_exact"] = LossConfig(),
        lr_g: float = 5e-4,
        lr_d: float = 1e-4,
        betas: tuple[float, float] = (0.5, 0.99),
        lr_milestones: list[float] | None = None,
        lr_gamma: float = 0.1,
        lr_step_epochs: int | None = None,
        gradient_clip_val: float | None = None,
        ema_decay: float | None = None,
        channels_last: bool = False,
        recompute_activations: bool = False,
        step_in_backward: bool = False,
    ) -> None:
        super().__init__()
        if step_in_backward and (reason := refusal(gradient_clip_val)) is not None:
            raise UserInputError(reason)
        if lr_milestones and lr_step_epochs:
            raise ValueError("set either model.lr_milestones or model.lr_step_epochs, not both")
        for fraction in lr_milestones or []:
            if not 0.0 < fraction < 1.0:
                raise ValueError(f"model.lr_milestones are fractions of the run in (0, 1); got {fraction!r}")
        if isinstance(losses, str):
            losses = LossConfig.from_preset(losses)
        elif isinstance(losses, dict):  # e.g. rebuilt from a checkpoint's hyper-parameters
            losses = LossConfig(**losses)
        if isinstance(discriminator, NoDiscriminator):  # a config's way of saying "none" (it composes with overlays)
            discriminator = None
        if discriminator is None:
            losses.check_without_discriminator()
        if _built_by_cli():
            self.save_hyperparameters()  # the CLI hands over the full config, class_paths included
        else:  # built in Python: record what can be recorded about the networks
            self.save_hyperparameters(ignore=["generator", "discriminator"])
            self.hparams["generator"] = module_spec(generator)
            self.hparams["discriminator"] = module_spec(discriminator) if discriminator is not None else None
        if dataclasses.is_dataclass(self.hparams.get("losses")):  # plain data, so checkpoints load weights_only
            self.hparams["losses"] = dataclasses.asdict(self.hparams["losses"])
        self.automatic_optimization = False
        self.generator = generator
        self.discriminator = discriminator
        self.losses = losses
        self.lr_g, self.lr_d, self.betas = lr_g, lr_d, tuple(betas)
        self.lr_milestones = list(lr_milestones or [])
        self.lr_gamma = lr_gamma
        self.lr_step_epochs = lr_step_epochs
        self.gradient_clip_val = gradient_clip_val
        self.channels_last = channels_last
        self.recomputed_blocks = enable_recompute(generator) if recompute_activations else []
        self.step_in_backward = step_in_backward
        self._generator_updates: StepInBackward | None = None  # made with the optimisers
        self.generator_ema = ModelEMA(generator, ema_decay) if ema_decay is not None else None
        self._pending_rng: dict[str, Any] | None = None

    # ------------------------------------------------------------------ helpers
    @property
    def eval_generator(self) -> nn.Module:
        """The generator used for validation/test/predict: the EMA copy when enabled."""
        return self.generator_ema.module if self.generator_ema is not None else self.generator

    def _memory_format(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.channels_last and tensor.dim() == 4:
            return tensor.contiguous(memory_format=torch.channels_last)
        return tensor

    def _generator_inputs(self, batch: dict[str, Any]) -> dict[str, torch.Tensor | None]:
        return gan_step.generator_inputs(batch, self._memory_format)

    def forward(self, batch: dict[str, Any]):
        """Run the evaluation generator on a batch; returns its :class:`GeneratorOutput`."""
        gan_step.check_structure_prior(self.eval_generator, batch)
        return self.eval_generator(**self._generator_inputs(batch))

    def setup(self, stage: str) -> None:
        if self.channels_last:
            self.to(memory_format=torch.channels_last)
        if self.step_in_backward and stage == "fit":
            reason = refusal(self.gradient_clip_val, str(self.trainer.precision), self.trainer.world_size)
            if reason is not None:
                raise UserInputError(reason)

    def generator_backward(self) -> AbstractContextManager[Any]:
        """The context of the generator's backward in the GAN step: with ``step_in_backward``, the one in which its
        parameters are updated (:class:`~inpaint.lit.step_in_backward.StepInBackward`)."""
        return self._generator_updates.armed() if self._generator_updates is not None else nullcontext()

    # ------------------------------------------------------------------ optimisation
    def configure_optimizers(self):
        reason = nothing_to_train(self.generator)
        if reason is not None:  # also guards trainer.fit called from Python (the CLI and runner refuse earlier)
            raise NothingToTrainError(reason)
        # fused: one kernel per step instead of ~6 per parameter tensor (≈ 5 % of a small CPU step, measured)
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=self.lr_g, betas=self.betas, fused=True)
        if self._generator_updates is not None:  # optimisers made again (a new fit): the old hooks go
            self._generator_updates.remove()
        self._generator_updates = StepInBackward(opt_g) if self.step_in_backward else None
        optimizers = [opt_g]
        if self.discriminator is not None:
            optimizers.append(torch.optim.Adam(self.discriminator.parameters(), lr=self.lr_d, betas=self.betas,
                                               fused=True))
        milestones: list[int] = []
        if self.lr_milestones:
            total = int(self.trainer.estimated_stepping_batches)
            milestones = [max(1, round(f * total)) for f in self.lr_milestones]
        elif self.lr_step_epochs:
            # Lightning configures optimisers before it builds the train loader (num_training_batches is inf until
            # then): build it now, as estimated_stepping_batches does.
            if self.trainer.train_dataloader is None:
                self.trainer.fit_loop.setup_data()
            per_epoch = max(1, int(self.trainer.num_training_batches))
            max_epochs = self.trainer.max_epochs if self.trainer.max_epochs and self.trainer.max_epochs > 0 else 1000
            milestones = [per_epoch * e for e in range(self.lr_step_epochs, max_epochs + 1, self.lr_step_epochs)]
        if not milestones:
            return optimizers
        schedulers = [torch.optim.lr_scheduler.LambdaLR(o, StepDecay(milestones, self.lr_gamma)) for o in optimizers]
        return optimizers, schedulers

    def _clip(self, optimizer) -> None:
        if self.gradient_clip_val is not None:
            self.clip_gradients(optimizer, gradient_clip_val=self.gradient_clip_val, gradient_clip_algorithm="norm")

    def _guard(self, losses: dict[str, torch.Tensor]) -> None:
        """Raise :class:`NonFiniteLossError` on every rank when any rank saw a non-finite loss."""
        bad = first_non_finite(losses)
        any_bad = self.trainer.strategy.reduce_boolean_decision(bad is not None, all=False)
        if any_bad:
            term = bad or next(iter(losses))
            ckpt_dir = None
            callback = getattr(self.trainer, "checkpoint_callback", None)
            if callback is not None:
                ckpt_dir = callback.dirpath
            raise NonFiniteLossError(non_finite_message(term, losses[term], self.global_step, ckpt_dir))

    def _do_not_count_steps_of(self, optimizer) -> None:
        """Make ``trainer.global_step`` count training iterations (G steps), not G + D optimiser steps.

        Lightning counts every ``optimizer.step()`` under manual optimisation, which would make ``max_steps``,
        ``checkpoint_every_n_steps`` and logged steps twice the number of iterations. The manual loop re-installs
        its counting hooks on every batch, so the D optimiser's hooks are replaced here, on every batch, by ones
        that only keep the profiler bracket.
        """
        profiler = self.trainer.profiler
        set_optimizer_step_hooks(optimizer, before=lambda: profiler.start("optimizer_step"),
                                 after=lambda: profiler.stop("optimizer_step"))

    def _step_hooks(self) -> gan_step.StepHooks:
        """Lightning's side of the shared GAN step: precision-aware backward, toggling, clipping, guard, counting."""
        return gan_step.StepHooks(
            backward=self.manual_backward, toggle=self.toggle_optimizer, untoggle=self.untoggle_optimizer,
            clip=self._clip, guard=self._guard, before_discriminator_step=self._do_not_count_steps_of,
            memory_format=self._memory_format, generator_backward=self.generator_backward,
        )

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        optimizers = self.optimizers()
        opt_g, opt_d = (optimizers, None) if self.discriminator is None else optimizers  # one optimiser: no D
        # module attribute lookup (not a from-import) so tests can spy on the one shared step function
        step = gan_step.gan_training_step(self.generator, self.discriminator, opt_g, opt_d, self.losses, batch,
                                          self._step_hooks())
        terms, loss_d = step.generator_terms, step.loss_d

        if self.generator_ema is not None:
            self.generator_ema.update(self.generator)
        schedulers = self.lr_schedulers()
        for scheduler in schedulers if isinstance(schedulers, list) else [schedulers] if schedulers else []:
            scheduler.step()

        batch_size = batch["image"].shape[0]
        adversarial = loss_d is not None and step.real_logits is not None and step.fake_logits is not None
        self.log_dict(
            {"train/loss_g": terms["total"].detach(), **({"train/loss_d": loss_d.detach()} if adversarial else {})},
            prog_bar=True, on_step=True, on_epoch=False, batch_size=batch_size,
        )
        self.log_dict(
            {
                "train/rec": terms["rec"].detach(),
                "train/adv": terms["adv"].detach(),
                "train/aux": terms["aux"].detach(),
                **({"train/d_real_logit": step.real_logits.detach().float().mean(),
                    "train/d_fake_logit": step.fake_logits.detach().float().mean()} if adversarial else {}),
                "train/lr_g": float(opt_g.param_groups[0]["lr"]),
                **{f"train/{k}": v for k, v in step.discriminator_terms.items()},
                **{f"train/{k}": terms[k].detach()
                   for k in ("pyramid", "fm", "coarse", "vgg_perceptual", "vgg_style", "tv") if k in terms},
                # a pyramid generator's levels (inpaint.lit.levels): rec_0, adv_0, rec_1, ...
                **{f"train/{k}": v.detach() for k, v in terms.items() if k[:4] in ("rec_", "adv_")},
            },
            on_step=True, on_epoch=False, batch_size=batch_size,
        )

    # ------------------------------------------------------------------ evaluation
    @torch.no_grad()
    def _evaluate(self, batch: dict[str, Any]) -> dict[str, Any]:
        image, mask = batch["image"], batch["mask"]
        out = self(batch)
        output = out.image.float().clamp(-1.0, 1.0)
        ratio = batch.get("hole_ratio")
        kinds = batch.get("mask_kind")
        result = {
            "output": output,
            "composite": composite(image.float(), output, mask),
            "target": image.float(),
            "mask": mask,
            "edge_prediction": out.edge,
            "id": list(batch.get("id", [])),
            "hole_ratio": ratio if isinstance(ratio, torch.Tensor) else hole_ratio(mask),
        }
        if kinds is not None:  # LaMa thin/medium/thick rows of the evaluation need the mask kind of every sample
            result["mask_kind"] = [str(k) for k in kinds]
        return result

    def _log_quick_metrics(self, result: dict[str, Any], prefix: str) -> None:
        """Cheap PSNR / L1 of the composite on [0, 1] float images (the real metrics live in the evaluation)."""
        target, comp = to_unit(result["target"]), to_unit(result["composite"]).clamp(0.0, 1.0)
        mse = (comp - target).pow(2).flatten(1).mean(1).clamp_min(1e-10)
        psnr = (10.0 * torch.log10(1.0 / mse)).mean()
        l1 = (comp - target).abs().mean()
        size = target.shape[0]
        # fixed names (no "/dataloader_idx_N" suffix): callers log them for their main evaluation set only
        self.log(f"{prefix}/psnr", psnr, prog_bar=prefix == "val", sync_dist=True, batch_size=size,
                 add_dataloader_idx=False)
        self.log(f"{prefix}/l1", l1, sync_dist=True, batch_size=size, add_dataloader_idx=False)

    def validation_step(self, batch: dict[str, Any], batch_idx: int, dataloader_idx: int = 0) -> dict[str, Any]:
        result = self._evaluate(batch)
        self._log_quick_metrics(result, "val")
        return result

    def test_step(self, batch: dict[str, Any], batch_idx: int, dataloader_idx: int = 0) -> dict[str, Any]:
        result = self._evaluate(batch)
        if dataloader_idx == 0:  # loader 1 (the LaMa kind set) is scored by the EvaluationWriter alone
            self._log_quick_metrics(result, "test")
        return result

    def predict_step(self, batch: dict[str, Any], batch_idx: int, dataloader_idx: int = 0) -> dict[str, Any]:
        return self._evaluate(batch)

    # ------------------------------------------------------------------ checkpoint extras
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # RNG states, stored as tensors / plain numbers so the file loads with weights_only=True.
        np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
        checkpoint["rng_states"] = {
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "numpy": {"keys": torch.from_numpy(np.asarray(np_keys, dtype=np.int64)), "pos": int(np_pos),
                      "has_gauss": int(np_has_gauss), "gauss": float(np_gauss)},
            "python": random.getstate(),
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self._pending_rng = checkpoint.get("rng_states")

    def on_train_start(self) -> None:
        # Restored here (not at load time) so loading a checkpoint for export/eval has no global side effects.
        states, self._pending_rng = self._pending_rng, None
        if not states:
            return
        torch.set_rng_state(states["torch"].cpu())
        if states.get("cuda") and torch.cuda.is_available() and len(states["cuda"]) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(states["cuda"])
        np_state = states["numpy"]
        np.random.set_state(("MT19937", np_state["keys"].numpy().astype(np.uint32), np_state["pos"],
                             np_state["has_gauss"], np_state["gauss"]))
        version, internal, gauss = states["python"]
        random.setstate((version, tuple(internal), gauss))
