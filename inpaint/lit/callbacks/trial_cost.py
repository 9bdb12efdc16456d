"""What a run cost, measured in the run itself so a study stores it with the trial (the ``compare`` leaderboard):
parameters and MACs of the evaluated generator at the test resolution, inference time per image at batch 1, training
seconds per step, and the objective it trained.

* Params / MACs: :func:`inpaint.models.complexity.model_info` on the first test image — the numbers ``inpaint info``
  prints for the inference network (without TSGL's auxiliary edge decoder D_S).
* Inference: median of ``repeats`` forwards of that image (batch 1, no grad, eval mode) after ``warmup`` untimed ones,
  on the run's device and threads; the device is named (:func:`device_label`) and the load average kept, because a
  sweep's workers share the machine.
* Training: fit wall time (start to end of ``trainer.fit``: steps, data loading, validation) / steps, and the
  precision it trained in; None with a note for a model with nothing to train (its fit is skipped).
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer

from inpaint.lit.gan_step import generator_inputs
from inpaint.lit.machine import device_label
from inpaint.lit.module import nothing_to_train
from inpaint.losses import loss_summary
from inpaint.models.complexity import inference_complexity, model_info


class TrialCost(Callback):
    """Measures a run's cost (module docstring); :meth:`cost` and :attr:`loss` after ``trainer.test``."""

    def __init__(self, repeats: int = 10, warmup: int = 2) -> None:
        if repeats < 1 or warmup < 0:
            raise ValueError(f"need repeats >= 1 and warmup >= 0, got {repeats} and {warmup}")
        self.repeats, self.warmup = repeats, warmup
        self._fit_started: float | None = None
        self._sample: dict[str, Any] | None = None
        self._cost: dict[str, Any] = {"train_s_per_step": None, "train_steps": None, "fit_wall_s": None,
                                      "train_note": "fit did not run"}
        self.loss: str | None = None

    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._fit_started = time.perf_counter()
        self._cost["precision"] = str(trainer.precision)  # what trained (inpaint.lit.precision), not what was asked

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self._fit_started is None:
            return
        wall, steps = time.perf_counter() - self._fit_started, int(trainer.global_step)
        self._cost.update(fit_wall_s=round(wall, 3), train_steps=steps, train_note=None,
                          train_s_per_step=round(wall / steps, 4) if steps else None)

    def on_test_batch_start(self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int,
                            dataloader_idx: int = 0) -> None:
        if self._sample is None and dataloader_idx == 0:  # the first image of the main test set
            self._sample = {k: v[:1] if isinstance(v, torch.Tensor) else v for k, v in batch.items()}

    def on_test_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self._sample is None:
            self._cost["measure_note"] = "the test stage saw no image: nothing measured"
            return
        untrainable = nothing_to_train(pl_module.generator)
        if untrainable is not None:
            self._cost.update(train_note="nothing to train (fit skipped)")
        # The test loop's inference mode is still on here; spectral-norm parametrisations cannot run in it under the
        # MAC counter, and its tensors must be cloned outside it to be used there.
        with torch.inference_mode(False):
            try:
                self._measure(pl_module, untrainable is not None)
            except Exception as err:  # a finished trial keeps its metrics; the report shows the reason
                self._cost["measure_note"] = f"not measured: {type(err).__name__}: {err}"

    def _measure(self, pl_module: LightningModule, untrainable: bool) -> None:
        assert self._sample is not None
        sample = {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in self._sample.items()}
        generator = pl_module.eval_generator
        inputs = generator_inputs(sample)
        height, width = (int(s) for s in sample["image"].shape[-2:])
        info = model_info(generator, height, width, inputs=inputs)
        params, macs = inference_complexity(info)
        ms, edge = self._time_forward(generator, inputs)
        discriminator = getattr(pl_module, "discriminator", None)
        losses = getattr(pl_module, "losses", None)
        self.loss = "none (nothing to train)" if untrainable or losses is None else loss_summary(
            losses, adversarial=discriminator is not None, edge_head=edge)
        device = sample["image"].device
        self._cost.update(resolution=[height, width], params=int(params), macs=int(macs),
                          inference_ms_per_image=round(ms, 3), inference_repeats=self.repeats,
                          inference_warmup=self.warmup, device=device_label(device), threads=torch.get_num_threads(),
                          load_average_1min=round(os.getloadavg()[0], 2))

    def _time_forward(self, generator: torch.nn.Module, inputs: dict[str, Any]) -> tuple[float, bool]:
        """Median milliseconds of one batch-1 forward, and whether the generator predicts an edge map."""
        device = inputs["image"].device
        was_training = generator.training
        generator.eval()
        times = []
        try:
            with torch.no_grad():
                for index in range(self.warmup + self.repeats):
                    if device.type == "cuda":
                        torch.cuda.synchronize(device)
                    started = time.perf_counter()
                    out = generator(**inputs)
                    if device.type == "cuda":
                        torch.cuda.synchronize(device)
                    if index >= self.warmup:
                        times.append(time.perf_counter() - started)
        finally:
            generator.train(was_training)
        return 1000.0 * statistics.median(times), getattr(out, "edge", None) is not None

    def cost(self) -> dict[str, Any]:
        """The measured numbers (a JSON-ready dict); fields of stages that did not run are None with a note."""
        return dict(self._cost)
