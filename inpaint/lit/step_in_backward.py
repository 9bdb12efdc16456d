"""Stepping an optimiser inside backward: each parameter is updated as soon as its gradient is complete, and the
gradient is freed right after, so the step never holds the whole model's gradients at once.

At paper widths the TSGL generator has 163 M parameters: its gradients are 653 MB that a plain step keeps alive from
the end of backward to ``optimizer.step()``, exactly when the rest of the step's memory (Adam's moments, the stored
activations still in use) peaks. Here a hook on every parameter (``register_post_accumulate_grad_hook``) runs the
optimiser the moment autograd has accumulated that parameter's gradient. Because the gradients were set to None
before backward and each one is freed after its update, the parameter being hooked is the only one with a
gradient, so the optimiser's ordinary ``step()`` updates exactly that parameter, with its own state, learning rate
and kernel (the same fused Adam as the plain path: same numbers, tested bit for bit). The later ``step()`` of the
training loop then finds no gradient and changes nothing, but still counts as the iteration's step.

The hooks act only while :meth:`StepInBackward.armed` is entered — the generator's backward of the GAN step — so
any other backward through the same parameters (an analysis, a test) leaves the weights alone. What this excludes,
and :func:`refusal` names: clipping by the global gradient norm (it needs every gradient before any update),
gradient scaling (16-bit mixed precision unscales all gradients first) and data-parallel training (the gradients
are averaged across processes after they are accumulated here).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


class StepInBackward:
    """Run ``optimizer.step()`` for each of its parameters as soon as backward has accumulated that parameter's
    gradient (while :meth:`armed`), and free the gradient."""

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.optimizer = optimizer
        self._armed = False
        self.steps_in_backward = 0  # parameter updates made inside backward since construction (for tests, logs)
        params = [p for group in optimizer.param_groups for p in group["params"]]
        self._handles = [p.register_post_accumulate_grad_hook(self._update) for p in params]

    def _update(self, param: torch.Tensor) -> None:
        if not self._armed:
            return
        # The gradients were None when backward began and each is freed after its update: only ``param`` has one.
        self.optimizer.step()
        param.grad = None
        self.steps_in_backward += 1

    @contextmanager
    def armed(self) -> Iterator[None]:
        """Parameters reached by a backward inside this block are updated in that backward."""
        self._armed = True
        try:
            yield
        finally:
            self._armed = False

    def remove(self) -> None:
        """Take the hooks off the parameters (before the optimiser is replaced)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []


def refusal(gradient_clip_val: float | None, precision: str | None = None, world_size: int = 1) -> str | None:
    """Why stepping in backward cannot run with these settings (one line), or None when it can."""
    if gradient_clip_val is not None:
        return ("model.step_in_backward cannot be combined with model.gradient_clip_val: clipping by the global norm "
                "needs every gradient before the first update")
    if precision is not None and str(precision).startswith("16"):
        return (f"model.step_in_backward cannot run with trainer.precision={precision}: its gradient scaler unscales "
                "all gradients before any update; use 32-true or bf16-mixed")
    if world_size > 1:
        return (f"model.step_in_backward runs on one process only (this run has {world_size}): data-parallel "
                "training averages the gradients after they are accumulated")
    return None


__all__ = ["StepInBackward", "refusal"]
