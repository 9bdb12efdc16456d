"""External rows of the compare leaderboard (``--external NAME=DIR``): the fixed test set exported as files, another
system's folder checked against it (manifest fingerprint, names, sizes) and scored by the suite's metric code exactly
as ``inpaint evaluate`` scores it; one-line errors for a missing file, a wrong size, another test set."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from PIL import Image

from inpaint.commands.evaluate import evaluate_folders
from inpaint.commands.report import main as report_main
from inpaint.data.datamodule import InpaintDataModule
from inpaint.data.image_io import read_known_mask, read_rgb
from inpaint.data.test_set import MANIFEST, export_test_set, fingerprint
from inpaint.errors import MissingPathError, UserInputError
from inpaint.metrics.options import MetricOptions
from inpaint.report.compare import BUCKETS, build_compare_table
from inpaint.report.compare_external import parse_external, score_externals
from inpaint.report.records import TrialRecord

#: a tiny test set: synthetic 32² crops, irregular masks, 2 per paper bucket → 8 images
DATA = {"source": "synthetic", "resolution": 32, "eval_masks": "irregular", "eval_per_bucket": 2, "seed": 0,
        "eval_buckets": [[0.1, 0.2], [0.2, 0.3], [0.3, 0.4], [0.4, 0.5]]}
OPTIONS = MetricOptions(fid=False, lpips_net=None)  # no Inception / AlexNet: seconds, not minutes
EVALUATION = {"fid": False, "lpips_net": None, "raw_fid": False}


def config(**changes) -> dict:
    return {"data": {"class_path": "inpaint.data.datamodule.InpaintDataModule", "init_args": {**DATA, **changes}},
            "run": {"evaluation": EVALUATION}}


def telea_record(psnr: float = 30.0) -> TrialRecord:
    values = {"psnr": psnr, "ssim": 0.9, "l1": 0.01, "rel_l1_pct": 2.0, "fid": None, "lpips": None}
    rows = [{"scheme": "all", "bucket": "all", "n": 8, "values": {"composite": values}}]
    rows += [{"scheme": "paper", "bucket": b, "n": 2, "values": {"composite": {"psnr": psnr}}} for b in BUCKETS]
    cost = {"params": 0, "macs": 0, "resolution": [32, 32], "inference_ms_per_image": 1.0, "device": "cpu",
            "threads": 1}
    return TrialRecord(0, {"system": "telea", "seed": 0}, {"protocol": {}, "buckets": rows}, config=config(),
                       attrs={"cost": cost, "loss": "none (nothing to train)"})


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("set")
    export_test_set(InpaintDataModule(**DATA), folder)
    return folder


def external_folder(exported: Path, target: Path, fill: str) -> Path:
    """A result folder: the ground truth itself (``gt``) or the masked input (hole = mid-grey, known pixels only)."""
    target.mkdir()
    for image in sorted((exported / "images").glob("*.png")):
        rgb = read_rgb(image)
        if fill == "masked":
            known = read_known_mask(exported / "masks" / image.name)
            rgb = np.where(known[..., None] > 0.5, rgb, 128).astype(np.uint8)
        Image.fromarray(rgb).save(target / image.name)
    shutil.copy(exported / MANIFEST, target / MANIFEST)
    return target


def test_export_writes_the_loaders_test_set(exported: Path) -> None:
    module = InpaintDataModule(**DATA)
    samples = module.fixed_test_samples()
    module.setup("test")
    loader_ids = [s["id"] for s in module.eval_sets["test"]]
    assert [s.id for s in samples] == loader_ids and len(samples) == 8
    for index, sample in enumerate(samples):  # the loader's pixels and masks, file for file
        item = module.eval_sets["test"][index]
        assert np.array_equal(read_rgb(exported / "images" / f"{sample.id}.png"), sample.rgb)
        known = read_known_mask(exported / "masks" / f"{sample.id}.png")  # the suite's mask files: white = hole
        assert np.array_equal(known, sample.known) and np.array_equal(known, item["mask"][0].numpy())
    import json

    manifest = json.loads((exported / MANIFEST).read_text())
    assert manifest["fingerprint"] == fingerprint(samples) and manifest["n"] == 8
    assert manifest["protocol"]["resolution"] == [32, 32] and manifest["mask_files"].startswith("white (255) = hole")
    assert fingerprint(InpaintDataModule(**{**DATA, "seed": 1}).fixed_test_samples()) != manifest["fingerprint"]


def test_ground_truth_folder_is_the_best_row_and_masked_input_equals_evaluate(exported: Path, tmp_path: Path) -> None:
    oracle = external_folder(exported, tmp_path / "oracle", "gt")
    masked = external_folder(exported, tmp_path / "masked", "masked")
    results = score_externals([telea_record()], [("Oracle", oracle), ("Masked", masked)], OPTIONS)
    best = results[0].report.bucket("all", "all")
    assert best.get("psnr") == math.inf and best.get("l1") == 0.0 and best.get("ssim") == pytest.approx(1.0)
    # the row's numbers are `inpaint evaluate`'s on the same folder against the exported files, bucket for bucket
    reference = evaluate_folders(str(masked), str(exported / "images"), str(exported / "masks"), options=OPTIONS)
    ours = {(r.scheme, r.bucket): (r.n, r.values) for r in results[1].report.buckets}
    theirs = {(r.scheme, r.bucket): (r.n, r.values) for r in reference.buckets}
    assert ours == theirs and ("paper", "10-20%") in ours
    table = build_compare_table([telea_record()], external=results)
    assert [row.label for row in table.rows] == ["Oracle (external)", "Telea (OpenCV)", "Masked (external)"]
    row = table.row("Masked (external)")
    assert row.cells["psnr_all"].ours.mean == pytest.approx(reference.bucket("all", "all").get("psnr"))
    assert row.cells["psnr_10-20pct"].ours.mean == pytest.approx(reference.bucket("paper", "10-20%").get("psnr"))
    assert all(row.cells[k].ours.mean is None and row.cells[k].reason == "external" for k in row.cells
               if k.endswith("_cost"))
    assert row.text["loss"] == "n/a (external)"
    assert table.row("Oracle (external)").cells["psnr_all"].ours.mean == math.inf
    notes = " | ".join(table.notes)
    assert "n/a: external" in notes and "beat it: Oracle (external) (+inf dB)" in notes


@pytest.mark.parametrize("fault", ["missing", "size", "extra", "other-set", "no-manifest"])
def test_bad_folders_stop_with_one_line_naming_the_file(exported: Path, tmp_path: Path, fault: str) -> None:
    folder = external_folder(exported, tmp_path / "ext", "gt")
    victim = sorted(folder.glob("*.png"))[3]
    if fault == "missing":
        victim.unlink()
    elif fault == "size":
        Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(victim)
    elif fault == "extra":
        shutil.copy(victim, folder / "stray.png")
        victim = folder / "stray.png"
    elif fault == "other-set":
        export_test_set(InpaintDataModule(**{**DATA, "seed": 1}), tmp_path / "other")
        shutil.copy(tmp_path / "other" / MANIFEST, folder / MANIFEST)
        victim = folder / MANIFEST
    else:
        (folder / MANIFEST).unlink()
        victim = folder / MANIFEST
    error = MissingPathError if fault in ("missing", "no-manifest") else UserInputError
    with pytest.raises(error) as caught:
        score_externals([telea_record()], [("Sys", folder)], OPTIONS)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("--external Sys: ") and str(victim) in message
    with pytest.raises(UserInputError, match="expected NAME=DIR"):
        parse_external("just-a-folder")


def test_report_command_adds_the_row_and_errors_in_one_line(exported: Path, tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    study = optuna.create_study(storage=url, study_name="compare-cpu", direction="maximize")
    for key, value in {"report": "compare", "out_dir": str(tmp_path / "compare"), "facts": {"data": "toy"}}.items():
        study.set_user_attr(key, value)
    record = telea_record()
    study.add_trial(optuna.create_trial(
        params={"system": "telea", "seed": 0}, value=30.0,
        distributions={"system": CategoricalDistribution(["telea"]), "seed": CategoricalDistribution([0])},
        user_attrs={"metrics": record.metrics, "config": record.config, "cost": record.attrs["cost"],
                    "loss": record.attrs["loss"]}))
    masked = external_folder(exported, tmp_path / "masked", "masked")
    oracle = external_folder(exported, tmp_path / "oracle", "gt")  # PSNR inf: the chart labels it, draws no bar
    assert report_main(["--study", "compare-cpu", "--storage", url, "--external", f"Masked={masked}",
                        "--external", f"Oracle={oracle}"]) == 0
    out = capsys.readouterr().out
    assert "| Oracle (external) | 0 | n/a (external) | **inf** |" in out
    assert (tmp_path / "compare" / "compare.png").is_file()
    assert "| Masked (external) | 0 | n/a (external) |" in out and "| n/a (external) | n/a (external) |" in out
    assert "Masked (external)" in (tmp_path / "compare" / "compare.csv").read_text()
    (masked / sorted(p.name for p in masked.glob("*.png"))[0]).unlink()
    assert report_main(["--study", "compare-cpu", "--storage", url, "--external", f"Masked={masked}"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("inpaint report: error: compare-cpu: --external Masked: ")
    assert "is missing" in err


def test_sweep_exports_the_profile_test_set_from_the_trials_config(tmp_path: Path, capsys) -> None:
    from inpaint.commands.sweep import main as sweep_main

    out = tmp_path / "set"
    assert sweep_main(["compare", "--profile", "cpu", "--results", str(tmp_path / "results"), "--export-test-set",
                       str(out), "-o", "data.init_args.eval_per_bucket=1"]) == 0
    assert "wrote the fixed test set (4 images at 64×64" in capsys.readouterr().out
    assert not list((tmp_path / "results").rglob("*.db"))  # nothing trained, no study opened
    import json

    manifest = json.loads((out / MANIFEST).read_text())
    # the cpu profile's test set: embedded photos at 64², irregular masks, one per paper bucket, seed 0
    module = InpaintDataModule(source="embedded", resolution=64, eval_masks="irregular", eval_per_bucket=1,
                               eval_buckets=[[0.1, 0.2], [0.2, 0.3], [0.3, 0.4], [0.4, 0.5]])
    assert manifest["fingerprint"] == fingerprint(module.fixed_test_samples())
    assert sorted(p.name for p in (out / "masks").glob("*.png")) == sorted(p.name for p in (out / "images").iterdir())
    assert sweep_main(["tau", "--external", f"X={out}"]) == 2
    assert "--external is for the compare study" in capsys.readouterr().err
