"""The ``compare`` leaderboard on hand-made trial records: order and means, the best marks, the 95 % interval with
three seeds, the cost columns, the computed Telea note, n/a with reasons, the writers and the chart; the hole-size and
resolution sweep tables and plots from fabricated stored sweeps; a row per (system, recipe) where the study has the
recipe axis, beside trials stored before it (no recipe: the shipped row)."""

from __future__ import annotations

import math

import pytest

from inpaint.report.aggregate import SeedStat
from inpaint.report.compare import BUCKETS, build_compare_table, row_label, system_label
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
    # a row is (system, recipe); trials stored before the recipe axis existed are the shipped rows
    assert pending_reasons(study) == {("lama", "shipped"): "failed: ValueError: too small",
                                      ("telea", "shipped"): "not finished (waiting)"}


def _sweeps(system: str, seed: int, psnr: float) -> dict:
    """Stored sweeps as the callbacks write them: PSNR falls 1 dB per ratio step and per size; PEN-Net cannot run at
    96² (a size rule) and TSGL failed its 256² (an error)."""
    holes = [{"ratio": r, "hole_ratio": h, "n": 4, "psnr": psnr - i, "l1": 0.01 * (i + 1), "output_size": [64, 64]}
             for i, (r, h) in enumerate(zip((0.15, 0.25, 0.35, 0.45, 0.55),
                                            (0.152588, 0.25, 0.352539, 0.451416, 0.539307)))]
    sizes = []
    for i, side in enumerate((64, 96, 256)):
        reason = ("needs multiple of 64" if system == "pennet" and side == 96 else
                  "out of memory" if system == "tsgl" and side == 256 else None)
        sizes.append({"size": [side, side], "n": 0 if reason else 2, "reason": reason,
                      "psnr": None if reason else psnr - i + 0.1 * seed, "l1": None if reason else 0.02 * (i + 1)})
    return {"hole_size_sweep": {"mask": "centre square", "images": 4, "rows": holes, "note": None, "wall_s": 1.5,
                                "resolution": [64, 64]},
            "resolution_sweep": {"mask": "centre square, 25% of the area", "images": 2, "rows": sizes, "note": None,
                                 "wall_s": 3.0}}


def sweep_records() -> list[TrialRecord]:
    out = []
    for number, (system, seed, psnr) in enumerate([("telea", 0, 30.0), ("pennet", 0, 20.0), ("pennet", 1, 22.0),
                                                    ("tsgl", 0, 25.0)]):
        base = record(number, system, seed, psnr, trained=system != "telea")
        base.attrs.update(_sweeps(system, seed, psnr))
        out.append(base)
    out.append(record(9, "lama", 0, 18.0))  # stored before the sweeps existed
    return out


def test_sweep_tables_from_stored_trials_say_why_a_cell_is_na() -> None:
    from inpaint.report.compare_sweeps import HOLE_SIZE, RESOLUTION, build_sweep_table

    order = ["Telea (OpenCV)", "TSGL", "PENNet", "LaMa"]
    holes = build_sweep_table(HOLE_SIZE, sweep_records(), order, system_label)
    assert holes.conditions == ["15%", "25%", "35%", "45%", "55%"] and holes.xs == [0.15, 0.25, 0.35, 0.45, 0.55]
    assert [row.label for row in holes.table.rows] == order
    pennet = holes.table.row("PENNet")
    assert pennet.cells["psnr_15pct"].ours.mean == pytest.approx(21.0) and pennet.cells["psnr_15pct"].ours.std > 0
    assert pennet.cells["l1_55pct"].ours.mean == pytest.approx(0.05)
    assert holes.table.row("Telea (OpenCV)").cells["psnr_55pct"].best_ours
    assert holes.table.row("LaMa").cells["psnr_15pct"].reason == "no sweep stored"
    hole_notes = " | ".join(holes.table.notes)
    assert "55% → 53.93 %" in hole_notes and "n/a for trials [9]" in hole_notes
    assert "the first 4 fixed test crops" in hole_notes

    sizes = build_sweep_table(RESOLUTION, sweep_records(), order, system_label)
    assert sizes.conditions == ["64x64", "96x96", "256x256"] and sizes.xs == [64.0, 96.0, 256.0]
    assert sizes.table.row("PENNet").cells["psnr_96x96"].reason == "needs multiple of 64"
    assert sizes.table.row("TSGL").cells["l1_256x256"].reason == "out of memory"
    assert sizes.table.row("PENNet").cells["psnr_256x256"].ours.mean == pytest.approx(19.05)  # (18.0 + 20.1) / 2
    md = to_markdown(sizes.table)
    assert "| System | Seeds | PSNR↑ 64×64 | PSNR↑ 96×96 | PSNR↑ 256×256 | L1↓ 64×64 |" in md
    assert "| PENNet | 2 | 21.05 ± 1.48 | n/a (needs multiple of 64) | 19.05 ± 1.48 |" in md
    assert "n/a (out of memory)" in md
    csv = to_csv(sizes.table)
    assert "n/a (needs multiple of 64)" in csv and csv.splitlines()[0].startswith("group,system,seeds,psnr_64x64_mean")
    assert "n/a (needs multiple of 64)" in to_latex(sizes.table)


def test_sweep_plots_are_drawn_from_the_tables(tmp_path) -> None:
    from inpaint.report.compare_sweep_chart import sweep_chart
    from inpaint.report.compare_sweeps import HOLE_SIZE, RESOLUTION, build_sweep_table

    for kind in (HOLE_SIZE, RESOLUTION):
        path = sweep_chart(build_sweep_table(kind, sweep_records(), (), system_label), tmp_path / f"{kind.name}.png")
        assert path.is_file() and path.stat().st_size > 5000
    empty = build_sweep_table(HOLE_SIZE, [record(0, "lama", 0, 18.0)])  # nothing stored: an empty plot, no error
    assert empty.conditions == [] and sweep_chart(empty, tmp_path / "empty.png").is_file()


def own(number: int, system: str, seed: int, psnr: float, loss: str) -> TrialRecord:
    """A trial of the recipe axis's ``own`` cell (its loss as the run states it)."""
    base = record(number, system, seed, psnr)
    base.params["recipe"] = "own"
    base.attrs["loss"] = loss
    return base


def shipped(number: int, system: str, seed: int, psnr: float) -> TrialRecord:
    """A trial of the recipe axis's ``shipped`` cell."""
    base = record(number, system, seed, psnr)
    base.params["recipe"] = "shipped"
    return base


def recipe_records() -> list[TrialRecord]:
    """An old study's trials (no recipe parameter), one new shipped trial and two own-recipe rows."""
    return [*records(), shipped(5, "pennet", 0, 20.5),
            own(6, "pennet", 0, 22.5, "1 L1 (hole 6 : known 1) + 0.1 hinge GAN + 0.5 pyramid"),
            own(7, "pennet", 1, 23.5, "1 L1 (hole 6 : known 1) + 0.1 hinge GAN + 0.5 pyramid"),
            own(8, "lama", 0, 19.5, "10 L1 (known) + 10 BCE GAN + 100 FM + 0.001 R1")]


def test_one_row_per_system_and_recipe_old_trials_are_the_shipped_rows() -> None:
    table = build_compare_table(recipe_records(), pending={("pconv_unet", "own"): "could not start: vgg16 missing",
                                                           "deepfillv2": "not finished (waiting)"})
    assert [row.label for row in table.rows] == [
        "PENNet (own recipe)", "PConv U-Net", "PENNet", "Telea (OpenCV)", "LaMa (own recipe)", "PMRFN",
        "PConv U-Net (own recipe)", "DeepFillv2"]
    assert row_label(("pennet", "shipped")) == row_label("pennet") == "PENNet" == system_label("pennet")
    mine = table.row("PENNet (own recipe)")
    assert mine.seeds == [0, 1] and mine.cells["psnr_all"].ours.mean == pytest.approx(23.0)
    assert mine.text["loss"] == "1 L1 (hole 6 : known 1) + 0.1 hinge GAN + 0.5 pyramid"
    assert table.row("PENNet").seeds == [0] and table.row("PENNet").text["loss"] == "1 L1 + 0.1 BCE GAN"
    assert table.row("PConv U-Net").seeds == [0, 1, 2]  # the old study's trials: the shipped row, unchanged
    notes = " | ".join(table.notes)
    assert "n/a (PConv U-Net (own recipe)): could not start: vgg16 missing" in notes
    assert "n/a (DeepFillv2): not finished (waiting)" in notes
    assert ("beat it: PENNet (own recipe) (+3.00 dB), PConv U-Net (+2.00 dB), PENNet (+0.50 dB); do not: "
            "LaMa (own recipe) (-0.50 dB), PMRFN (-1.00 dB); no result: PConv U-Net (own recipe), DeepFillv2") in notes
    assert "a row '… (own recipe)' is the same system trained with its published recipe" in notes
    assert "(own recipe)" not in " | ".join(build_compare_table(records()).notes)  # an old study: no recipe rows
    # an old study run again since: its shipped cells ran again under the recipe axis; the latest trial counts
    again = build_compare_table([*records(), shipped(10, "pconv_unet", 0, 30.0), shipped(11, "pconv_unet", 1, 31.0)])
    pconv = again.row("PConv U-Net")
    assert pconv.seeds == [0, 1, 2] and pconv.cells["psnr_all"].ours.mean == pytest.approx((30.0 + 31.0 + 23.0) / 3)
    md = to_markdown(table)
    assert "| PENNet (own recipe) | 2 | 1 L1 (hole 6 : known 1) + 0.1 hinge GAN + 0.5 pyramid |" in md
    assert "| PENNet | 1 | 1 L1 + 0.1 BCE GAN |" in md


def test_sweep_tables_and_charts_have_a_row_per_recipe(tmp_path) -> None:
    from inpaint.report.compare import row_key
    from inpaint.report.compare_sweep_chart import sweep_chart, system_of
    from inpaint.report.compare_sweeps import HOLE_SIZE, build_sweep_table

    rows = recipe_records()
    for r in rows:
        r.attrs.update(_sweeps(str(r.params["system"]), int(r.params["seed"]), r.value("psnr", "all", "all")))
    order = [row.label for row in build_compare_table(rows).rows]
    holes = build_sweep_table(HOLE_SIZE, rows, order, row_label, key=lambda r: row_key(r.params))
    assert [row.label for row in holes.table.rows] == order
    assert holes.table.row("PENNet (own recipe)").cells["psnr_15pct"].ours.mean == pytest.approx(23.0)
    assert holes.table.row("PENNet").cells["psnr_15pct"].ours.mean == pytest.approx(20.5)
    assert system_of("PENNet (own recipe)") == "PENNet" and system_of("Telea (OpenCV)") == "Telea (OpenCV)"
    assert sweep_chart(holes, tmp_path / "holes.png").stat().st_size > 5000
    assert compare_chart(build_compare_table(rows), tmp_path / "compare.png").stat().st_size > 1000


def test_pending_reasons_tell_the_recipes_of_a_system_apart() -> None:
    import optuna
    from optuna.distributions import CategoricalDistribution
    from optuna.trial import TrialState, create_trial

    from inpaint.report.compare import pending_reasons

    study = optuna.create_study()
    space = {"system": CategoricalDistribution(["pconv_unet"]),
             "recipe": CategoricalDistribution(["shipped", "own"])}
    study.add_trial(create_trial(state=TrialState.COMPLETE, value=1.0, params={"system": "pconv_unet",
                                 "recipe": "shipped"}, distributions=space))
    study.add_trial(create_trial(state=TrialState.FAIL, params={"system": "pconv_unet", "recipe": "own"},
                                 distributions=space, user_attrs={"unavailable": "vgg16-397923af.pth is missing"}))
    assert pending_reasons(study) == {("pconv_unet", "own"): "could not start: vgg16-397923af.pth is missing"}
