"""``inpaint bench --roofline --systems``: every compare-study system with its profile's config, ``--config``
composed as the config parser composes it, the summary's rows and table, and a two-system run end to end (one
trainable, one with nothing to train)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from inpaint.commands import bench
from inpaint.commands.bench_systems import format_summary, summary_row, system_configs
from inpaint.commands.model_selection import generator_spec, training_spec
from inpaint.sweeps.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("size", "folder"), [("small", "experiments/compare/cpu"), ("paper", "experiments/model")])
def test_every_compare_system_has_its_profiles_config(size: str, folder: str) -> None:
    systems = system_configs(size)
    assert [name for name, _ in systems] == list(load_spec("compare").axes["system"])
    for name, config in systems:
        assert config == Path(folder) / f"{name}.yaml" and (ROOT / config).is_file()


def test_bench_config_is_composed_with_its_defaults() -> None:
    # the cpu compare config of the PConv U-Net: the shipped file (defaults:) plus 6 stages instead of 8
    args = argparse.Namespace(config=ROOT / "experiments/compare/cpu/pconv_unet.yaml", variant=None, preset=None,
                              size="small", set=[])
    class_path, init_args = generator_spec(args)
    assert class_path == "inpaint.models.generators.pconv_unet.PConvUNet"
    assert init_args == {"encoder": "pconv", "size": "small", "stages": 6}
    discriminator, losses = training_spec(args)
    assert discriminator == ("inpaint.models.discriminators.NoDiscriminator", {})
    assert losses["hole_weight"] == 6.0


def _result(efficiency: float | None) -> dict:
    return {"class_path": "inpaint.models.generators.pennet.PENNetGenerator",
            "step": {"gflop": 2.0, "seconds": 0.5, "gflop_per_s": 4.0, "efficiency": efficiency},
            "op_times": {"share": {"convolution": 0.5, "matmul": 0.1, "other_ops": 0.25, "outside_ops": 0.15},
                         "convolution": {"efficiency": 0.6},
                         "slowest_convolutions": [{"direction": "forward", "input": [8, 3, 64, 64],
                                                   "weight": [32, 3, 3, 3]}]}}


def test_summary_rows_and_table() -> None:
    row = summary_row("pennet", _result(0.3))
    assert (row["generator"], row["step_s"], row["efficiency"], row["conv_share"], row["conv_efficiency"]) == (
        "PENNetGenerator", 0.5, 0.3, 0.5, 0.6)
    assert row["worst_conv"] == "forward 8×3×64×64 ⊛ 32×3×3×3"
    text = format_summary([row, summary_row("telea", None, "nothing to train"),
                           summary_row("tsgl", _result(None))], "caption")
    lines = text.splitlines()
    assert lines[0] == "caption"
    assert "| pennet | PENNetGenerator | 2.00 | 0.500 | 4.0 | 30 % | 50 % | 60 % | 10 % | 25 % | 15 % |" in lines
    assert "| telea | nothing to train | | | | | | | | | |" in lines
    assert any(line.startswith("| tsgl |") and "| n/a |" in line for line in lines)


def test_systems_needs_roofline_and_no_config(capsys) -> None:
    assert bench.main(["--systems"]) == 2
    assert "--systems runs --roofline" in capsys.readouterr().err
    assert bench.main(["--roofline", "--systems", "no_such_system", "--size", "small"]) == 2
    assert "unknown system(s) ['no_such_system']" in capsys.readouterr().err


@pytest.mark.slow
def test_two_systems_end_to_end(tmp_path: Path, capsys) -> None:
    code = bench.main(["--roofline", "--systems", "pennet", "telea", "--size", "small", "--resolution", "64",
                       "--batch", "1", "--repeats", "1", "--warmup", "0", "--out", str(tmp_path)])
    assert code == 0
    rows = {r["system"]: r for r in json.loads((tmp_path / "summary.json").read_text())}
    assert list(rows) == ["pennet", "telea"]  # the study's order
    assert rows["pennet"]["generator"] == "PENNetGenerator" and rows["pennet"]["efficiency"] > 0
    assert 0 < rows["pennet"]["conv_share"] < 1
    assert rows["telea"]["note"] == "nothing to train"
    assert json.loads((tmp_path / "pennet.json").read_text())["op_times"]["convolution"]["gflop"] > 0
    assert (tmp_path / "summary.md").read_text().startswith("Roofline of every system's training step: small widths")
    assert "| pennet | PENNetGenerator |" in capsys.readouterr().out
