"""InpaintingMetrics: bucketed values equal the per-image functions on each bucket's subset; DDP-style state
merging; result files; the Lightning EvaluationWriter end to end (stand-in feature network, no weights needed)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from inpaint.conventions import composite, to_uint8
from inpaint.metrics.collection import InpaintingMetrics
from inpaint.metrics.fid import frechet_distance
from inpaint.metrics.image_quality import psnr_per_image, ssim_per_image
from inpaint.metrics.inception import FIDBackend
from inpaint.metrics.lpips import LPIPSBackend, build_lpips
from inpaint.metrics.results import read_csv, read_json, write_csv, write_json

SIZE = 20  # 400 pixels: hole counts below give exact ratios
HOLES = [40, 80, 120, 200, 100, 180]  # ratios 0.1, 0.2, 0.3, 0.5, 0.25, 0.45
KINDS = ["thin", "thick", None, "thick", "medium", None]


class TinyFeatures(nn.Module):
    """Stand-in for Inception: 2×2 average-pooled colours (12-d) of uint8 images."""

    num_features = 12

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        assert images.dtype == torch.uint8
        return nn.functional.adaptive_avg_pool2d(images.float() / 255.0, 2).flatten(1)


def _batch(seed: int = 0, size: int = SIZE):
    g = torch.Generator().manual_seed(seed)
    n = len(HOLES)
    target = torch.rand(n, 3, size, size, generator=g) * 2 - 1
    output = (target + 0.5 * torch.randn(n, 3, size, size, generator=g)).clamp(-1, 1)
    mask = torch.ones(n, 1, size, size)
    for i, holes in enumerate(HOLES):
        mask[i].view(-1)[torch.randperm(size * size, generator=g)[:holes]] = 0
    return target, output, mask


def _metrics(**kwargs) -> InpaintingMetrics:
    kwargs.setdefault("fid_backend", FIDBackend("tiny stand-in", TinyFeatures()))
    kwargs.setdefault("lpips_net", None)
    return InpaintingMetrics(**kwargs)


def test_buckets_hold_the_right_images_and_values():
    target, output, mask = _batch()
    metrics = _metrics()
    metrics.update(target[:4], output[:4], mask[:4], mask_kind=KINDS[:4])
    metrics.update(target[4:], output[4:], mask[4:], mask_kind=KINDS[4:])
    report = metrics.compute()

    expected_members = {
        ("all", "all"): [0, 1, 2, 3, 4, 5],
        ("paper", "10-20%"): [1],  # 0.1 is outside (0.1, 0.2]
        ("paper", "20-30%"): [2, 4],
        ("paper", "40-50%"): [3, 5],
        ("table4", "10-30%"): [1, 2, 4],
        ("table4", "30-50%"): [3, 5],
        ("nvidia", "1-10%"): [0],
        ("lama", "thin"): [0],
        ("lama", "medium"): [4],
        ("lama", "thick"): [1, 3],
    }
    present = {(r.scheme, r.bucket) for r in report.buckets}
    assert present == set(expected_members) | {("nvidia", "10-20%"), ("nvidia", "20-30%"), ("nvidia", "40-50%")}
    comp8, raw8, gt8 = to_uint8(composite(target, output, mask)), to_uint8(output), to_uint8(target)
    features = {"real": TinyFeatures()(gt8), "composite": TinyFeatures()(comp8), "raw": TinyFeatures()(raw8)}
    for (scheme, bucket), members in expected_members.items():
        row = report.bucket(scheme, bucket)
        idx = torch.tensor(members)
        assert row.n == len(members)
        assert row.get("psnr") == pytest.approx(float(psnr_per_image(comp8[idx], gt8[idx]).mean()), abs=1e-12)
        assert row.get("ssim", "raw") == pytest.approx(float(ssim_per_image(raw8[idx], gt8[idx]).mean()), abs=1e-12)
        if len(members) >= 2:
            expected_fid = frechet_distance(features["real"][idx], features["composite"][idx])
            assert row.get("fid") == pytest.approx(expected_fid, rel=1e-9, abs=1e-12)
        else:
            assert row.get("fid") is None  # FID of one image is undefined, not zero
        assert row.get("lpips") is None
    overall = report.overall
    assert overall.get("psnr") > overall.get("psnr", "raw")  # compositing restores the known pixels
    assert report.protocol["fid_backend"] == "tiny stand-in"
    assert report.protocol["ssim_window"] == "gaussian11"


def test_merged_states_equal_a_single_pass():
    """What DDP does (cat-reduce each state across ranks) gives the same report as one process seeing all."""
    target, output, mask = _batch(1)
    whole, rank0, rank1 = _metrics(), _metrics(), _metrics()
    whole.update(target, output, mask, mask_kind=KINDS)
    rank0.update(target[:3], output[:3], mask[:3], mask_kind=KINDS[:3])
    rank1.update(target[3:], output[3:], mask[3:], mask_kind=KINDS[3:])
    assert set(rank0._reductions) and all(fn is not None for fn in rank0._reductions.values())
    rank0.merge_state(rank1)
    a, b = whole.compute(), rank0.compute()
    assert [(r.scheme, r.bucket, r.n) for r in a.buckets] == [(r.scheme, r.bucket, r.n) for r in b.buckets]
    for ra, rb in zip(a.buckets, b.buckets):
        for variant in ra.values:
            for key, value in ra.values[variant].items():
                if value is None:
                    assert rb.values[variant][key] is None
                else:
                    assert rb.values[variant][key] == pytest.approx(value, rel=1e-9, abs=1e-12)


def test_lpips_column_with_random_backbone():
    target, output, mask = _batch(2, size=32)  # AlexNet's pooling needs at least 32×32
    model = build_lpips("alex", random_backbone=True)
    metrics = _metrics(lpips_backend=LPIPSBackend("alex (random weights)", model), schemes=[])
    metrics.update(target, output, mask)
    row = metrics.compute().overall
    assert row.get("lpips") is not None and row.get("lpips") > 0
    assert row.get("lpips", "raw") > row.get("lpips")  # the raw output differs in more pixels


def test_unavailable_backends_give_na_with_reason():
    target, output, mask = _batch(3)
    metrics = InpaintingMetrics(
        fid_backend=FIDBackend("n/a", None, "FID n/a: put X into Y"),
        lpips_backend=LPIPSBackend("alex", None, "LPIPS n/a: put alexnet-owt-7be5be79.pth into Z"),
    )
    metrics.update(target, output, mask)
    report = metrics.compute()
    assert report.overall.get("fid") is None and report.overall.get("lpips") is None
    assert any("FID n/a" in note for note in report.protocol["notes"])
    assert any("alexnet-owt-7be5be79.pth" in note for note in report.protocol["notes"])


def test_report_files_round_trip(tmp_path):
    target, output, mask = _batch(4)
    metrics = _metrics(raw=False)
    metrics.update(target, output, mask, mask_kind=KINDS)
    report = metrics.compute()
    write_json(report, tmp_path / "metrics.json")
    write_csv(report, tmp_path / "metrics.csv")
    again = read_json(tmp_path / "metrics.json")
    assert again.overall.get("psnr") == pytest.approx(report.overall.get("psnr"), abs=1e-12)
    rows = read_csv(tmp_path / "metrics.csv")
    assert [(r["scheme"], r["bucket"], r["n"]) for r in rows] == [(r.scheme, r.bucket, r.n) for r in report.buckets]
    assert rows[0]["ssim_window"] == "gaussian11" and rows[0]["fid_backend"] == "tiny stand-in"
    assert rows[0]["lpips_net"] == "off" and rows[0]["lpips"] is None
    assert "raw_psnr" not in rows[0]
    assert json.loads((tmp_path / "metrics.json").read_text())["protocol"]["data_range"] == 255


def test_input_validation():
    target, output, mask = _batch()
    metrics = _metrics()
    with pytest.raises(ValueError, match="mask must be"):
        metrics.update(target, output, mask[:, :, :10])
    with pytest.raises(ValueError, match="mask_kind"):
        metrics.update(target, output, mask, mask_kind=["thin"])
    with pytest.raises(ValueError, match="ssim_window"):
        InpaintingMetrics(ssim_window="box", fid=False, lpips_net=None)  # type: ignore[arg-type]


def test_evaluation_writer_in_a_test_run(tmp_path):
    from lightning.pytorch import LightningModule, Trainer
    from torch.utils.data import DataLoader

    from inpaint.lit.evaluation import EvaluationWriter

    target, output, mask = _batch(5)
    samples = [{"image": target[i], "output": output[i], "mask": mask[i], "id": f"img_{i}.jpg"} for i in range(6)]

    class Replay(LightningModule):
        def test_step(self, batch, batch_idx):
            return {"output": batch["output"], "target": batch["image"], "mask": batch["mask"], "id": batch["id"],
                    "composite": composite(batch["image"], batch["output"], batch["mask"])}  # fmt: skip

    writer = EvaluationWriter(out_dir=str(tmp_path / "run"), metrics=_metrics())
    trainer = Trainer(accelerator="cpu", callbacks=[writer], logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, default_root_dir=str(tmp_path))
    module = Replay()
    trainer.test(module, DataLoader(samples, batch_size=4), verbose=False)

    report = module.test_results
    assert report is writer.report and report.overall.n == 6
    assert (tmp_path / "run" / "metrics.json").is_file() and (tmp_path / "run" / "metrics.csv").is_file()
    pngs = sorted(p.name for p in (tmp_path / "run" / "composites").iterdir())
    assert pngs == [f"img_{i}.png" for i in range(6)]
    from PIL import Image

    saved = np.asarray(Image.open(tmp_path / "run" / "composites" / "img_2.png"))
    expected = to_uint8(composite(target[2:3], output[2:3], mask[2:3]))[0].permute(1, 2, 0).numpy()
    assert np.array_equal(saved, expected)
    assert trainer.callback_metrics["eval/psnr"] == pytest.approx(report.overall.get("psnr"), rel=1e-6)
    # input | output | GT for qualitative grids: masked input (hole = mid-grey 128) and ground truth beside it
    gt = to_uint8(target[2:3])[0].permute(1, 2, 0).numpy()
    assert np.array_equal(np.asarray(Image.open(tmp_path / "run" / "targets" / "img_2.png")), gt)
    masked = np.asarray(Image.open(tmp_path / "run" / "masked" / "img_2.png"))
    hole = mask[2, 0].numpy() < 0.5
    assert np.array_equal(masked[~hole], gt[~hole]) and (masked[hole] == 128).all()


def test_image_file_names_are_safe_pngs():
    from inpaint.lit.evaluation import image_file_name

    assert image_file_name("img_3.jpg", 0) == "img_3.png"
    assert image_file_name("../../etc/passwd", 0) == "etc/passwd.png"
    assert image_file_name("places/val 01.JPEG", 0) == "places/val_01.png"
    assert image_file_name("", 7) == "sample_000007.png"


def test_raw_fid_can_be_left_out():
    target, output, mask = _batch(6)
    metrics = _metrics(raw_fid=False)
    metrics.update(target, output, mask)
    row = metrics.compute().overall
    assert row.get("fid") is not None and row.get("fid", "raw") is None
    assert row.get("psnr", "raw") is not None


class CountingFeatures(TinyFeatures):
    """The stand-in network, counting the images it sees."""

    def __init__(self) -> None:
        super().__init__()
        self.images = 0

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        self.images += images.shape[0]
        return super().forward(images)


def test_ground_truth_feature_cache_is_bit_identical(tmp_path):
    """Trial 1 fills the cache, trial 2 (another model, same eval set) reads the targets' features from it: FID equal
    to the uncached path bit for bit, and the network only sees the composites the second time."""
    from inpaint.metrics.feature_cache import FeatureCache

    target, output, mask = _batch(7)
    other = (output * 0.5).clamp(-1, 1)  # a second "model"
    results = {}
    for name, outputs, cache in [("uncached", other, None), ("fill", output, FeatureCache(tmp_path / "fid")),
                                 ("hit", other, FeatureCache(tmp_path / "fid"))]:
        network = CountingFeatures()
        metrics = _metrics(fid_backend=FIDBackend("counting stand-in", network), raw_fid=False, feature_cache=cache)
        metrics.update(target[:4], outputs[:4], mask[:4])
        metrics.update(target[4:], outputs[4:], mask[4:])
        results[name] = (metrics.compute().overall.get("fid"), network.images, cache)
    assert results["hit"][0] == results["uncached"][0]  # exact, not approx
    assert results["uncached"][1] == 12 and results["hit"][1] == 6  # 6 composites, 0 targets
    assert (results["fill"][2].misses, results["hit"][2].hits) == (2, 2)
    assert len(list((tmp_path / "fid").glob("*.pt"))) == 2 and not list((tmp_path / "fid").glob("*.tmp"))
    # another backend name never reads these entries
    stranger = FeatureCache(tmp_path / "fid")
    stranger.features(to_uint8(target[:4]), "another backend", TinyFeatures())
    assert stranger.misses == 1


def test_feature_cache_recovers_from_a_truncated_file(tmp_path):
    from inpaint.metrics.feature_cache import FeatureCache, batch_key

    images = to_uint8(_batch(8)[0])
    (tmp_path / f"{batch_key(images, 'tiny')}.pt").write_bytes(b"truncated")
    cache = FeatureCache(tmp_path)
    assert torch.equal(cache.features(images, "tiny", TinyFeatures()), TinyFeatures()(images))
    assert cache.misses == 1 and FeatureCache(tmp_path).features(images, "tiny", TinyFeatures()).shape == (6, 12)


def test_a_scheme_with_its_own_closed_side_and_the_l2_column():
    """Seed 004's left-closed buckets beside NVIDIA's right-closed ones in one pass: the 10 % and 20 % masks land
    one bucket higher under ``msfef``; its L2 is the per-image MSE on [0, 1] of exactly those images."""
    from inpaint.metrics.image_quality import mse_per_image

    target, output, mask = _batch()
    metrics = _metrics(schemes=["nvidia", "msfef"], raw=False)
    metrics.update(target, output, mask)
    report = metrics.compute()
    assert report.bucket("nvidia", "1-10%").n == 1 and report.bucket("msfef", "10-20%").n == 1  # the 0.1 mask
    assert report.bucket("nvidia", "10-20%").n == 1 and report.bucket("msfef", "20-30%").n == 2  # 0.2; 0.2 + 0.25
    assert report.protocol["closed"] == "right" and report.protocol["closed_by_scheme"] == {"msfef": "left"}
    mse = mse_per_image(to_uint8(composite(target, output, mask)), to_uint8(target))
    assert report.bucket("msfef", "20-30%").get("mse") == pytest.approx(float(mse[[1, 4]].mean()), rel=1e-12)
