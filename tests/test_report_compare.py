"""The ``compare`` leaderboard on hand-made trial records: order and means, the best marks, the 95 % interval with
three seeds, the cost columns, the computed Telea note, n/a with reasons, the writers and the chart."""

from __future__ import annotations

import math

import pytest

from inpaint.report.aggregate import SeedStat
from inpaint.report.compare import BUCKETS, build_compare_table
from inpaint.report.compare_chart import compare_chart
from inpaint.report.records import TrialRecord
from inpaint.report.writers import to_csv, to_latex, to_markdown

LPIPS_NOTE = "LPIPS n/a: AlexNet weights missing"


def record(number: int, system: str, seed: int, psnr: float, trained: bool = True) -> TrialRecord:
    """Whole set: PSNR psnr, L1 1/psnr, FID 10; bucket b (0-based) gets psnr − b; cost from the system's name."""
    values = {"psnr": psnr, "ssim": 0.8, "l1": 1.0 / psnr, "rel_l1_pct": 5.0, "fid": 10.0, "lpips": None}
    rows = [{"scheme": "all", "bucket": "all", "n": 64, "values": {"composite": values}}]
    rows += [{"scheme": "paper", "bucket": bucket, "n": 16, "values": {"composite": {"psnr": psnr - b}}}
             for b, bucket in enumerate(BUCKETS)]
    cost = {"params": 2_000_000 if trained else 0, "macs": 300_000_000 if trained else 0, "resolution": [64, 64],
            "inference_ms_per_image": 4.0 + seed, "train_s_per_step": 0.5 if trained else None,
            "train_note": None if trained else "nothing to train (fit skipped)", "device": "Test CPU (x86_64, AVX2)",
            "threads": 1, "load_average_1min": 2.0}
    loss = "1 L1 + 0.1 BCE GAN" if trained else "none (nothing to train)"
    metrics = {"protocol": {"fid_backend": "inception", "notes": [LPIPS_NOTE]}, "buckets": rows}
    return TrialRecord(number, {"system": system, "seed": seed}, metrics, attrs={"cost": cost, "loss": loss})


def records() -> list[TrialRecord]:
    return [record(0, "telea", 0, 20.0, trained=False), record(1, "pconv_unet", 0, 21.0),
            record(2, "pconv_unet", 1, 22.0), record(3, "pconv_unet", 2, 23.0), record(4, "pmrfn", 0, 19.0)]


def test_rows_best_first_means_interval_cost_and_best_marks() -> None:
    table = build_compare_table(records(), facts={"data": "test"}, pending={"lama": "failed: ValueError: boom"})
    assert [row.label for row in table.rows] == ["PConv U-Net", "Telea (OpenCV)", "PMRFN", "LaMa"]
    pconv = table.row("PConv U-Net")
    psnr = pconv.cells["psnr_all"].ours
    assert pconv.seeds == [0, 1, 2] and psnr.mean == pytest.approx(22.0) and psnr.std == pytest.approx(1.0)
    low, high = psnr.ci95  # 22 ± t(0.975, 2) · 1 / √3
    assert (low, high) == pytest.approx((22.0 - 2.4841377117, 22.0 + 2.4841377117), abs=1e-9)
    assert pconv.cells["psnr_all"].best_ours and table.row("PMRFN").cells["l1_all"].best_ours is False
    assert pconv.cells["psnr_40-50pct"].ours.mean == pytest.approx(19.0)
    assert pconv.cells["params_cost"].ours.mean == pytest.approx(2.0)  # M
    assert pconv.cells["macs_cost"].ours.mean == pytest.approx(0.3)  # G
    assert pconv.cells["inference_ms_per_image_cost"].ours.mean == pytest.approx(5.0)
    assert not any(cell.best_ours for key, cell in pconv.cells.items() if key.endswith("_cost"))
    telea = table.row("Telea (OpenCV)")
    assert telea.cells["train_s_per_step_cost"].ours.mean is None and telea.text["loss"] == "none (nothing to train)"
    assert table.row("LaMa").cells["psnr_all"].ours.mean is None
    notes = " | ".join(table.notes)
    assert "n/a (LaMa): failed: ValueError: boom" in notes
    assert ("vs Telea (PSNR 20.00 dB over the whole test set, means over seeds): beat it: PConv U-Net (+2.00 dB); "
            "do not: PMRFN (-1.00 dB); no result: LaMa") in notes
    assert f"LPIPS n/a in some trials: {LPIPS_NOTE}" in notes
    assert "on Test CPU (x86_64, AVX2), 1 thread(s)" in notes and "N: 64 test images" in notes


def test_writers_show_the_interval_loss_and_na() -> None:
    table = build_compare_table(records())
    md = to_markdown(table)
    assert "| System | Seeds | Loss | PSNR↑ |" in md
    assert "**22.00 ± 1.00 [19.52, 24.48]**" in md  # three seeds: the interval follows
    assert "| PMRFN | 1 | 1 L1 + 0.1 BCE GAN | 19.00 |" in md  # one seed: the mean alone
    assert "| LPIPS↓ |" in md and "n/a" in md
    header = to_csv(table).splitlines()[0].split(",")
    assert header[:4] == ["group", "system", "seeds", "loss"] and "psnr_all_ci95_low" in header
    assert r"\pm" in to_latex(table)


def test_interval_needs_three_seeds_and_is_exact() -> None:
    assert SeedStat.of([1.0, 2.0]).ci95 is None
    low, high = SeedStat.of([1.0, 2.0, 3.0]).ci95
    assert high - 2.0 == pytest.approx(4.302652729749462 / math.sqrt(3), rel=1e-12)
    assert SeedStat.of([1.0, 2.0, 3.0]).format(2, interval=True) == "2.00 ± 1.00 [-0.48, 4.48]"
    assert SeedStat.of([1.0, 2.0, 3.0]).format(2) == "2.00 ± 1.00"  # other tables: unchanged


def test_without_a_telea_row_the_note_says_so_and_the_chart_draws(tmp_path) -> None:
    table = build_compare_table([record(0, "pconv_unet", 0, 21.0)], pending={"telea": "not finished (waiting)"})
    assert "vs Telea: no Telea result in this study, nothing to compare with" in table.notes
    path = compare_chart(build_compare_table(records(), pending={"lama": "failed: x"}), tmp_path / "compare.png")
    assert path.is_file() and path.stat().st_size > 1000


def test_pending_reasons_come_from_each_systems_latest_trial() -> None:
    import optuna
    from optuna.distributions import CategoricalDistribution
    from optuna.trial import TrialState, create_trial

    from inpaint.report.compare import pending_reasons

    study = optuna.create_study()
    space = {"system": CategoricalDistribution(["lama", "pmrfn", "telea"])}
    study.add_trial(create_trial(state=TrialState.FAIL, params={"system": "lama"}, distributions=space,
                                 user_attrs={"error": "Traceback …\nValueError: too small"}))
    study.add_trial(create_trial(state=TrialState.FAIL, params={"system": "pmrfn"}, distributions=space))
    study.add_trial(create_trial(state=TrialState.COMPLETE, value=1.0, params={"system": "pmrfn"},
                                 distributions=space))
    study.enqueue_trial({"system": "telea"})
    assert pending_reasons(study) == {"lama": "failed: ValueError: too small", "telea": "not finished (waiting)"}
