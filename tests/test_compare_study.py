"""The ``compare`` study: its system axis names every shipped generator config (or excludes it with a reason), each
cpu overlay is the shipped config plus its 64² fixes and builds a model that runs at 64² and, in the resolution
sweep, natively at each test size of the cpu profile (no resizing); the recipe axis: exactly the systems with an
own-recipe overlay get an ``own`` cell, each overlay composes the system's published recipe and (cpu) trains a step at
64²; and a miniature study (PConv U-Net + Telea, two steps, two masks per bucket, plus the PConv U-Net's own recipe:
about 15 s) runs end to end into the leaderboard with the cost and the test-time sweeps stored per trial."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
import torch
import yaml
from _small_runs import unchecked_small_cli

from inpaint.lit.callbacks.resolution_sweep import resolution_sweep
from inpaint.lit.sweep_scoring import fixed_crops_for
from inpaint.models.complexity import example_inputs
from inpaint.sweeps.queue import grid_cells
from inpaint.sweeps.spec import CONFIG_TOKEN, load_spec

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "experiments" / "model"
#: generator configs of experiments/model/ deliberately not in the study, with the reason
EXCLUDED = {
    "tsgl-official": "TSGL under the authors' code deviations; the study's row for the authors' code is the "
                     "exact-official preset (tsgl-official-exact)",
    "ours_basic": "an ablation of TSGL (no cross-layer balance module, Table VII), not a system of its own",
}
SPEC = load_spec("compare", REPO / "sweeps")
SYSTEMS = SPEC.axes["system"]
OWN = REPO / "experiments" / "compare" / "recipes" / "own"  # paper profile: the recipe overlay of each system
CPU_OWN = REPO / "experiments" / "compare" / "cpu" / "recipes" / "own"  # cpu profile: the same plus its 64² fixes
RECIPES = REPO / "experiments" / "model" / "recipes"
#: system → the published recipe its own-recipe cell composes (the Ours(X) swaps take their host's)
OWN_RECIPE = {"pennet": "pennet", "ours_pennet": "pennet", "hifill": "hifill", "ours_hifill": "hifill",
              "lama": "lama", "ours_lama": "lama", "pconv_unet": "pconv", "msfef_unet": "msfef"}
VGG_RECIPES = {"pconv", "msfef"}  # need the ImageNet VGG-16 weights (n/a with the reason while they are missing)


def _is_generator_config(path: Path) -> bool:
    """A model config that (itself or through its ``defaults:``) names a generator class."""
    content = yaml.safe_load(path.read_text()) or {}
    if (content.get("model") or {}).get("generator", {}).get("class_path"):
        return True
    return any(_is_generator_config(path.parent / entry) for entry in content.get("defaults") or [])


def test_the_system_axis_names_every_shipped_generator_config() -> None:
    spec = load_spec("compare", REPO / "sweeps")
    assert spec.report == "compare" and spec.param_keys["system"] == CONFIG_TOKEN
    assert spec.grid_axes([0])["seed"] == [0] and len(set(SYSTEMS)) == len(SYSTEMS)
    shipped = {p.stem for p in MODELS.glob("*.yaml") if _is_generator_config(p)}
    unaccounted = shipped - set(SYSTEMS) - set(EXCLUDED)
    assert not unaccounted, (f"experiments/model/{sorted(unaccounted)}: add each to sweeps/compare.yaml's system axis "
                             "(with experiments/compare/cpu/<name>.yaml) or to EXCLUDED here with the reason")
    assert set(SYSTEMS) <= shipped and not set(EXCLUDED) & set(SYSTEMS)
    assert {"telea", "ns", "tsgl", "tsgl-official-exact", "pmrfn", "pconv_unet", "msfef_unet"} <= set(SYSTEMS)
    assert "small" not in shipped  # a width overlay, not a generator


@pytest.mark.parametrize("system", SYSTEMS)
def test_each_cpu_overlay_is_the_shipped_config_and_runs_at_64(system: str, tmp_path: Path) -> None:
    overlay = REPO / "experiments" / "compare" / "cpu" / f"{system}.yaml"
    content = yaml.safe_load(overlay.read_text())
    assert content["defaults"] == [f"../../model/{system}.yaml"]  # the paper profile uses that file alone
    assert set(content) <= {"defaults", "model"}  # fixes touch the model only: data, masks and steps stay common
    cli = unchecked_small_cli(tmp_path, [f"experiments/compare/cpu/{system}.yaml"])
    assert cli.config.model.generator.init_args.size == "small"  # the cpu profile's width overlay came after it
    generator = cli.model.generator.eval()
    with torch.no_grad():
        out = generator(**example_inputs(1, 64, 64))
    assert out.image.shape == (1, 3, 64, 64) and torch.isfinite(out.image).all()
    # the resolution sweep runs the model natively at each of the cpu profile's sizes: input and output at that size
    sizes = SPEC.profile("cpu").test_sweeps["resolution"]["sizes"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # batch-1 forwards: a second thread only slows them on a busy machine (20× measured)
    try:
        rows = resolution_sweep(generator, lambda h, w: fixed_crops_for(generator, cli.datamodule, 1, (h, w)), sizes,
                                0.25, lambda h, w: 1)
    finally:
        torch.set_num_threads(threads)
    assert [(row["reason"], row["output_size"]) for row in rows] == [(None, [size, size]) for size in sizes]


@pytest.mark.slow
def test_mini_compare_study_end_to_end(tmp_path: Path, capsys) -> None:
    from inpaint.commands.sweep import main as sweep_main

    spec = yaml.safe_load((REPO / "sweeps" / "compare.yaml").read_text())
    spec["name"] = "minicompare"
    spec["axes"]["system"] = ["pconv_unet", "telea"]
    spec["only_where"] = [{"if": {"recipe": "own"}, "then": {"system": ["pconv_unet"]}}]
    cpu = spec["profiles"]["cpu"]
    cpu["configs"] = [f"?{REPO / c[1:]}" if c.startswith("?") else str(REPO / c) for c in cpu["configs"]]
    cpu["overrides"].update({"trainer.max_steps": 2, "trainer.val_check_interval": 2, "data.init_args.batch_size": 2,
                             "data.init_args.eval_per_bucket": 2})
    cpu["results_dir"] = str(tmp_path / "results")
    path = tmp_path / "sweeps" / "minicompare.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(spec, allow_unicode=True))
    assert sweep_main([str(path), "--profile", "cpu", "--quiet"]) == 0

    storage = f"sqlite:///{tmp_path / 'results' / 'studies.db'}"
    study = optuna.load_study(study_name="minicompare-cpu", storage=storage)
    trials = {(t.params["system"], t.params["recipe"]): t for t in study.get_trials()}
    assert sorted(trials) == [("pconv_unet", "own"), ("pconv_unet", "shipped"), ("telea", "shipped")]
    pconv, telea = trials["pconv_unet", "shipped"].user_attrs, trials["telea", "shipped"].user_attrs
    assert pconv["cost"]["params"] > 0 and pconv["cost"]["macs"] > 0 and pconv["cost"]["train_steps"] == 2
    assert pconv["cost"]["train_s_per_step"] > 0 and pconv["cost"]["resolution"] == [64, 64]
    assert pconv["loss"] == "1 L1 (hole 6 : known 1)"
    assert telea["cost"]["params"] == 0 and telea["cost"]["train_s_per_step"] is None
    for attrs in (pconv, telea):  # the test-time sweeps are stored with the trial, one row per setting
        holes = attrs["hole_size_sweep"]
        assert holes["note"] is None and [row["ratio"] for row in holes["rows"]] == [0.15, 0.25, 0.35, 0.45, 0.55]
        assert all(row["n"] == 4 and row["psnr"] > 0 for row in holes["rows"])
        sizes = attrs["resolution_sweep"]  # each size run natively by the real model: output size = input size
        assert [row["output_size"] for row in sizes["rows"]] == [[64, 64], [128, 128], [256, 256]]
        assert all(row["reason"] is None and row["n"] == 2 and row["psnr"] > 0 for row in sizes["rows"])
    out_dir = tmp_path / "results" / "minicompare"
    for stem in ("compare", "compare_hole_size", "compare_resolution"):  # the leaderboard, then the two sweeps
        for suffix in ("csv", "tex", "png"):
            assert (out_dir / f"{stem}.{suffix}").is_file(), f"{stem}.{suffix}"
    table = (out_dir / "compare.md").read_text()
    assert table in capsys.readouterr().out
    assert "vs Telea (PSNR" in table and "| PConv U-Net | 1 | 1 L1 (hole 6 : known 1) |" in table
    assert "| Telea (OpenCV) | 1 | none (nothing to train) |" in table
    from inpaint.models.vgg16_features import vgg16_weights_path

    if vgg16_weights_path().is_file():  # Liu et al.'s loss trained: its row says so
        assert "| PConv U-Net (own recipe) | 1 |" in table and "perceptual" in table
    else:  # the row is n/a with the reason, the trial is recorded as unavailable (not a failure)
        assert "| PConv U-Net (own recipe) | 0 | n/a |" in table
        assert "n/a (PConv U-Net (own recipe)): could not start:" in table and "vgg16" in table
        assert trials["pconv_unet", "own"].user_attrs.get("unavailable")
    assert "**Hole-size sweep: PSNR and L1" in table and "| System | Seeds | PSNR↑ 15% | PSNR↑ 25% |" in table
    assert "**Resolution sweep: PSNR and L1" in table and "| PSNR↑ 64×64 | PSNR↑ 128×128 | PSNR↑ 256×256 |" in table
    assert (out_dir / "compare.csv").read_text().splitlines()[0].startswith("group,system,seeds,loss,psnr_all_mean")

    # an external row: the test set exported through the profile equals the one rebuilt from the stored trial configs
    import shutil

    import numpy as np
    from PIL import Image

    from inpaint.commands.report import main as report_main
    from inpaint.data.image_io import read_known_mask, read_rgb

    test_set, masked = tmp_path / "set", tmp_path / "masked"
    assert sweep_main([str(path), "--profile", "cpu", "--export-test-set", str(test_set)]) == 0
    masked.mkdir()
    for image in sorted((test_set / "images").glob("*.png")):  # the masked input: known pixels only
        known = read_known_mask(test_set / "masks" / image.name)
        filled = np.where(known[..., None] > 0.5, read_rgb(image), 128).astype(np.uint8)
        Image.fromarray(filled).save(masked / image.name)
    shutil.copy(test_set / "manifest.json", masked)
    capsys.readouterr()
    assert report_main(["--study", "minicompare-cpu", "--storage", storage, "--external", f"Masked={masked}"]) == 0
    assert "| Masked (external) | 0 | n/a (external) |" in capsys.readouterr().out


def _own_cells() -> list[str]:
    return [c["system"] for c in grid_cells(SPEC.grid_axes([0]), SPEC.only_where) if c["recipe"] == "own"]


def test_recipe_axis_cells_are_the_shipped_rows_and_each_own_overlay() -> None:
    assert SPEC.axes["recipe"] == ["shipped", "own"] and SPEC.param_keys["recipe"] == CONFIG_TOKEN
    cells = grid_cells(SPEC.grid_axes([0, 1]), SPEC.only_where)
    for seed in (0, 1):
        mine = [(c["recipe"], c["system"]) for c in cells if c["seed"] == seed]
        assert mine == [("shipped", s) for s in SYSTEMS] + [("own", s) for s in SYSTEMS if s in OWN_RECIPE]
    assert len(cells) == 2 * (15 + 8)
    # every own cell has its overlay in both profiles, and every overlay has its cell
    assert sorted(_own_cells()) == sorted(p.stem for p in OWN.glob("*.yaml")) == sorted(
        p.stem for p in CPU_OWN.glob("*.yaml")) == sorted(OWN_RECIPE)
    for name, profile in SPEC.profiles.items():  # the overlay is an optional entry right after the system's file
        configs = profile.configs
        system_at = next(i for i, c in enumerate(configs) if "{system}" in c)
        assert configs[system_at + 1] == ("?experiments/compare/cpu/recipes/{recipe}/{system}.yaml" if name == "cpu"
                                          else "?experiments/compare/recipes/{recipe}/{system}.yaml")
    assert not (OWN.parent / "shipped").exists() and not (CPU_OWN.parent / "shipped").exists()


@pytest.mark.parametrize("system", sorted(OWN_RECIPE))
def test_each_own_overlay_composes_the_systems_recipe(system: str) -> None:
    paper = yaml.safe_load((OWN / f"{system}.yaml").read_text())
    assert paper["defaults"] == [f"../../../model/recipes/{OWN_RECIPE[system]}.yaml"]
    assert (RECIPES / f"{OWN_RECIPE[system]}.yaml").is_file()
    # only what the recipe's own comment asks of this generator: Ours(HiFill) has no coarse stage
    assert {k: v for k, v in paper.items() if k != "defaults"} == (
        {"model": {"losses": {"lambda_coarse": 0.0}}} if system == "ours_hifill" else {})
    cpu = yaml.safe_load((CPU_OWN / f"{system}.yaml").read_text())
    assert cpu["defaults"] == [f"../../../recipes/own/{system}.yaml"]
    # the 64² fix: HiFill's critic has a dense layer sized for the crop (the recipe's 256 → 64); nothing else
    assert {k: v for k, v in cpu.items() if k != "defaults"} == (
        {"model": {"discriminator": {"init_args": {"input_size": 64}}}} if OWN_RECIPE[system] == "hifill" else {})


def _own_recipe_cli(system: str, tmp_path: Path):
    """The CLI of the own-recipe cell as the cpu profile composes it (cpu overlay, recipe overlay, cpu trainer with
    the width overlay), checked; None for a VGG-16 recipe while its weights are missing (checked to be the
    unavailable-cell error the sweep shows as n/a)."""
    from inpaint.errors import MissingWeightsError, user_input_cause
    from inpaint.models.vgg16_features import vgg16_weights_path

    configs = [f"experiments/compare/cpu/{system}.yaml", f"experiments/compare/cpu/recipes/own/{system}.yaml"]
    recipe = yaml.safe_load((RECIPES / f"{OWN_RECIPE[system]}.yaml").read_text())["model"]
    if OWN_RECIPE[system] in VGG_RECIPES and not vgg16_weights_path().is_file():
        with pytest.raises(Exception) as info:
            unchecked_small_cli(tmp_path, configs)
        # what the sweep's worker finds in the error: the cell is unavailable (n/a with the reason), not failed
        assert isinstance(user_input_cause(info.value), MissingWeightsError)
        return None
    cli = unchecked_small_cli(tmp_path, configs)
    assert cli.config.model.generator.init_args.size == "small"
    losses = cli.config.model.losses
    for key, value in recipe["losses"].items():  # the recipe's losses took effect over the shipped ones
        assert losses[key] == (0.0 if system == "ours_hifill" and key == "lambda_coarse" else value), key
    if "discriminator" in recipe:
        assert cli.config.model.discriminator.class_path == recipe["discriminator"]["class_path"]
    if "stages" in (yaml.safe_load((REPO / configs[0]).read_text()).get("model") or {}).get("generator", {}).get(
            "init_args", {}):
        assert cli.config.model.generator.init_args.stages == 6  # the cpu fix survives the recipe
    if OWN_RECIPE[system] == "hifill":  # the critic's dense layer takes the 64² crops
        assert cli.model.discriminator(torch.zeros(1, 3, 64, 64)).shape[0] == 1
    return cli


@pytest.mark.filterwarnings("ignore:LightningCLI's args parameter is intended")
@pytest.mark.parametrize("system", sorted(OWN_RECIPE))
def test_each_own_recipe_builds_through_the_cpu_profile(system: str, tmp_path: Path) -> None:
    _own_recipe_cli(system, tmp_path)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:LightningCLI's args parameter is intended")
@pytest.mark.parametrize("system", sorted(s for s in OWN_RECIPE if s.startswith("ours_")))
def test_the_swaps_train_a_step_with_their_hosts_recipe(system: str, tmp_path: Path) -> None:
    """Ours(X) with X's recipe (the hosts' own recipes train a step at 64² in tests/test_losses_host_recipes.py):
    the loss terms of the recipe find the outputs they need (Ours(HiFill): no coarse stage, lambda_coarse 0)."""
    import math

    cli = _own_recipe_cli(system, tmp_path)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    assert math.isfinite(float(cli.trainer.callback_metrics["train/loss_g"]))
