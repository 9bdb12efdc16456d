"""A config's data module or generator built alone is the one ``inpaint fit`` builds from the same files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from _small_runs import ROOT, unchecked_small_cli

from inpaint.errors import UserInputError
from inpaint.lit.config_sections import datamodule_from_configs, generator_from_configs


def _plain(hparams) -> dict:
    """Hyper-parameters as comparable data: tuples as lists, without the parser's private ``_…`` entries."""
    return {k: v for k, v in json.loads(json.dumps(dict(hparams))).items() if not k.startswith("_")}


MODEL = ["experiments/model/tsgl.yaml", "experiments/model/variants/global__local.yaml"]


def test_the_sections_equal_what_the_cli_composes(tmp_path):
    cli = unchecked_small_cli(tmp_path / "run", MODEL)
    files = [str(ROOT / f) for f in ["experiments/data/embedded.yaml", *MODEL, "experiments/trainer/cpu-small.yaml"]]
    datamodule = datamodule_from_configs([files[0], files[-1]])
    expected = _plain(cli.datamodule.hparams)
    expected["batch_size"] = 8  # small_cli shrinks the batch on its command line
    assert _plain(datamodule.hparams) == expected
    torch.manual_seed(0)
    generator = generator_from_configs(files)
    assert generator.variant.name == "Global->Local"
    assert generator.profile.name == cli.model.generator.profile.name == "small"  # the profile's width overlay
    assert {k: v.shape for k, v in generator.state_dict().items()} == {
        k: v.shape for k, v in cli.model.generator.state_dict().items()}


def test_a_file_without_the_section_is_named(tmp_path):
    with pytest.raises(UserInputError, match="has a generator section"):
        generator_from_configs([str(ROOT / "experiments/data/embedded.yaml")])


def test_location_references_are_filled(tmp_path: Path):
    (tmp_path / "photos").mkdir()
    config = tmp_path / "data.yaml"
    config.write_text("location: {photos: " + str(tmp_path / "photos") + "}\n"
                      "data:\n  class_path: inpaint.data.datamodule.InpaintDataModule\n"
                      "  init_args: {source: folder, data_root: '${location.photos}'}\n")
    assert datamodule_from_configs([str(config)]).hparams.data_root == str(tmp_path / "photos")
