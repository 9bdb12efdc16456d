"""Table III's LaMa kind set in the same test pass: ``lama_eval_kinds`` adds a second test loader (thin / medium /
thick masks on the main set's crops), and the EvaluationWriter merges its ``lama`` rows into the main report;
``eval_kinds`` does the same for any mask generators (seed 002's free-form set), scored in the ``kind`` scheme."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

from inpaint.data.buckets import PAPER_BUCKETS
from inpaint.data.datamodule import InpaintDataModule, describe_eval_set
from inpaint.metrics.collection import InpaintingMetrics
from inpaint.metrics.inception import FIDBackend
from inpaint.metrics.results import BucketResult, MetricsReport, with_scheme_rows

SMALL = dict(source="synthetic", resolution=64, batch_size=4, eval_per_bucket=2, smoothing="none")
KINDS = ["thin", "medium", "thick"]


def _all(loader: DataLoader) -> dict:
    """Every batch of a loader, concatenated (tensors) or chained (lists)."""
    batches = list(loader)
    return {key: torch.cat([b[key] for b in batches]) if isinstance(batches[0][key], torch.Tensor)
            else [v for b in batches for v in b[key]] for key in batches[0]}  # fmt: skip


def test_default_keeps_a_single_test_loader():
    module = InpaintDataModule(**SMALL)
    assert isinstance(module.test_dataloader(), DataLoader)
    assert describe_eval_set(module)["lama_eval_kinds"] == []


def test_kind_set_is_a_second_test_loader_with_fixed_labelled_masks():
    module = InpaintDataModule(**SMALL, lama_eval_kinds=KINDS)
    loaders = module.test_dataloader()
    assert isinstance(loaders, list) and len(loaders) == 2
    main, kinds = _all(loaders[0]), _all(loaders[1])
    assert kinds["mask_kind"] == ["thin", "thin", "medium", "medium", "thick", "thick"]
    assert [i.split("__", 1)[1] for i in kinds["id"]] == [f"k{k}__m{m:03d}" for k in KINDS for m in range(2)]
    assert not set(kinds["id"]) & set(main["id"])
    # the same fixed crops as the main set, sample by sample
    assert torch.equal(kinds["image"], main["image"][:6])
    assert [i.split("__")[0] for i in kinds["id"]] == [i.split("__")[0] for i in main["id"][:6]]
    assert torch.allclose(kinds["hole_ratio"], 1 - kinds["mask"].mean(dim=(1, 2, 3)))
    # deterministic: another instance draws the very same masks
    again = _all(InpaintDataModule(**SMALL, lama_eval_kinds=KINDS).test_dataloader()[1])
    assert torch.equal(kinds["mask"], again["mask"]) and kinds["id"] == again["id"]
    # the main loader is unchanged by the option; val and predict stay single
    plain = _all(InpaintDataModule(**SMALL).test_dataloader())
    for key in ("image", "mask", "hole_ratio"):
        assert torch.equal(main[key], plain[key])
    assert main["id"] == plain["id"] and main["mask_kind"] == plain["mask_kind"]
    assert isinstance(module.val_dataloader(), DataLoader) and isinstance(module.predict_dataloader(), DataLoader)
    assert describe_eval_set(module)["lama_eval_kinds"] == KINDS


def test_kind_order_follows_the_option():
    kinds = _all(InpaintDataModule(**{**SMALL, "eval_per_bucket": 1}, lama_eval_kinds=["thick", "thin"])
                 .test_dataloader()[1])  # fmt: skip
    assert kinds["mask_kind"] == ["thick", "thin"]


@pytest.mark.parametrize(("kinds", "message"), [
    (["thin", "wide"], r"'wide' is not a LaMa mask kind; choose from thin, medium, thick"),
    (["thin", "thin"], r"names 'thin' twice"),
    ("thin", r"must be a list"),
])  # fmt: skip
def test_bad_kinds_fail_fast(kinds, message):
    with pytest.raises(ValueError, match=message):
        InpaintDataModule(**SMALL, lama_eval_kinds=kinds)


def test_eval_kinds_take_any_generator_and_exclude_lama_eval_kinds():
    module = InpaintDataModule(**SMALL, eval_kinds=["deepfill", "center"])
    kinds = _all(module.test_dataloader()[1])
    assert kinds["mask_kind"] == ["deepfill", "deepfill", "center", "center"]
    centre = kinds["mask"][2:]  # a centred square of 25 % of the area
    assert torch.allclose(1 - centre.mean(dim=(1, 2, 3)), torch.tensor([0.25, 0.25]), atol=0.02)
    assert describe_eval_set(module)["eval_kinds"] == ["deepfill", "center"]
    with pytest.raises(ValueError, match="not both"):
        InpaintDataModule(**SMALL, eval_kinds=["deepfill"], lama_eval_kinds=["thin"])
    with pytest.raises(ValueError, match=r"'stroke' is not a mask kind; choose from irregular, thin"):
        InpaintDataModule(**SMALL, eval_kinds=["stroke"])


def test_merge_replaces_the_scheme_rows_and_keeps_the_overall_row():
    def row(scheme, bucket, n, psnr):
        return BucketResult(scheme, bucket, n, {"composite": {"psnr": psnr}})

    main = MetricsReport([row("all", "all", 8, 20.0), row("paper", "10-20%", 2, 21.0), row("lama", "thin", 1, 5.0)],
                         {"buckets": ["all", "paper", "lama"], "notes": ["FID n/a: x"]})
    kinds = MetricsReport([row("all", "all", 6, 30.0), row("lama", "thin", 2, 31.0), row("lama", "thick", 2, 32.0)],
                          {"buckets": ["all", "lama"], "notes": ["FID n/a: x", "LPIPS n/a: y"]})
    merged = with_scheme_rows(main, kinds, "lama")
    assert [(r.scheme, r.bucket, r.n) for r in merged.buckets] == [
        ("all", "all", 8), ("paper", "10-20%", 2), ("lama", "thin", 2), ("lama", "thick", 2)]
    assert merged.protocol["buckets"] == ["all", "paper", "lama"]
    assert merged.protocol["notes"] == ["FID n/a: x", "LPIPS n/a: y"]
    assert main.bucket("lama", "thin").n == 1  # the inputs are left as they were
    without = with_scheme_rows(MetricsReport([row("all", "all", 8, 20.0)], {"buckets": ["all"]}), kinds, "lama")
    assert without.protocol["buckets"] == ["all", "lama"] and len(without.buckets) == 3


class TinyFeatures(nn.Module):
    """Stand-in for Inception (no weights needed): 2×2 average-pooled colours of uint8 images."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return nn.functional.adaptive_avg_pool2d(images.float() / 255.0, 2).flatten(1)


def test_writer_scores_the_kind_set_in_the_same_test_pass(tmp_path):
    from _tiny_models import TinyDiscriminator, TinyGenerator
    from lightning.pytorch import Trainer

    from inpaint.lit.evaluation import EvaluationWriter
    from inpaint.lit.module import InpaintingGAN

    metrics = InpaintingMetrics(fid_backend=FIDBackend("tiny stand-in", TinyFeatures()), lpips_net=None)
    writer = EvaluationWriter(out_dir=str(tmp_path / "run"), metrics=metrics)
    trainer = Trainer(accelerator="cpu", callbacks=[writer], logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, default_root_dir=str(tmp_path))
    model = InpaintingGAN(TinyGenerator(), TinyDiscriminator())
    results = trainer.test(model, InpaintDataModule(**SMALL, lama_eval_kinds=KINDS), verbose=False)

    data = json.loads((tmp_path / "run" / "metrics.json").read_text())
    rows = {(r["scheme"], r["bucket"]): r for r in data["buckets"]}
    main_size = 2 * len(PAPER_BUCKETS)
    assert rows[("all", "all")]["n"] == main_size  # the overall row is the main set alone
    assert [(s, b, r["n"]) for (s, b), r in rows.items() if s == "lama"] == [("lama", k, 2) for k in KINDS]
    for kind in KINDS:
        values = rows[("lama", kind)]["values"]["composite"]
        assert values["psnr"] is not None and values["fid"] is not None  # n = 2 is enough for a (tiny) FID
    assert rows[("paper", "10-20%")]["n"] == 2 and "lama" in data["protocol"]["buckets"]
    csv_rows = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    assert sum(line.startswith("lama,") for line in csv_rows) == 3
    # images: the main folders hold the main set only, the kind set has its own
    for folder in ("composites", "masked", "targets"):
        main_files = sorted(p.name for p in (tmp_path / "run" / folder).glob("*.png"))
        kind_files = sorted(p.name for p in (tmp_path / "run" / "lama_kinds" / folder).glob("*.png"))
        assert len(main_files) == main_size and all("__b" in name for name in main_files)
        assert len(kind_files) == 6 and all("__k" in name for name in kind_files)
    # the quick test metrics keep their names (main set only); the result of loader 0 carries them
    assert "test/psnr" in trainer.callback_metrics and "test/l1" in trainer.callback_metrics
    assert not any("dataloader_idx" in key for key in trainer.callback_metrics)
    assert len(results) == 2 and "test/psnr" in results[0]
    assert trainer.callback_metrics["eval/psnr"] == pytest.approx(writer.report.overall.get("psnr"), rel=1e-6)


def test_writer_scores_any_kind_set_in_the_kind_scheme(tmp_path):
    from _tiny_models import TinyDiscriminator, TinyGenerator
    from lightning.pytorch import Trainer

    from inpaint.lit.evaluation import EvaluationWriter
    from inpaint.lit.module import InpaintingGAN

    metrics = InpaintingMetrics(fid=False, lpips_net=None)
    writer = EvaluationWriter(out_dir=str(tmp_path / "run"), metrics=metrics)
    trainer = Trainer(accelerator="cpu", callbacks=[writer], logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, default_root_dir=str(tmp_path))
    trainer.test(InpaintingGAN(TinyGenerator(), TinyDiscriminator()),
                 InpaintDataModule(**SMALL, eval_kinds=["deepfill", "thin"]), verbose=False)
    rows = {(r.scheme, r.bucket): r.n for r in writer.report.buckets}
    assert rows[("kind", "deepfill")] == 2 and rows[("kind", "thin")] == 2
    assert rows[("lama", "thin")] == 2 and ("lama", "deepfill") not in rows  # LaMa's rows: its kinds only
    assert rows[("all", "all")] == 2 * len(PAPER_BUCKETS)  # the overall row is still the main set alone


CONFIG = """
seed_everything: 0
model:
  generator: {class_path: _tiny_models.TinyGenerator}
  discriminator: {class_path: _tiny_models.TinyDiscriminator}
data:
  class_path: inpaint.data.datamodule.InpaintDataModule
  init_args: {source: synthetic, resolution: 64, batch_size: 4, eval_per_bucket: 1, smoothing: none, train_length: 4}
trainer: {accelerator: cpu, max_steps: 1, num_sanity_val_steps: 0, enable_model_summary: false,
          enable_progress_bar: false, enable_checkpointing: false}
run: {logger: none, evaluation: {fid: false, lpips_net: null, raw_fid: false, save_images: false}}
"""


def test_sweep_override_reaches_the_data_module_and_the_trial_metrics(tmp_path):
    """A sweep's list override (YAML list → ``overrides_to_args``) sets the option, and ``run_experiment`` keeps the
    quick metrics of the main set and the merged report."""
    from inpaint.commands.sweep import parse_override
    from inpaint.lit.runner import run_experiment

    config = tmp_path / "tiny.yaml"
    config.write_text(CONFIG)
    key, value = parse_override("data.init_args.lama_eval_kinds=[thin, medium, thick]")  # as `-o` on the command line
    result = run_experiment([str(config)], {key: value}, str(tmp_path / "trial"))
    assert result["config"]["data"]["init_args"]["lama_eval_kinds"] == KINDS
    assert "test/psnr" in result["metrics"] and not any("dataloader_idx" in k for k in result["metrics"])
    rows = [(r["scheme"], r["bucket"], r["n"]) for r in result["metrics"]["test"]["buckets"]]
    assert ("all", "all", len(PAPER_BUCKETS)) in rows and [r for r in rows if r[0] == "lama"] == [
        ("lama", k, 1) for k in KINDS]
