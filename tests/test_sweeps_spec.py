"""Sweep definition files: the shipped YAMLs parse, match the model registry, and bad input names file + key."""

from __future__ import annotations

from pathlib import Path

import pytest

from inpaint.sweeps.lightning_trial import objective_value
from inpaint.sweeps.spec import SEEDS_TOKEN, SweepSpecError, load_spec, parse_spec

REPO = Path(__file__).resolve().parents[1]
SWEEPS = REPO / "sweeps"


@pytest.mark.parametrize("name", ["ablation", "tau", "search", "swap"])
def test_shipped_sweeps_parse_with_cpu_and_paper_profiles(name):
    spec = load_spec(name, SWEEPS)
    assert {"cpu", "paper"} <= set(spec.profiles)
    assert spec.profile("paper").requires_data_root and spec.profile("paper").data_root_key
    assert not spec.profile("cpu").requires_data_root
    assert spec.study_name("cpu") == f"{name}-cpu"


def test_ablation_grid_is_table4_rows_times_seeds():
    from inpaint.models.variants import VARIANTS
    from inpaint.report.paper.table4 import TABLE4_ROWS

    spec = load_spec("ablation", SWEEPS)
    axes = spec.grid_axes([0, 1])
    assert axes["variant"] == [v for _, v in TABLE4_ROWS]
    assert all(v in VARIANTS for v in axes["variant"])
    assert axes["seed"] == [0, 1] and spec.axes["seed"] == SEEDS_TOKEN
    assert spec.profile("cpu").seeds == [0, 1]


def test_tau_grid_values():
    spec = load_spec("tau", SWEEPS)
    assert spec.grid_axes([3])["tau"] == [0, 50, 100, 150, 200] and spec.grid_axes([3])["seed"] == [3]


def base(**changes):
    data = {
        "name": "x", "kind": "grid", "objective": {"metric": "psnr", "bucket": "all"},
        "axes": {"seed": "@seeds"}, "param_keys": {"seed": "seed_everything"},
        "profiles": {"cpu": {"configs": ["a.yaml"]}},
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"kind": "random"}, "kind must be"),
        ({"direction": "up"}, "direction must be"),
        ({"axes": {"seed": []}}, "axes.seed must be"),
        ({"axes": {"tau": [1]}}, "axis 'tau' has no entry in param_keys"),
        ({"objective": {"metric": "psnr"}}, "objective needs 'bucket'"),
        ({"profiles": {"cpu": {"configs": ["a.yaml"], "sedes": [0]}}}, r"unknown key\(s\) \['sedes'\]"),
        ({"profiles": {"cpu": {"configs": ["a.yaml"], "seeds": "0"}}}, "seeds must be a list of integers"),
        ({"profiles": {"cpu": {}}}, "missing key 'configs'"),
    ],
)
def test_bad_specs_name_the_key(changes, message):
    with pytest.raises(SweepSpecError, match=message):
        parse_spec(base(**changes), source=Path("sweeps/x.yaml"))


def test_unknown_profile_and_missing_file(tmp_path):
    spec = parse_spec(base(), source=Path("sweeps/x.yaml"))
    with pytest.raises(SweepSpecError, match="no profile 'gpu'"):
        spec.profile("gpu")
    with pytest.raises(FileNotFoundError, match="available"):
        load_spec("nope", SWEEPS)


def test_objective_value_reads_the_bucket_and_rejects_missing():
    metrics = {"buckets": [{"scheme": "table4", "bucket": "30-50%", "n": 3,
                            "values": {"composite": {"psnr": 21.5, "fid": None}}}]}
    assert objective_value(metrics, {"metric": "psnr", "scheme": "table4", "bucket": "30-50%"}) == 21.5
    with pytest.raises(ValueError, match="always computed"):
        objective_value(metrics, {"metric": "fid", "scheme": "table4", "bucket": "30-50%"})
    with pytest.raises(ValueError, match="not in the test metrics"):
        objective_value(metrics, {"metric": "psnr", "scheme": "paper", "bucket": "10-20%"})
