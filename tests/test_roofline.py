"""Roofline accounting of the training step: the phases' FLOPs add up to the whole step's and the forward phase's
equal the generator forward's; splitting the step into phases changes no weight; a model without D has no D phase;
efficiencies follow from FLOPs, times and the given peaks; bf16 is reported only where native; ``inpaint bench
--roofline`` writes the table and the JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from _tiny_models import TinyDiscriminator, TinyGenerator, tiny_batch
from torch.utils.flop_counter import FlopCounterMode

from inpaint.commands import bench
from inpaint.lit import gan_step, machine
from inpaint.lit.module import InpaintingGAN
from inpaint.lit.roofline import PHASES, PhaseClock, format_roofline, median_peaks, roofline
from inpaint.models.complexity import CUSTOM_FORMULAS

PEAKS = {"conv_forward": 100.0, "conv_forward_backward": 80.0, "gemm": 120.0, "bf16_conv_forward": None,
         "bf16_conv_forward_backward": None, "bf16_gemm": None, "bf16_note": "not measured in tests"}


def _model(seed: int = 0, discriminator: bool = True) -> InpaintingGAN:
    torch.manual_seed(seed)
    if discriminator:
        return InpaintingGAN(TinyGenerator(), TinyDiscriminator())
    return InpaintingGAN(TinyGenerator(), None, losses={"lambda_adv": 0.0})


def _run_step(model: InpaintingGAN, batch: dict, clock: bool) -> PhaseClock | None:
    optimizers = model.configure_optimizers()
    opt_g, opt_d = (optimizers[0], None) if len(optimizers) == 1 else optimizers
    hooks = gan_step.plain_hooks(opt_g, opt_d)
    timer = PhaseClock(hooks, opt_g, opt_d is not None, torch.device("cpu")) if clock else None
    if timer is not None:
        timer.start()
    gan_step.gan_training_step(model.generator, model.discriminator, opt_g, opt_d, model.losses, batch,
                               timer.hooks if timer is not None else hooks)
    return timer


def test_phase_flops_add_up_to_the_step_and_the_forward_to_the_generators() -> None:
    batch = tiny_batch(2, 16)
    model = _model()
    whole = FlopCounterMode(display=False, custom_mapping=CUSTOM_FORMULAS)
    with whole:
        _run_step(model, batch, clock=False)
    model = _model()
    optimizers = model.configure_optimizers()
    timer = PhaseClock(gan_step.plain_hooks(*optimizers), optimizers[0], True, torch.device("cpu"))
    timer.counter = FlopCounterMode(display=False, custom_mapping=CUSTOM_FORMULAS)
    with timer.counter:
        timer.start()
        gan_step.gan_training_step(model.generator, model.discriminator, *optimizers, model.losses, batch, timer.hooks)
    flops = timer.flops()
    assert list(flops) == list(PHASES)
    assert sum(flops.values()) == whole.get_total_flops() > 0
    forward = FlopCounterMode(display=False, custom_mapping=CUSTOM_FORMULAS)
    with forward, torch.no_grad():
        model.generator(**gan_step.generator_inputs(batch))
    assert flops["g_forward"] == forward.get_total_flops()
    assert flops["g_optimizer"] == 0 and flops["g_backward"] > flops["g_forward"]


def test_the_phase_clock_changes_no_weight() -> None:
    batch = tiny_batch(2, 16)
    plain, clocked = _model(), _model()
    _run_step(plain, batch, clock=False)
    _run_step(clocked, batch, clock=True)
    for (name, a), (_, b) in zip(plain.state_dict().items(), clocked.state_dict().items()):
        assert torch.equal(a, b), name


def test_without_a_discriminator_there_is_no_d_phase() -> None:
    timer = _run_step(_model(discriminator=False), tiny_batch(2, 16), clock=True)
    assert list(timer.durations()) == ["g_forward", "g_losses", "g_backward", "g_optimizer"]
    assert all(seconds >= 0 for seconds in timer.durations().values())


def test_efficiencies_follow_from_flops_times_and_peaks() -> None:
    result = roofline(_model(), tiny_batch(2, 16), repeats=2, warmup=0, peaks=PEAKS)
    rows = {row["phase"]: row for row in result["phases"]}
    assert list(rows) == list(PHASES)
    for row in rows.values():
        if row["peak"] is None:
            assert row["efficiency"] is None and row["gflop"] == 0
        else:
            assert row["gflop_per_s"] == pytest.approx(row["gflop"] / row["seconds"])
            assert row["efficiency"] == pytest.approx(row["gflop_per_s"] / PEAKS[row["peak"]])
    ideal = sum(row["gflop"] / PEAKS[row["peak"]] for row in rows.values() if row["peak"])
    step = result["step"]
    assert step["roofline_seconds"] == pytest.approx(ideal)
    assert step["efficiency"] == pytest.approx(ideal / step["seconds"])
    assert step["gflop"] == pytest.approx(sum(row["gflop"] for row in rows.values()))
    assert result["device"] == machine.cpu_label()
    table = format_roofline(result)
    assert "| g_backward |" in table and "not measured in tests" in table and "**step**" in table


def test_the_peaks_are_each_peaks_median_over_the_windows() -> None:
    windows = [{"conv_forward": 100.0, "gemm": 90.0, "bf16_conv_forward": None, "bf16_note": "a"},
               {"conv_forward": 140.0, "gemm": 80.0, "bf16_conv_forward": None, "bf16_note": "a"},
               {"conv_forward": 120.0, "gemm": 70.0, "bf16_conv_forward": None, "bf16_note": "a"}]
    assert median_peaks(windows) == {"conv_forward": 120.0, "gemm": 80.0, "bf16_conv_forward": None,
                                     "bf16_note": "a"}


def test_bf16_is_native_only_with_its_cpu_flags(monkeypatch) -> None:
    monkeypatch.setattr(machine, "_cpuinfo_field", lambda key: "fpu avx2 avx512f")
    supported, note = machine.bf16_support(torch.device("cpu"))
    assert not supported and "emulated" in note
    monkeypatch.setattr(machine, "_cpuinfo_field", lambda key: "fpu avx2 avx512f avx512_bf16")
    assert machine.bf16_support(torch.device("cpu")) == (True, "native bf16 on this CPU (avx512_bf16)")


def test_bench_roofline_writes_the_table_and_json(tmp_path: Path, capsys) -> None:
    out = tmp_path / "roofline.json"
    code = bench.main(["--roofline", "--size", "small", "--variant", "Baseline", "--resolution", "64", "--batch", "1",
                       "--repeats", "1", "--warmup", "0", "--no-progress", "--out", str(out)])
    assert code == 0
    data = json.loads(out.read_text())
    assert [row["phase"] for row in data["phases"]] == list(PHASES)
    assert data["peaks"]["conv_forward"] > 0 and data["peaks"]["gemm"] > 0 and data["step"]["efficiency"] > 0
    assert len(data["peak_windows"]) == 1 and data["peaks"]["conv_forward"] == data["peak_windows"][0]["conv_forward"]
    ops = data["op_times"]  # one more step with every op timed
    assert sum(ops["seconds"].values()) == pytest.approx(ops["wall_s"])
    assert ops["untimed_step_s"] == data["step"]["seconds"]
    assert 0 < ops["convolution"]["gflop"] <= data["step"]["gflop"] + 1e-9
    assert ops["slowest_convolutions"] and ops["convolution"]["efficiency"] > 0
    printed = capsys.readouterr().out
    assert "| g_forward |" in printed and "Where the time goes" in printed and "| forward |" in printed


def test_bench_roofline_refuses_a_model_with_nothing_to_train(tmp_path: Path, capsys) -> None:
    config = Path(__file__).resolve().parents[1] / "experiments" / "model" / "telea.yaml"
    assert bench.main(["--roofline", "--config", str(config), "--resolution", "64", "--no-progress"]) == 2
    assert "--roofline times a training step, and this generator has none" in capsys.readouterr().err
