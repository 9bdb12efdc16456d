"""The LightningCLI wrapper in-process: config composition, location overlays and one-line errors for bad input."""

from __future__ import annotations

import os

import pytest
import yaml

from inpaint.lit.cli import CLIInputError, expand_defaults, run_cli, substitute_locations

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = """
seed_everything: 0
model:
  generator: {class_path: _tiny_models.TinyGenerator}
  discriminator: {class_path: _tiny_models.TinyDiscriminator}
data: {class_path: _tiny_models.TinyDataModule}
trainer: {accelerator: cpu, max_steps: 2, limit_val_batches: 1, num_sanity_val_steps: 0, enable_model_summary: false,
          log_every_n_steps: 1, val_check_interval: 1, check_val_every_n_epoch: null}
run: {logger: csv, checkpoint_every_n_steps: 1}
"""


@pytest.fixture
def tiny_config(tmp_path) -> str:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return str(path)


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    lines = [line for line in err if line.startswith("inpaint: error:")]
    assert len(lines) == 1, err
    return lines[0]


def test_fit_writes_a_complete_run_folder(tiny_config, tmp_path):
    root = str(tmp_path / "runs")
    assert run_cli(["fit", "--config", tiny_config, f"--run.root={root}", "--run.experiment=cli"]) == 0
    run_dir = os.path.join(root, "cli", "tinygenerator", "version_0")
    ckpts = ["epoch0000.ckpt", "last.ckpt", "step00000001.ckpt", "step00000002.ckpt"]
    assert sorted(os.listdir(os.path.join(run_dir, "checkpoints"))) == sorted(ckpts + [f"{c}.sha256" for c in ckpts])
    saved = yaml.safe_load(open(os.path.join(run_dir, "config.yaml")))
    assert saved["model"]["generator"]["class_path"] == "_tiny_models.TinyGenerator"
    assert saved["trainer"]["max_steps"] == 2
    assert os.path.isfile(os.path.join(run_dir, "logs", "csv", "metrics.csv"))
    assert os.path.isfile(os.path.join(run_dir, "summary.json"))
    assert any(name.endswith(".png") for name in os.listdir(os.path.join(run_dir, "images")))


def test_unknown_config_key_is_one_line(tiny_config, tmp_path, capsys):
    rc = run_cli(["fit", "--config", tiny_config, f"--run.root={tmp_path}", "--model.lerning_rate=3"])
    assert rc == 2
    assert "lerning_rate" in _error_line(capsys)


def test_wrong_class_path_is_one_line(tiny_config, tmp_path, capsys):
    rc = run_cli(["fit", "--config", tiny_config, f"--run.root={tmp_path}",
                  "--model.generator.class_path=inpaint.models.generators.tsgl.NoSuchGenerator"])
    assert rc == 2
    line = _error_line(capsys)
    assert "NoSuchGenerator" in line


def test_empty_data_folder_is_one_line(tiny_config, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    rc = run_cli(["fit", "--config", tiny_config, f"--run.root={tmp_path}",
                  "--data=inpaint.data.datamodule.InpaintDataModule", "--data.source=folder",
                  f"--data.data_root={empty}"])
    assert rc == 2
    line = _error_line(capsys)
    assert "no images found" in line and str(empty) in line


def test_missing_checkpoint_is_one_line(tiny_config, tmp_path, capsys):
    missing = str(tmp_path / "nope" / "last.ckpt")
    assert run_cli(["fit", "--config", tiny_config, f"--run.root={tmp_path}", f"--ckpt_path={missing}"]) == 2
    assert "checkpoint not found" in _error_line(capsys)
    # "last" for test/validate needs something to evaluate
    assert run_cli(["test", "--config", tiny_config, f"--run.root={tmp_path}", "--run.version=v9",
                    "--ckpt_path=last"]) == 2
    assert "no intact checkpoint" in _error_line(capsys)


def test_defaults_are_expanded_relative_to_their_file(tmp_path):
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "a.yaml").write_text("trainer: {max_steps: 1}\n")
    (tmp_path / "parts" / "b.yaml").write_text("defaults: [a.yaml]\ntrainer: {max_steps: 2}\n")
    run = tmp_path / "run.yaml"
    run.write_text("defaults:\n  - parts/b.yaml\n  - ?missing-location.yaml\nrun: {experiment: x}\n")
    argv = expand_defaults(["fit", "--config", str(run), "--trainer.max_steps=3"])
    files = [argv[i + 1] for i, a in enumerate(argv) if a == "--config"]
    assert [os.path.normpath(f) for f in files] == [
        str(tmp_path / "parts" / "a.yaml"), str(tmp_path / "parts" / "b.yaml"), str(run)]
    assert argv[0] == "fit" and argv[-1] == "--trainer.max_steps=3"
    (tmp_path / "loop.yaml").write_text("defaults: [loop.yaml]\n")
    with pytest.raises(CLIInputError, match="cycle"):
        expand_defaults(["--config", str(tmp_path / "loop.yaml")])
    with pytest.raises(CLIInputError, match="not found"):
        expand_defaults(["--config", str(tmp_path / "absent.yaml")])


def test_location_references_are_filled_or_explained():
    value = {"data_root": "${location.celeba}/train", "other": ["${location.masks}", 3]}
    filled = substitute_locations(value, {"celeba": "/d/celeba", "masks": "/d/m"}, "loc.yaml")
    assert filled == {"data_root": "/d/celeba/train", "other": ["/d/m", 3]}
    with pytest.raises(CLIInputError, match=r"location.*places2.*loc.yaml"):
        substitute_locations({"data_root": "${location.places2}"}, {}, "loc.yaml")


def test_shipped_experiment_configs_parse(capsys):
    """Every named run composes and validates (print_config exits 0) — paths stay placeholders until fit."""
    runs = os.path.join(REPO, "experiments", "runs")
    for name in sorted(os.listdir(runs)):
        rc = run_cli(["fit", "--config", os.path.join(runs, name), "--print_config"])
        out = capsys.readouterr().out
        assert rc == 0, name
        config = yaml.safe_load(out)
        generator = config["model"]["generator"]
        assert generator["init_args"]["size"] == "paper" or name == "smoke_cpu.yaml", name
        if name.startswith("tsgl_") or name == "smoke_cpu.yaml":
            assert generator["class_path"].endswith("TSGLGenerator"), name
        if name.startswith("tsgl_"):
            assert config["data"]["init_args"]["resolution"] == 256
        if name.startswith("table3_"):  # Table III rows: 512², the host's own recipe, LaMa's three mask kinds
            host = {"table3_hifill_places2.yaml": ("HiFillGenerator", "GlobalCritic", "wgan"),
                    "table3_lama_places2.yaml": ("LaMaGenerator", "NLayerDiscriminator", "bce"),
                    "table3_ours_lama_places2.yaml": ("OursLaMaGenerator", "NLayerDiscriminator", "bce")}[name]
            assert generator["class_path"].endswith(host[0]), name
            assert config["model"]["discriminator"]["class_path"].endswith(host[1]), name
            assert config["model"]["losses"]["adversarial"] == host[2], name
            assert config["data"]["init_args"]["resolution"] == 512
            assert config["data"]["init_args"]["lama_eval_kinds"] == ["thin", "medium", "thick"]
        if name.startswith(("pyramid_", "deepfillv2_")):  # seed 002's setting: 512², batch 4, its masks
            discriminator = "LevelDiscriminators" if name.startswith("pyramid_") else "SNPatchGAN"
            assert config["model"]["discriminator"]["class_path"].endswith(discriminator), name
            assert config["model"]["losses"]["adversarial"] == "hinge", name
            data = config["data"]["init_args"]
            assert (data["resolution"], data["batch_size"], data["train_masks"], data["eval_masks"]) == (
                512, 4, "deepfill", "center"), name
    expected_epochs = {"tsgl_celeba.yaml": 150, "tsgl_places2.yaml": 20, "tsgl_psv.yaml": 150}
    for name, epochs in expected_epochs.items():
        run_cli(["fit", "--config", os.path.join(runs, name), "--print_config"])
        assert yaml.safe_load(capsys.readouterr().out)["trainer"]["max_epochs"] == epochs


def test_named_run_without_location_explains_the_overlay(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc = run_cli(["fit", "--config", os.path.join(REPO, "experiments", "runs", "tsgl_celeba.yaml"),
                  "--trainer.accelerator=cpu", f"--run.root={tmp_path}"])
    assert rc == 2
    line = _error_line(capsys)
    assert "location.celeba" in line and "location.example.yaml" in line


def test_run_experiment_fit_then_test_in_process(tiny_config, tmp_path):
    from inpaint.lit.runner import overrides_to_args, run_experiment

    assert overrides_to_args({"a.b": 1, "c": [1, 2], "d": "x"}) == ["--a.b=1", "--c=[1, 2]", "--d=x"]
    run_dir = str(tmp_path / "trial-0")
    light = tmp_path / "light-evaluation.yaml"  # the full protocol (FID, LPIPS, PNGs) is tested by its owner
    light.write_text("trainer:\n  callbacks:\n    - class_path: inpaint.lit.evaluation.EvaluationWriter\n"
                     "      init_args: {fid: false, lpips_net: null, save_images: false}\n")
    configs = [tiny_config, str(light)]
    result = run_experiment(configs, {"trainer.max_steps": 3, "model.ema_decay": 0.9}, run_dir)
    assert result["run_dir"] == run_dir and os.path.isfile(result["ckpt_path"])
    assert result["config"]["trainer"]["max_steps"] == 3 and result["config"]["model"]["ema_decay"] == 0.9
    assert {"val/psnr", "test/psnr", "train/loss_g"} <= set(result["metrics"])
    assert os.path.isfile(os.path.join(run_dir, "metrics.json")) and "test" in result["metrics"]
    again = run_experiment(configs, ["--trainer.max_steps=3", "--model.ema_decay=0.9"], run_dir, stage="test")
    assert again["ckpt_path"] == result["ckpt_path"]  # evaluates the newest intact checkpoint of the run
    assert again["metrics"]["test/psnr"] == pytest.approx(result["metrics"]["test/psnr"], abs=1e-4)
    assert os.path.isfile(os.path.join(run_dir, "config.test.yaml")) and os.path.isfile(
        os.path.join(run_dir, "config.yaml"))
    with pytest.raises(ValueError, match="stage"):
        run_experiment([tiny_config], None, run_dir, stage="train")  # type: ignore[arg-type]


def test_fit_then_test_with_the_csv_logger(tiny_config, tmp_path):
    """Lightning's CSVLogger (logs/csv/metrics.csv) and the evaluation writer (metrics.csv of the run) used to write
    the same file and crash at test time with "dict contains fields not in fieldnames"."""
    from inpaint.lit.runner import run_experiment

    run_dir = tmp_path / "trial-csv"
    overrides = ["--run.evaluation.fid=false", "--run.evaluation.lpips_net=null", "--run.evaluation.raw_fid=false"]
    result = run_experiment([tiny_config], overrides, str(run_dir))  # tiny_config has run.logger: csv
    assert "test" in result["metrics"] and (run_dir / "metrics.json").is_file()
    header = (run_dir / "metrics.csv").read_text().splitlines()[0]
    assert header.startswith("scheme,bucket")  # the bucket table, not Lightning's step log
    assert "train/loss_g" in (run_dir / "logs" / "csv" / "metrics.csv").read_text().splitlines()[0]
    ids = sorted(p.name for p in (run_dir / "composites").iterdir())
    assert ids and sorted(p.name for p in (run_dir / "masked").iterdir()) == ids
    assert sorted(p.name for p in (run_dir / "targets").iterdir()) == ids
    assert result["config"]["run"]["evaluation"]["fid"] is False


def test_writer_never_writes_into_the_csv_loggers_folder(tmp_path):
    """Outside the CLI the writer defaults to the run folder, not ``trainer.log_dir`` (= the CSVLogger's folder), and
    a logger pointed at the very same folder is refused with a clear message instead of a csv crash."""
    from _tiny_models import TinyDataModule, TinyDiscriminator, TinyGenerator
    from lightning.pytorch import Trainer
    from lightning.pytorch.loggers import CSVLogger

    from inpaint.lit.evaluation import EvaluationWriter
    from inpaint.lit.module import InpaintingGAN

    def trainer(logger) -> Trainer:
        writer = EvaluationWriter(fid=False, lpips_net=None, save_images=False)
        return Trainer(
            accelerator="cpu",
            default_root_dir=str(tmp_path),
            logger=logger,
            max_steps=1,
            callbacks=[writer],
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )

    model = InpaintingGAN(TinyGenerator(), TinyDiscriminator())
    trainer(CSVLogger(str(tmp_path), name="logs", version="csv")).test(model, TinyDataModule(), verbose=False)
    assert (tmp_path / "metrics.csv").read_text().startswith("scheme,bucket")
    clash = trainer(CSVLogger(str(tmp_path), name="", version=""))
    with pytest.raises(ValueError, match="CSVLogger"):
        clash.test(model, TinyDataModule(), verbose=False)


LIMIT_PROBE = """
import sys
import rich.console  # imported before Lightning, as `inpaint sweep` does: typing then caches Union[float, int] first
from inpaint.lit.cli import InpaintCLI, expand_defaults
from inpaint.lit.runner import overrides_to_args
from inpaint.commands.sweep import parse_override
config, run_dir, *texts = sys.argv[1:]
for text in texts:
    key, value = parse_override("trainer.limit_val_batches=" + text)
    args = expand_defaults(["--config", config]) + overrides_to_args({key: value})
    cli = InpaintCLI(args=[*args, "--run.dir=" + run_dir, "--run.logger=none"], run=False, stage="fit",
                     parser_kwargs={"exit_on_error": False})
    print("LIMIT", text, repr(cli.trainer.limit_val_batches))
"""


def test_sweep_override_limit_val_batches_stays_an_int(tiny_config, tmp_path):
    """``-o trainer.limit_val_batches=1`` is one batch (int), ``1.0`` all of them: jsonargparse keeps the first Union
    member that accepts "1", and the import order of the sweep command made Lightning's annotation float-first."""
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.join(REPO, "tests"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", LIMIT_PROBE, tiny_config, str(tmp_path / "r"), "1", "3", "0.5", "1.0"],
                          capture_output=True, text=True, env=env, timeout=120, cwd=REPO)
    found = [line.split()[1:] for line in done.stdout.splitlines() if line.startswith("LIMIT")]
    assert found == [["1", "1"], ["3", "3"], ["0.5", "0.5"], ["1.0", "1.0"]], done.stderr[-2000:]


def test_bad_option_checked_by_a_constructor_is_one_line(tiny_config, tmp_path, capsys):
    """The parser wraps the data module's UserInputError in its own Union error; the original message is shown."""
    rc = run_cli(["fit", "--config", tiny_config, f"--run.root={tmp_path}",
                  "--data=inpaint.data.datamodule.InpaintDataModule", "--data.eval_buckets=[[0.5, 0.2]]"])
    assert rc == 2
    line = _error_line(capsys)
    assert "bad bucket (0.5, 0.2)" in line and "Union" not in line


@pytest.mark.parametrize("error", [ValueError("internal slip"), KeyError("internal slip")])
def test_an_internal_error_keeps_its_traceback(tiny_config, tmp_path, monkeypatch, error):
    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr("inpaint.lit.cli.resolve_run_dir", broken)
    with pytest.raises(type(error), match="internal slip"):
        run_cli(["fit", "--config", tiny_config, f"--run.root={tmp_path}"])


def test_an_internal_error_wrapped_by_the_parser_keeps_its_traceback(tiny_config, tmp_path, monkeypatch):
    """A bug inside a constructor the parser calls is re-raised by it as a ValueError: still not a user error."""
    def broken(*args, **kwargs):
        raise KeyError("internal slip")

    monkeypatch.setattr("inpaint.data.datamodule.validate_buckets", broken)
    with pytest.raises(ValueError) as caught:
        run_cli(["fit", "--config", tiny_config, f"--run.root={tmp_path}",
                 "--data=inpaint.data.datamodule.InpaintDataModule"])
    assert "internal slip" in str(caught.value)


def test_an_evaluation_option_is_checked_once_for_every_entry_point(tiny_config, tmp_path, capsys):
    rc = run_cli(["test", "--config", tiny_config, f"--run.root={tmp_path}", "--run.evaluation.schemes=[nosuch]"])
    assert rc == 2
    assert "unknown bucket scheme(s) ['nosuch']" in _error_line(capsys)


@pytest.mark.parametrize(("content", "says"), [("", "is empty"), ("- a\n- b\n", "holds a list, not a mapping")])
def test_an_empty_or_non_mapping_config_is_one_line(tmp_path, capsys, content: str, says: str):
    path = tmp_path / "run.yaml"
    path.write_text(content)
    assert run_cli(["fit", "--config", str(path)]) == 2
    line = _error_line(capsys)
    assert f"config file {path} {says}" in line and "smoke_cpu.yaml" in line
