"""A grid axis that selects a config file ("@config"): parsing, validation errors, and what a trial receives."""

from __future__ import annotations

from pathlib import Path

import pytest

from inpaint.sweeps.lightning_trial import LightningTrial
from inpaint.sweeps.spec import CONFIG_TOKEN, SweepSpecError, load_spec, parse_spec, resolve_configs

REPO = Path(__file__).resolve().parents[1]


def spec_data(configs: list[str], param_keys: dict[str, str] | None = None) -> dict:
    return {
        "name": "s", "kind": "grid", "objective": {"metric": "psnr", "bucket": "all"},
        "axes": {"generator": ["a", "b"], "seed": "@seeds"},
        "param_keys": param_keys or {"generator": CONFIG_TOKEN, "seed": "seed_everything"},
        "profiles": {"cpu": {"configs": configs}},
    }


def test_resolve_configs_fills_the_placeholder_in_place() -> None:
    spec = parse_spec(spec_data(["d.yaml", "m/{generator}.yaml", "t.yaml"]))
    assert spec.config_axes == ["generator"]
    assert resolve_configs(spec.profile("cpu").configs, {"generator": "b", "seed": 0}, spec.config_axes) == [
        "d.yaml", "m/b.yaml", "t.yaml"]
    with pytest.raises(KeyError, match="generator"):
        resolve_configs(spec.profile("cpu").configs, {"seed": 0}, spec.config_axes)


@pytest.mark.parametrize(
    ("configs", "param_keys", "message"),
    [
        (["d.yaml"], None, r"axis 'generator' selects a config file .* no '\{generator\}' placeholder"),
        (["m/{model}.yaml", "m/{generator}.yaml"], None, r"placeholder \{model\}, but 'model' is not an axis"),
        (["m/{generator}.yaml"], {"generator": "model.generator", "seed": "seed_everything"},
         r"placeholder \{generator\}, but 'generator' is not an axis mapped to '@config'"),
    ],
)
def test_config_axis_errors_name_file_and_key(configs, param_keys, message) -> None:
    with pytest.raises(SweepSpecError, match=message):
        parse_spec(spec_data(configs, param_keys), source=Path("sweeps/x.yaml"))


def test_swap_study_maps_each_generator_to_its_model_file() -> None:
    spec = load_spec("swap", REPO / "sweeps")
    generators = spec.grid_axes([0])["generator"]
    # every model file is a swap-study generator except the size overlay, the official presets and the seed
    # systems (DeepFillv2, the Pyramid Generator, the PConv / MSFEF U-Nets, PMRFN), which have studies of their own,
    # and the classical reference rows (Telea, NS), which have no encoder to swap
    not_swapped = ("small", "tsgl-official", "tsgl-official-exact", "deepfillv2", "pyramid", "pconv_unet",
                   "msfef_unet", "pmrfn", "telea", "ns")
    assert sorted(generators) == sorted(p.stem for p in (REPO / "experiments/model").glob("*.yaml")
                                        if p.stem not in not_swapped)
    trial = LightningTrial(spec, spec.profile("cpu"), root=REPO)
    files = trial.config_files({"generator": "ours_hifill", "seed": 3})
    assert [Path(f).relative_to(REPO).as_posix() for f in files] == [
        "experiments/data/embedded.yaml", "experiments/model/ours_hifill.yaml", "experiments/trainer/cpu-small.yaml"]
    overrides = trial.overrides({"generator": "ours_hifill", "seed": 3})
    assert overrides["seed_everything"] == 3 and not any("generator" == k or CONFIG_TOKEN in str(v)
                                                         for k, v in overrides.items())


def test_missing_config_file_fails_before_the_first_trial(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "a.yaml").write_text("{}\n")
    spec = parse_spec(spec_data(["m/{generator}.yaml"]), source=tmp_path / "sweeps" / "s.yaml")
    with pytest.raises(FileNotFoundError, match=r"m/b\.yaml"):
        LightningTrial(spec, spec.profile("cpu"), root=tmp_path)
