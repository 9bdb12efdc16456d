"""Timing of a generator's inference forward and of the suite's real GAN training step (``inpaint bench``).

The timed step is :func:`inpaint.lit.gan_step.gan_training_step` — the function ``InpaintingGAN.training_step``
runs — on the pieces an ``InpaintingGAN`` builds (its optimisers, its :class:`~inpaint.losses.LossConfig`), with
plain-PyTorch hooks instead of Lightning's. So the step includes whatever the configured losses include (BCE or
hinge, the weighted L1s, the auxiliary edge loss when the generator has an edge head, R1 / feature matching when
enabled). Besides wall-clock medians it records the process CPU time per call and the load average, because the
machines are often shared. Peak memory is the process's peak RSS on CPU or ``torch.cuda.max_memory_allocated``
on GPU.

Two layout / compiler options, as a GPU run would use them: ``channels_last`` converts G, D and every image tensor
that enters them to channels-last, exactly as ``InpaintingGAN(channels_last=True)`` does in training (the ``gpu``
trainer profile); ``torch_compile`` wraps G and D in ``torch.compile`` in place (:func:`compile_networks`). The
warm-up calls are timed too: what they took beyond ``warmup`` steady calls is ``warmup_overhead_s`` — with
``torch_compile`` the compilation (``compile_s``), on a GPU also cuDNN's autotuning.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any, Literal

import torch

from inpaint.classpath import instantiate
from inpaint.lit import gan_step
from inpaint.lit.machine import device_label, peak_rss_mib
from inpaint.lit.memory_regions import MemoryRegions, memory_reader
from inpaint.lit.module import InpaintingGAN, nothing_to_train
from inpaint.lit.precision import autocast
from inpaint.losses import LossConfig
from inpaint.models.complexity import example_inputs, structure_prior_of
from inpaint.models.discriminators import PatchDiscriminator


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return peak_rss_mib()


def build_gan(class_path: str, init_args: dict[str, Any], losses: LossConfig | dict[str, Any] | str = "paper",
              discriminator: tuple[str, dict[str, Any]] | Literal["none"] | None = None,
              recompute_activations: bool = False, step_in_backward: bool = False,
              channels_last: bool = False) -> InpaintingGAN:
    """The ``InpaintingGAN`` training would build for this generator: with the given discriminator (class path,
    init args; e.g. a config's one SN-PatchGAN per pyramid level; ``"none"``: a reconstruction-only model), else
    the profile's patch discriminator; ``recompute_activations``, ``step_in_backward`` and ``channels_last`` as the
    module's options (with ``channels_last`` the networks are converted here, as ``InpaintingGAN.setup`` does)."""
    generator = instantiate(class_path, init_args)
    d: torch.nn.Module | None
    if discriminator == "none":
        d = None
    elif discriminator is not None:
        d = instantiate(*discriminator)
    else:
        profile = getattr(generator, "profile", None)
        d = PatchDiscriminator(width=getattr(profile, "discriminator_width", 64))
    model = InpaintingGAN(generator, d, losses=losses, recompute_activations=recompute_activations,
                          step_in_backward=step_in_backward, channels_last=channels_last)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    return model


def compile_networks(model: InpaintingGAN, backend: str | Callable[..., Any] = "inductor") -> None:
    """``torch.compile`` G and D in place (``nn.Module.compile``): the modules, their parameters and state-dict keys
    stay the same objects, so the optimisers, hooks and checkpoints see no wrapper. Compilation happens on the first
    calls, once per mode (eval/no-grad forward; training forward + backward; D with either network frozen).
    ``backend="aot_eager"`` traces forward and backward as inductor does but runs the traced graphs as they are:
    a check of the tracing in seconds where inductor's code generation would take many minutes (a CPU)."""
    model.generator.compile(backend=backend)
    if model.discriminator is not None:
        model.discriminator.compile(backend=backend)


def training_step_callable(model: InpaintingGAN, batch: dict[str, torch.Tensor],
                           precision: str = "32-true") -> Callable[[], gan_step.StepResult]:
    """One call = one training iteration of ``model`` on ``batch``, through the shared step function; under
    bf16 autocast for ``precision="bf16-mixed"``, around the whole step as Lightning's precision plugin does."""
    optimizers = model.configure_optimizers()  # no schedule configured: the Adam optimisers training uses
    opt_g, opt_d = (optimizers[0], None) if len(optimizers) == 1 else optimizers
    # the module's own input conversion (channels-last when model.channels_last), as its Lightning hooks apply it
    hooks = dataclasses.replace(gan_step.plain_hooks(opt_g, opt_d, model.gradient_clip_val, model.generator_backward),
                                memory_format=model._memory_format)
    device = batch["image"].device

    def step() -> gan_step.StepResult:
        # looked up at call time, like InpaintingGAN.training_step does, so both always run the same function
        with autocast(precision, device):
            return gan_step.gan_training_step(model.generator, model.discriminator, opt_g, opt_d, model.losses,
                                              batch, hooks)

    return step


def benchmark(
    class_path: str,
    init_args: dict[str, Any],
    height: int,
    width: int,
    batch: int,
    repeats: int = 5,
    warmup: int = 2,
    device: str = "cpu",
    progress: bool = True,
    losses: LossConfig | dict[str, Any] | str = "paper",
    discriminator: tuple[str, dict[str, Any]] | Literal["none"] | None = None,
    recompute_activations: bool = False,
    step_in_backward: bool = False,
    precision: str = "32-true",
    memory_regions: int | None = None,
    channels_last: bool = False,
    torch_compile: bool = False,
    compile_backend: str = "inductor",
    step_only: bool = False,
) -> dict[str, Any]:
    """Median forward (no grad, eval) and G+D train-step times in seconds, images per second of the train step, and
    peak memory in MiB; both under bf16 autocast for ``precision="bf16-mixed"`` (:mod:`inpaint.lit.precision`),
    in channels-last with ``channels_last``, through ``torch.compile`` with ``torch_compile`` (module docstring).
    ``step_only`` skips the forward (with ``torch_compile``: one compilation fewer). With ``memory_regions`` (a module
    depth), one more step runs after the timed ones with its memory sampled per module region
    (:mod:`inpaint.lit.memory_regions`), under ``"memory_regions"``.

    A generator with nothing to train (the classical OpenCV inpainters) has its forward timed only: its train-step
    fields are None and ``train_step_note`` says why (nothing calls backward on it)."""
    dev = torch.device(device)
    if dev.type == "cuda":  # as the gpu trainer profile (trainer.benchmark: true): cuDNN picks its fastest kernels
        torch.backends.cudnn.benchmark = True
    model = build_gan(class_path, init_args, losses, discriminator, recompute_activations, step_in_backward,
                      channels_last).to(dev)
    if torch_compile:
        compile_networks(model, compile_backend)
    generator = model.generator
    prior = structure_prior_of(generator)
    inputs = {k: v.to(dev) for k, v in example_inputs(batch, height, width, structure_prior=prior).items()}
    untrainable = nothing_to_train(generator)
    train_step = training_step_callable(model, inputs, precision) if untrainable is None else None
    time_forward = not step_only or train_step is None

    def forward() -> None:
        with torch.no_grad(), autocast(precision, dev):
            generator(**gan_step.generator_inputs(inputs, model._memory_format))

    def timed(fn, n: int) -> tuple[list[float], list[float]]:
        """Wall-clock and process CPU seconds per call (CPU time is the robust number on a shared machine)."""
        wall, cpu = [], []
        for _ in range(n):
            _sync(dev)
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            _sync(dev)
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            if bar is not None:
                bar.advance(task)
        return wall, cpu

    bar = None
    task = None
    total_steps = (int(time_forward) + int(train_step is not None)) * (warmup + repeats)
    if progress:
        from rich.progress import Progress

        bar = Progress(transient=True)
        bar.start()
        task = bar.add_task(f"bench {height}×{width} b{batch}", total=total_steps)
    forward_warmup: list[float] = []
    forward_times: list[float] | None = None
    forward_cpu: list[float] | None = None
    step_warmup: list[float] = []
    step_times: list[float] | None = None
    step_cpu: list[float] | None = None
    try:
        if time_forward:
            generator.eval()
            forward_warmup, _ = timed(forward, warmup)
            forward_times, forward_cpu = timed(forward, repeats)
        if train_step is not None:
            generator.train()
            step_warmup, _ = timed(train_step, warmup)
            step_times, step_cpu = timed(train_step, repeats)
            if memory_regions is not None:
                roots = {"G": generator, **({"D": model.discriminator} if model.discriminator is not None else {})}
                with MemoryRegions(roots, depth=memory_regions, read=memory_reader(dev)) as sampled:
                    train_step()
                    _sync(dev)
                regions = sampled.summary()
    finally:
        if bar is not None:
            bar.stop()
    step_median = statistics.median(step_times) if step_times else None
    overhead = warmup_overhead(forward_warmup, forward_times) + warmup_overhead(step_warmup, step_times)
    return {
        "resolution": [height, width],
        "batch": batch,
        "device": str(dev),
        "threads": torch.get_num_threads(),
        "repeats": repeats,
        "forward_s_median": statistics.median(forward_times) if forward_times else None,
        "train_step_s_median": step_median,
        "images_per_s": batch / step_median if step_median else None,  # training throughput, G + D per image
        "forward_s_all": forward_times,
        "train_step_s_all": step_times,
        "forward_warmup_s_all": forward_warmup,
        "train_step_warmup_s_all": step_warmup,
        "warmup_overhead_s": overhead,
        "compile": torch_compile,
        "compile_s": overhead if torch_compile else None,
        "compile_backend": compile_backend if torch_compile else None,
        "channels_last": channels_last,
        "forward_cpu_s_median": statistics.median(forward_cpu) if forward_cpu else None,
        "train_step_cpu_s_median": statistics.median(step_cpu) if step_cpu else None,
        **({"train_step_note": untrainable} if untrainable is not None else {}),
        "load_average_1min": os.getloadavg()[0],
        "peak_memory_mb": round(_peak_memory_mb(dev), 1),
        "peak_memory_kind": "cuda_max_allocated" if dev.type == "cuda" else "process_peak_rss",
        **(_cuda_settings(dev) if dev.type == "cuda" else {}),
        "malloc_tuned": os.environ.get("MALLOC_MMAP_THRESHOLD_") is not None,
        "recompute_activations": recompute_activations,
        "step_in_backward": step_in_backward,
        "precision": precision,
        **({"memory_regions": regions} if memory_regions is not None and train_step is not None else {}),
        "losses": dataclasses.asdict(model.losses),
        "discriminator": (f"{type(model.discriminator).__module__}.{type(model.discriminator).__name__}"
                          if model.discriminator is not None else None),
        "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
        "device_name": device_label(dev),
    }


def warmup_overhead(warmup_times: list[float], steady_times: list[float] | None) -> float:
    """Seconds the warm-up calls took beyond as many steady calls (their median): 0 without either."""
    if not warmup_times or not steady_times:
        return 0.0
    return sum(warmup_times) - len(warmup_times) * statistics.median(steady_times)


def _cuda_settings(dev: torch.device) -> dict[str, Any]:
    """What else shapes a GPU's numbers: the allocator's reserved peak and the kernel choices in force."""
    return {"peak_memory_reserved_mb": round(torch.cuda.max_memory_reserved(dev) / 2**20, 1),
            "cudnn_benchmark": torch.backends.cudnn.benchmark,
            "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,  # float32 convolutions on tensor cores
            "float32_matmul_precision": torch.get_float32_matmul_precision()}
