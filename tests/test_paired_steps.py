"""Paired timing of training-step variants (``inpaint bench --versus``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import torch

from inpaint.commands import bench
from inpaint.commands.bench_versus import _memory_command, format_versus, step_variants, variant_models
from inpaint.commands.model_selection import DEFAULT_CLASS, apply_set
from inpaint.errors import UserInputError
from inpaint.lit.paired_steps import StepOptions, alternating_times, paired_ratios, parse_variant


def test_a_variant_is_the_baseline_with_its_options_switched_on() -> None:
    base = StepOptions(recompute_activations=True, losses="paper")
    both = parse_variant("step-in-backward, channels-last", base)
    assert both == StepOptions(recompute_activations=True, step_in_backward=True, channels_last=True, losses="paper")
    assert parse_variant("precision=bf16-mixed,losses=official", base) == StepOptions(
        recompute_activations=True, precision="bf16-mixed", losses="official")
    assert both.flags() == ["--recompute", "--step-in-backward", "--channels-last", "--precision", "32-true",
                            "--losses", "paper"]


def test_a_set_variant_changes_a_generator_init_arg_after_the_commands_own() -> None:
    base = StepOptions()
    variant = parse_variant("set:encoder_options.tau=50,recompute", base)
    assert variant == StepOptions(recompute_activations=True, generator_set=("encoder_options.tau=50",))
    assert variant.flags()[-2:] == ["--set", "encoder_options.tau=50"]
    args = argparse.Namespace(resolution="64", batch=2, threads=1, device="cpu", config=None, variant=None,
                              preset=None, size="small", set=["encoder_options.tau=20", "balance=false"])
    cmd = _memory_command(args, variant, Path("out.json"))
    sets = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--set"]
    assert sets == ["encoder_options.tau=20", "balance=false", "encoder_options.tau=50"]  # argparse keeps this order
    assert apply_set({"encoder_options": {"tau": 20, "k": 1}}, sets) == {"encoder_options": {"tau": 50, "k": 1},
                                                                       "balance": False}


@pytest.mark.parametrize("text, message", [
    ("recompte", "'recompte' is not a step option (one of recompute, step-in-backward, channels-last, "
                 "precision=VALUE, losses=VALUE, set:KEY=VALUE, comma-separated)"),
    ("set:=3", "'set:=3' is not a step option"),
    ("precision=", "'precision=' is not a step option"),
    ("recompute=yes", "'recompute=yes' is not a step option"),
    ("recompute", "that is the baseline's step itself"),
])
def test_a_variant_that_is_not_one_is_refused_in_one_line(text: str, message: str) -> None:
    with pytest.raises(UserInputError, match="^--versus ") as err:
        parse_variant(text, StepOptions(recompute_activations=True))
    assert message in str(err.value) and "\n" not in str(err.value)


class FakeClock:
    """Each step advances the clock by its next scripted duration."""

    def __init__(self, durations: dict[str, list[float]]) -> None:
        self.now, self.durations, self.calls = 0.0, {k: list(v) for k, v in durations.items()}, []

    def step(self, name: str):
        def run() -> None:
            self.calls.append(name)
            self.now += self.durations[name].pop(0)
        return run


def test_rounds_alternate_their_order_and_ratios_pair_steps_of_the_same_round() -> None:
    # warm-up round (untimed), then three rounds; the machine is twice as slow in the second round
    clock = FakeClock({"base": [9.0, 1.0, 2.0, 1.0], "a": [9.0, 1.5, 3.0, 1.5], "b": [9.0, 0.5, 1.0, 0.625]})
    times = alternating_times({n: clock.step(n) for n in ("base", "a", "b")}, rounds=3, warmup=1,
                              clock=lambda: clock.now)
    assert clock.calls == ["base", "a", "b", "base", "a", "b", "b", "a", "base", "base", "a", "b"]
    assert times == {"base": [1.0, 2.0, 1.0], "a": [1.5, 3.0, 1.5], "b": [0.5, 1.0, 0.625]}
    rows = paired_ratios(times, "base")
    assert rows["a"]["ratio_all"] == [1.5, 1.5, 1.5] and rows["a"]["ratio_median"] == 1.5
    assert rows["b"]["ratio_all"] == [0.5, 0.5, 0.625]
    assert (rows["b"]["ratio_median"], rows["b"]["ratio_min"], rows["b"]["ratio_max"]) == (0.5, 0.5, 0.625)
    assert rows["base"]["ratio_median"] == 1.0 and rows["a"]["step_s_median"] == 1.5
    # unpaired medians would put "a" at 1.5 / 1.0 too, but a drift inside a round is what pairing cannot remove:
    # the per-round spread is reported for that
    with pytest.raises(UserInputError, match="at least 1"):
        alternating_times({"base": lambda: None}, rounds=0)


def _args(*argv: str) -> argparse.Namespace:
    ns = argparse.Namespace(recompute=False, step_in_backward=False, channels_last=False, precision="32-true",
                            losses=None, versus=list(argv))
    return ns


def test_the_baseline_is_the_commands_own_options_and_names_are_unique() -> None:
    variants = step_variants(_args("recompute", "recompute,step-in-backward"))
    assert list(variants) == ["baseline", "recompute", "recompute,step-in-backward"]
    assert variants["baseline"] == StepOptions()
    with pytest.raises(UserInputError, match="given twice"):
        step_variants(_args("recompute", "recompute"))


def test_every_variant_starts_from_the_same_weights() -> None:
    variants = step_variants(_args("recompute,channels-last", "losses=official"))
    models = variant_models(DEFAULT_CLASS, {"size": "small"}, variants, "paper", None, torch.device("cpu"))
    base = models["baseline"].state_dict()
    for name in ("recompute,channels-last", "losses=official"):
        other = models[name].state_dict()
        assert other.keys() == base.keys()
        assert all(torch.equal(other[k], base[k]) for k in base)
    assert models["losses=official"].losses != models["baseline"].losses
    assert models["recompute,channels-last"].recomputed_blocks and not models["baseline"].recomputed_blocks
    resized = variant_models(DEFAULT_CLASS, {"size": "small"}, step_variants(_args("set:decoder_upsampling=resize")),
                             "paper", None, torch.device("cpu"))
    def transposed(model) -> int:
        return sum(isinstance(m, torch.nn.ConvTranspose2d) for m in model.generator.modules())

    assert transposed(resized["baseline"]) > 0 and transposed(resized["set:decoder_upsampling=resize"]) == 0
    conv = next(m for m in models["recompute,channels-last"].generator.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last) and conv.weight.shape[1] > 1


def test_versus_is_refused_with_other_modes(capsys) -> None:
    assert bench.main(["--versus", "recompute", "--roofline"]) == 2
    assert "--versus times the plain training step of each variant: not with --roofline" in capsys.readouterr().err
    assert bench.main(["--versus", "recompute", "--standard"]) == 2
    assert "not with --standard" in capsys.readouterr().err
    assert bench.main(["--versus", "no-such-option", "--size", "small", "--resolution", "64"]) == 2
    assert "'no-such-option' is not a step option" in capsys.readouterr().err


def test_the_table_shows_paired_ratios_and_memory_against_the_baseline() -> None:
    rows = paired_ratios({"baseline": [2.0, 4.0], "recompute": [2.5, 4.8]}, "baseline")
    rows["baseline"].update(peak_memory_mb=4000.0, peak_memory_kind="process_peak_rss", note=None)
    rows["recompute"].update(peak_memory_mb=3000.0, peak_memory_kind="process_peak_rss", note=None)
    text = format_versus({"versus": rows, "rounds": 2, "warmup_rounds": 1, "resolution": [256, 256], "batch": 1,
                          "device_name": "CPU X", "threads": 2, "load_average_1min_before": 1.0,
                          "load_average_1min_after": 1.2})
    lines = text.splitlines()
    assert lines[0].startswith("Training step at 256×256, batch 1, on CPU X, 2 thread(s): 2 round(s)")
    assert "| baseline | 3.000 | 1 | 4000 | — |" in lines
    assert "| recompute | 3.650 | 1.225 (1.200–1.250) | 3000 | -1000 (-25.0%) |" in lines
    assert "disagree" not in text  # 1.200–1.250 lies within ±10 % of 1.225
    wide = paired_ratios({"baseline": [1.0, 1.0, 1.0], "a": [1.0, 1.0, 1.25], "b": [1.0, 1.05, 1.1]}, "baseline")
    for row in wide.values():
        row.update(peak_memory_mb=None, note="skipped")
    flagged = format_versus({"versus": wide, "rounds": 3, "warmup_rounds": 1, "resolution": [64, 64], "batch": 1,
                             "device_name": "X", "threads": 1, "load_average_1min_before": 0.0,
                             "load_average_1min_after": 0.0}).splitlines()[-1]
    assert flagged.startswith("The rounds disagree by more than ±10% of the median for a: ")  # b: within ±4.8 %
    rows["recompute"].update(peak_memory_mb=None, note="exit 1: boom")
    assert "| n/a (exit 1: boom) | n/a |" in format_versus({**json.loads(json.dumps({
        "versus": rows, "rounds": 2, "warmup_rounds": 1, "resolution": [64, 64], "batch": 1, "device_name": "X",
        "threads": 1, "load_average_1min_before": 0.0, "load_average_1min_after": 0.0}))})


@pytest.mark.slow
def test_versus_end_to_end(tmp_path: Path, capsys) -> None:
    out = tmp_path / "versus.json"
    code = bench.main(["--versus", "recompute", "--size", "small", "--resolution", "64", "--batch", "2",
                       "--repeats", "2", "--warmup", "1", "--threads", str(torch.get_num_threads()),
                       "--no-progress", "--out", str(out)])
    assert code == 0
    result = json.loads(out.read_text())
    rows = result["versus"]
    assert list(rows) == ["baseline", "recompute"] and result["rounds"] == 2
    assert rows["recompute"]["options"]["recompute_activations"] and not rows["baseline"]["options"][
        "recompute_activations"]
    for row in rows.values():
        assert len(row["step_s_all"]) == 2 and all(t > 0 for t in row["step_s_all"])
        assert row["note"] is None and row["peak_memory_mb"] > 100 and row["peak_memory_kind"] == "process_peak_rss"
    assert rows["recompute"]["ratio_all"] == pytest.approx(
        [a / b for a, b in zip(rows["recompute"]["step_s_all"], rows["baseline"]["step_s_all"])])
    assert "| recompute |" in capsys.readouterr().out


def test_a_child_process_reports_its_own_peak_memory_not_its_parents() -> None:
    # Linux carries a parent's peak into ru_maxrss of a child started by vfork + exec (subprocess): the bench's
    # per-variant processes are started by a parent that holds every variant's model
    import subprocess
    import sys

    from inpaint.lit.machine import peak_rss_mib

    held = torch.ones(2 * 2**30 // 4)  # 2 GiB, touched
    parent = peak_rss_mib()
    assert parent > 2048
    child = float(subprocess.run([sys.executable, "-c", "from inpaint.lit.machine import peak_rss_mib; "
                                  "print(peak_rss_mib())"], check=True, capture_output=True, text=True).stdout)
    assert 50 < child < parent - 1024, (child, parent)
    del held


def test_a_generator_with_nothing_to_train_is_refused_before_any_process_starts(capsys, monkeypatch) -> None:
    import inpaint.commands.bench_versus as versus

    monkeypatch.setattr(versus, "peak_memory", lambda *a: pytest.fail("no memory process for an untrainable model"))
    code = bench.main(["--versus", "channels-last", "--config", "experiments/model/telea.yaml", "--resolution", "64"])
    assert code == 2
    assert "--versus times a training step, and this generator has none" in capsys.readouterr().err
