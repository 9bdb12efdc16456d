"""A run preset is applied whole from one file, and a run records where it departs from it.

``preset: official`` (or ``--preset official``) must give the official generator options, the official loss, the
official LR schedule and RTV smoothing — read here from the resolved config and the instantiated objects.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from inpaint.config.compose import expand_defaults, preset_deviations, preset_fragment, preset_names
from inpaint.errors import UserInputError
from inpaint.losses import LOSS_PRESETS
from inpaint.models.presets import PRESETS

ROOT = Path(__file__).resolve().parents[1]
SMALL_RUN = [
    "--config", str(ROOT / "experiments/runs/smoke_cpu.yaml"), "--run.logger=none",
    "--trainer.enable_progress_bar=false", "--trainer.enable_checkpointing=false",
]


def _cli(args: list[str], tmp_path: Path):
    from inpaint.lit.cli import InpaintCLI

    return InpaintCLI(args=expand_defaults([*SMALL_RUN, *args, f"--run.dir={tmp_path}"]), run=False, stage="fit",
                      parser_kwargs={"exit_on_error": False})


def test_every_run_preset_names_known_model_and_loss_presets() -> None:
    assert preset_names() == sorted(PRESETS) == sorted(LOSS_PRESETS)
    for name in preset_names():
        content = yaml.safe_load(preset_fragment(name, "test").text)
        assert content["model"]["generator"]["init_args"]["preset"] == name
        assert content["model"]["losses"] == name


def test_deviations_compare_leaves() -> None:
    resolved = {"model": {"generator": {"init_args": {"preset": "official"}}, "losses": "paper",
                          "lr_step_epochs": 3, "lr_gamma": 0.1}, "data": {"init_args": {"smoothing": "rtv"}}}
    assert preset_deviations("official", resolved) == {"model.losses": ("official", "paper")}
    del resolved["data"]
    assert set(preset_deviations("official", resolved)) == {"model.losses", "data.init_args.smoothing"}


def test_unknown_preset_is_a_user_error() -> None:
    with pytest.raises(UserInputError, match="unknown preset 'offical'"):
        expand_defaults(["--preset", "offical"])


@pytest.mark.filterwarnings("ignore:LightningCLI's args parameter is intended")
@pytest.mark.parametrize("how", ["flag", "config"])
def test_preset_official_applies_loss_schedule_and_smoothing(how: str, tmp_path: Path) -> None:
    if how == "flag":
        args = ["--preset", "official"]
    else:
        config = tmp_path / "official.yaml"
        config.write_text(f"defaults: [{ROOT / 'experiments/runs/smoke_cpu.yaml'}]\npreset: official\n")
        args = ["--config", str(config)]
    cli = _cli(args, tmp_path / "run")
    cfg = cli.config
    assert cfg.preset == "official" and cfg.preset_overrides is None
    assert cfg.model.generator.init_args.preset == "official"
    assert cfg.model.losses == "official" and cfg.model.lr_step_epochs == 3 and cfg.model.lr_gamma == 0.1
    assert cfg.data.init_args.smoothing == "rtv"
    assert cli.model.losses == LOSS_PRESETS["official"]
    assert cli.model.generator.encoder_options.depths == (2, 2, 6, 6)  # the official encoder options
    assert cli.datamodule.priors.smoothing == "rtv"


@pytest.mark.filterwarnings("ignore:LightningCLI's args parameter is intended")
def test_a_mixed_preset_is_recorded(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="preset 'official' is not applied whole: model.losses='paper'"):
        cli = _cli(["--preset", "official", "--model.losses=paper"], tmp_path / "mixed")
    assert cli.config.preset_overrides == {"model.losses": "'official' -> 'paper'"}
    hybrid = _cli(["--model.generator.init_args.preset=official"], tmp_path / "hybrid")  # the old silent hybrid
    assert set(hybrid.config.preset_overrides) == {
        "model.losses", "model.lr_step_epochs", "data.init_args.smoothing"}  # lr_gamma 0.1 is also the default


@pytest.mark.filterwarnings("ignore:LightningCLI's args parameter is intended")
def test_the_official_step_schedule_counts_epochs_of_the_real_loader(tmp_path: Path) -> None:
    """StepLR(3 epochs) needs the epoch length, which Lightning only knows once the train loader exists."""
    cli = _cli(["--preset", "official", "--trainer.max_steps=1", "--trainer.limit_val_batches=0"], tmp_path / "run")
    cli.trainer.fit(cli.model, cli.datamodule)
    per_epoch = int(cli.trainer.num_training_batches)
    scheduler = cli.trainer.lr_scheduler_configs[0].scheduler
    assert scheduler.lr_lambdas[0].milestones[:2] == [3 * per_epoch, 6 * per_epoch]
