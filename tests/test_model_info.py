"""`inpaint info` / `inpaint bench` on the small profile, and the MAC counter."""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F

from inpaint.commands import bench, info
from inpaint.models.complexity import count_macs


def test_mac_counter_counts_convs_and_cpu_attention() -> None:
    x = torch.randn(1, 4, 8, 8)
    w = torch.randn(6, 4, 3, 3)
    macs, _ = count_macs(lambda: F.conv2d(x, w, padding=1))
    assert macs == 6 * 4 * 9 * 64
    q = torch.randn(2, 3, 16, 8)
    macs, _ = count_macs(lambda: F.scaled_dot_product_attention(q, q, q, attn_mask=torch.zeros(2, 1, 16, 16)))
    assert macs == 2 * (2 * 3 * 16 * 16 * 8)  # QKᵀ and AV


def test_info_json(tmp_path: Path, capsys) -> None:
    out = tmp_path / "info.json"
    assert info.main(["--size", "small", "--resolution", "64", "--json", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["params"]["total"] == data["params"]["trainable"] > data["params"]["encoder_only"] > 0
    assert data["macs"]["total"] > data["macs"]["without_aux_decoder"] > 0
    assert set(data["macs"]["by_part"]) == {"encoder", "balance", "decoder", "aux_decoder"}
    assert json.loads(capsys.readouterr().out)["resolution"] == [64, 64]


def test_info_reads_lightning_yaml(tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        "model:\n  class_path: inpaint.lit.InpaintingGAN\n  init_args:\n    generator:\n"
        "      class_path: inpaint.models.generators.tsgl.TSGLGenerator\n"
        "      init_args: {variant: Baseline, size: small}\n"
    )
    assert info.main(["--config", str(cfg), "--resolution", "64"]) == 0
    text = capsys.readouterr().out
    assert "variant='Baseline'" in text and "aux_decoder" not in text.split("params by part:")[1].split("\n")[0]


def test_bench_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    code = bench.main(["--size", "small", "--variant", "Baseline", "--resolution", "64", "--batch", "2",
                       "--repeats", "1", "--warmup", "0", "--no-progress", "--out", str(out)])
    assert code == 0
    data = json.loads(out.read_text())
    assert data["train_step_s_median"] > 0 and data["forward_s_median"] > 0 and data["peak_memory_mb"] > 0
    assert data["images_per_s"] == 2 / data["train_step_s_median"]
    assert not data["channels_last"] and not data["compile"] and data["compile_s"] is None
    assert data["forward_warmup_s_all"] == [] and data["warmup_overhead_s"] == 0.0  # --warmup 0


def test_bench_times_the_configs_own_discriminator_and_losses(tmp_path: Path) -> None:
    """A model config that names its discriminator and losses (the pyramid's one SN-PatchGAN per level and
    10 : 1 : 1 level weights) is timed with them, not with the stand-in patch discriminator."""
    out = tmp_path / "bench.json"
    config = Path(__file__).resolve().parents[1] / "experiments" / "model" / "pyramid.yaml"
    code = bench.main(["--config", str(config), "--size", "small", "--resolution", "64", "--batch", "1",
                       "--repeats", "1", "--warmup", "0", "--no-progress", "--quiet", "--out", str(out)])
    assert code == 0
    data = json.loads(out.read_text())
    assert data["discriminator"] == "inpaint.models.discriminators.LevelDiscriminators"
    assert data["losses"]["level_weights"] == [10.0, 1.0, 1.0] and data["losses"]["adversarial"] == "hinge"
    assert data["class_path"] == "inpaint.models.generators.pyramid.PyramidGenerator"
