"""Seed 004's Table 1: the ``msfef`` study's rows, variant overlays and report (per left-closed bucket, L2 / SSIM /
PSNR / LPIPS, n/a rows with the missing file's reason), on hand-made trial records."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from _small_runs import small_cli

from inpaint.errors import MissingWeightsError, user_input_cause
from inpaint.report.msfef import build_msfef_table
from inpaint.report.paper.msfef import MSFEF_BUCKET_LABELS, MSFEF_PAPER, MSFEF_ROWS
from inpaint.report.records import TrialRecord
from inpaint.report.writers import to_csv, to_markdown
from inpaint.sweeps.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = [v for v, _ in MSFEF_ROWS]
# what each row of the seed's table switches off: (encoder, MSE terms on, perceptual on, style on)
ROW_MEANING = {
    "all_losses": ("msfef", True, True, True),
    "no_mse": ("msfef", False, True, True),
    "no_perceptual": ("msfef", True, False, True),
    "no_style": ("msfef", True, True, False),
    "no_perceptual_style": ("msfef", True, False, False),
    "pconv_all_losses": ("pconv", True, True, True),
    "pconv_no_perceptual_style": ("pconv", True, False, False),
}


def record(number: int, variant: str, seed: int, psnr: float) -> TrialRecord:
    """Every msfef bucket with PSNR ``psnr`` − 2·(bucket index) and matching L2; SSIM 0.5; no LPIPS."""
    rows = [{"scheme": "all", "bucket": "all", "n": 80, "values": {"composite": {"psnr": psnr, "lpips": None}}}]
    for i, bucket in enumerate(MSFEF_BUCKET_LABELS):
        value = psnr - 2 * i
        rows.append({"scheme": "msfef", "bucket": bucket, "n": 16,
                     "values": {"composite": {"psnr": value, "mse": 10 ** (-value / 10), "ssim": 0.5}}})
        rows.append({"scheme": "nvidia", "bucket": bucket, "n": 16, "values": {"composite": {"psnr": 0.0}}})
    metrics = {"protocol": {"fid_backend": "test", "notes": ["LPIPS n/a: no alexnet weights"]}, "buckets": rows}
    return TrialRecord(number, {"variant": variant, "seed": seed}, metrics)


def test_the_sweep_runs_every_row_and_each_overlay_says_what_its_row_switches_off() -> None:
    spec = load_spec("msfef", ROOT / "sweeps")
    assert spec.grid_axes([0])["variant"] == VARIANTS and spec.report == "msfef"
    overrides = spec.profile("cpu").overrides
    assert overrides["run.evaluation.schemes"] == ["msfef"] and overrides["data.init_args.bucket_closed"] == "left"
    assert [tuple(b) for b in overrides["data.init_args.eval_buckets"]] == [
        (0.01, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5)]
    recipe = yaml.safe_load((ROOT / "experiments/model/recipes/msfef.yaml").read_text())["model"]["losses"]
    for variant, (encoder, mse, perceptual, style) in ROW_MEANING.items():
        overlay = yaml.safe_load((ROOT / "experiments/model/msfef_variants" / f"{variant}.yaml").read_text())["model"]
        losses = {**recipe, **overlay["losses"]}
        assert overlay["generator"]["init_args"]["encoder"] == encoder
        assert losses["reconstruction_distance"] == "mse"
        assert (losses["valid_weight"], losses["hole_weight"]) == ((1.0, 6.0) if mse else (0.0, 0.0))
        assert losses["lambda_vgg_perceptual"] == (0.01 if perceptual else 0.0)  # the seed's weights
        assert losses["lambda_vgg_style"] == (120.0 if style else 0.0)
    assert MSFEF_PAPER["all_losses"]["1-10%"] == {"mse": 0.0014, "ssim": 0.9525, "psnr": 28.3496, "lpips": 0.1549}
    assert MSFEF_PAPER["pconv_all_losses"]["40-50%"]["psnr"] == 16.3764
    assert "pconv_no_perceptual_style" not in MSFEF_PAPER  # ours, not the seed's


def test_table_groups_by_bucket_with_paper_values_best_and_na_reasons() -> None:
    records = [record(0, "no_perceptual_style", 0, 24.0), record(1, "no_perceptual_style", 1, 26.0),
               record(2, "pconv_no_perceptual_style", 0, 27.0)]
    reason = "losses.lambda_vgg_perceptual / lambda_vgg_style: n/a — 'vgg16-397923af.pth' is not in '/hub'"
    unavailable = [({"variant": v, "seed": 0}, reason) for v in ("all_losses", "no_mse", "pconv_all_losses")]
    table = build_msfef_table(records, facts={"data": "test"}, unavailable=unavailable)
    assert [row.group for row in table.rows] == [b for b in MSFEF_BUCKET_LABELS for _ in MSFEF_ROWS]
    row = table.row("No perceptual, no style + MSFEF", "20-30%")
    assert row.seeds == [0, 1] and row.cells["psnr_msfef"].ours.mean == pytest.approx(21.0)  # (20 + 22) / 2
    assert row.cells["psnr_msfef"].paper == (19.7333,) and row.cells["mse_msfef"].paper == (0.0102,)
    assert row.cells["lpips_msfef"].ours.mean is None and row.cells["lpips_msfef"].paper == (0.3229,)
    # best within each bucket: the plain PConv row here; lower L2 is better
    assert table.best_row("psnr_msfef", "40-50%").label.startswith("No perceptual, no style, plain PConv")
    assert table.best_row("mse_msfef", "1-10%").label.startswith("No perceptual, no style, plain PConv")
    notes = " | ".join(table.notes)
    assert "n/a (All losses + MSFEF, No MSE + MSFEF, All losses, plain PConv): " + reason in notes
    assert "not run (no completed trial): No perceptual + MSFEF, No style + MSFEF" in notes
    assert "LPIPS n/a" in notes and "copy-paste" in notes
    text = to_markdown(table)
    assert "28.3496" in text or "28.35" in text
    assert "40-50%. [0.4, 0.5)" in text  # the group titles say which side is closed
    header = to_csv(table).splitlines()[0]
    assert "psnr_msfef" in header and "psnr_msfef_paper" in header and "mse_msfef" in header


@pytest.mark.filterwarnings("ignore:LightningCLI's args parameter is intended")  # pytest's own argv is not ours
def test_rows_with_vgg_terms_stop_at_start_up_naming_the_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # no weights there, whatever this machine has
    with pytest.raises(BaseException) as caught:
        small_cli(tmp_path, ["experiments/model/msfef_unet.yaml", "experiments/model/recipes/msfef.yaml",
                             "experiments/model/msfef_variants/no_style.yaml"],
                  "--model.generator.init_args.stages=6")
    missing = user_input_cause(caught.value) if not isinstance(caught.value, MissingWeightsError) else caught.value
    assert isinstance(missing, MissingWeightsError)
    assert missing.path == str(tmp_path / "torch" / "hub" / "checkpoints" / "vgg16-397923af.pth")
    assert "vgg16-397923af.pth" in str(missing) and "\n" not in str(missing)
