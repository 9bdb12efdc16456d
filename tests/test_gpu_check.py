"""The GPU check's pieces on the CPU: ``inpaint bench --channels-last / --compile`` and ``scripts/gpu_check.py``
(its table arithmetic, its budget, and its quick mode end to end with gloo DDP)."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from _tiny_models import TinyDiscriminator, TinyGenerator

from inpaint.commands import bench
from inpaint.lit.module import InpaintingGAN
from inpaint.lit.step_bench import build_gan, compile_networks, training_step_callable, warmup_overhead
from inpaint.models.complexity import example_inputs

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "gpu_check.py"


def _script():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


gpu_check = _script()


def _spatial_weights(module: torch.nn.Module) -> list[tuple[str, torch.Tensor]]:
    """4-D parameters with a kernel larger than 1×1 (a 1×1 kernel is contiguous in both layouts)."""
    return [(name, p) for name, p in module.named_parameters() if p.dim() == 4 and p.shape[-1] * p.shape[-2] > 1]


# --- inpaint bench: --channels-last ---------------------------------------------------------------------------------

def test_channels_last_converts_every_conv_weight_of_g_and_d() -> None:
    spec = ("inpaint.models.generators.tsgl.TSGLGenerator", {"variant": "Baseline", "size": "small"})
    plain, converted = build_gan(*spec), build_gan(*spec, channels_last=True)
    for model, channels_last in ((plain, False), (converted, True)):
        for network in (model.generator, model.discriminator):
            weights = _spatial_weights(network)
            assert len(weights) > 3
            for name, weight in weights:
                assert weight.is_contiguous(memory_format=torch.channels_last) is channels_last, name
    assert converted.channels_last and not plain.channels_last


def test_channels_last_step_feeds_both_networks_channels_last_inputs() -> None:
    seen: dict[str, list[bool]] = {"generator": [], "discriminator": []}

    def spy(name):
        def hook(module, args, kwargs):
            tensors = [t for t in (*args, *kwargs.values()) if isinstance(t, torch.Tensor) and t.dim() == 4]
            seen[name].append(all(t.is_contiguous(memory_format=torch.channels_last) for t in tensors))
        return hook

    model = InpaintingGAN(TinyGenerator(), TinyDiscriminator(), channels_last=True)
    model.to(memory_format=torch.channels_last)
    model.generator.register_forward_pre_hook(spy("generator"), with_kwargs=True)
    model.discriminator.register_forward_pre_hook(spy("discriminator"), with_kwargs=True)
    batch = example_inputs(2, 16, 16)
    assert not batch["image"].is_contiguous(memory_format=torch.channels_last)  # the conversion is the step's
    training_step_callable(model, batch)()
    assert seen["generator"] == [True] and len(seen["discriminator"]) >= 2 and all(seen["discriminator"])


# --- inpaint bench: --compile ---------------------------------------------------------------------------------------

def test_compiled_networks_train_like_eager_ones_and_keep_their_identity() -> None:
    torch.manual_seed(0)
    eager = InpaintingGAN(TinyGenerator(), TinyDiscriminator())
    compiled = copy.deepcopy(eager)
    generator, keys = compiled.generator, set(compiled.state_dict())
    compile_networks(compiled, backend="aot_eager")  # traces forward and backward, no C++ / Triton code generation
    assert compiled.generator is generator and set(compiled.state_dict()) == keys  # in place: no _orig_mod wrapper
    batch = example_inputs(2, 16, 16)
    initial = next(iter(eager.generator.parameters())).detach().clone()
    steps = [training_step_callable(model, batch) for model in (eager, compiled)]
    for _ in range(2):
        results = [step() for step in steps]
        for term, value in results[0].generator_terms.items():
            torch.testing.assert_close(results[1].generator_terms[term], value, msg=term)
        torch.testing.assert_close(results[1].loss_d, results[0].loss_d)
    for (name, a), (_, b) in zip(eager.named_parameters(), compiled.named_parameters()):
        torch.testing.assert_close(b, a, msg=name)
    assert not torch.equal(next(iter(eager.generator.parameters())), initial)  # the steps did train
    graphs: list[int] = []

    def recording(graph_module, example_inputs):  # a torch.compile backend that runs the traced graph as it is
        graphs.append(len(graph_module.graph.nodes))
        return graph_module.forward

    traced = copy.deepcopy(eager)
    compile_networks(traced, backend=recording)
    training_step_callable(traced, batch)()
    assert len(graphs) >= 2 and min(graphs) > 2  # G and D (D in its step and, frozen, in G's) were traced


def test_warmup_overhead_is_the_warmup_beyond_as_many_median_steps() -> None:
    assert warmup_overhead([5.0, 2.0], [1.0, 1.5, 1.2]) == pytest.approx(7.0 - 2 * 1.2)
    assert warmup_overhead([], [1.0]) == 0.0 and warmup_overhead([3.0], None) == 0.0


@pytest.mark.parametrize("argv", [["--compile", "--warmup", "0"], ["--roofline", "--channels-last"],
                                  ["--roofline", "--compile"], ["--compile", "--memory-regions"]])
def test_bench_refuses_options_that_would_time_the_wrong_thing(argv, capsys) -> None:
    code = bench.main(["--size", "small", "--resolution", "64", "--no-progress", "--quiet", *argv])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("inpaint bench: ") and len(err.splitlines()) == 1


# --- scripts/gpu_check.py -------------------------------------------------------------------------------------------

def _bench_json(images_per_s: float | None, step: float | None, peak: float, compile_s: float | None = None) -> dict:
    return {"images_per_s": images_per_s, "train_step_s_median": step, "peak_memory_mb": peak,
            "peak_memory_kind": "cuda_max_allocated", "compile_s": compile_s, "warmup_overhead_s": compile_s or 0.5}


HEADER = {"mode": "full", "device": "cuda", "device_name": "Some GPU", "torch": "2.11.0", "size": "paper",
          "variant": "Ours", "resolution": 256, "batch": 16, "warmup": 2, "repeats": 5, "date": "today"}


def _row(table: str, label: str) -> list[str]:
    line = next(line for line in table.splitlines() if line.startswith(f"| {label} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_summary_speedups_are_the_ratios_of_the_jsons_images_per_second() -> None:
    fp32, bf16 = _bench_json(37.0, 16 / 37.0, 30000.0), _bench_json(61.3, 16 / 61.3, 17000.4)
    bf16_cl, compiled = _bench_json(66.6, 16 / 66.6, 16000.0), _bench_json(83.9, 16 / 83.9, 15000.0, compile_s=95.25)
    assert gpu_check.speedup(bf16, fp32) == 61.3 / 37.0
    assert gpu_check.speedup(bf16, None) is None and gpu_check.speedup(_bench_json(None, None, 1.0), fp32) is None
    pieces = [gpu_check.Piece("fp32", [], "ok", result=fp32), gpu_check.Piece("bf16", [], "timeout after 100 s"),
              gpu_check.Piece("bf16_cl", [], "ok", result=bf16_cl),
              gpu_check.Piece("bf16_cl_compile", [], "ok", result=compiled),
              gpu_check.Piece("fp32_compile", [], "skipped: 80 s of the budget left for it, needs 120 s"),
              gpu_check.Piece("ddp_fit", [], "ok", result={"process_group_backend": "nccl", "world_size": 1,
                                                            "global_step": 30, "train_steps_per_s": 4.5,
                                                            "precision": "bf16-mixed"})]
    table = gpu_check.summary_markdown(HEADER, pieces)
    assert _row(table, "fp32") == ["fp32", "37.00", f"{16 / 37.0:.3f}", "1.00×", "—", "30000", "—", "0.5", "ok"]
    assert _row(table, "bf16-mixed") == ["bf16-mixed", "—", "—", "—", "—", "—", "—", "—", "timeout after 100 s"]
    assert _row(table, "bf16-mixed + channels-last")[1:5] == ["66.60", f"{16 / 66.6:.3f}", f"{66.6 / 37.0:.2f}×", "—"]
    assert _row(table, "bf16-mixed + channels-last + compile")[3:7] == [f"{83.9 / 37.0:.2f}×", f"{83.9 / 66.6:.2f}×",
                                                                        "15000", "95.2"]
    assert _row(table, "fp32 + compile")[-1].startswith("skipped: ")
    assert "backend: nccl, world size 1, 30 steps, 4.50 steps/s, precision bf16-mixed" in table
    assert "Some GPU" in table and "cuda_max_allocated" in table
    # no baseline: no speed-ups, the rest stays
    table = gpu_check.summary_markdown(HEADER, [gpu_check.Piece("fp32", [], "failed (exit 1)"), *pieces[2:4]])
    assert _row(table, "bf16-mixed + channels-last")[1:4] == ["66.60", f"{16 / 66.6:.3f}", "—"]
    assert _row(table, "bf16-mixed + channels-last + compile")[3:5] == ["—", f"{83.9 / 66.6:.2f}×"]


def test_commands_follow_the_setting() -> None:
    full, quick = gpu_check.FULL, gpu_check.QUICK
    assert (full.device, full.size, full.resolution, full.batch) == ("cuda", "paper", 256, 16)
    cases = {case.name: case for case in gpu_check.CASES}
    command = gpu_check.bench_command(full, cases["bf16_cl_compile"], Path("x.json"))
    assert command[1:4] == ["-m", "inpaint.cli", "bench"]
    for option in ("--channels-last", "--compile", "--step-only"):
        assert option in command
    assert command[command.index("--precision") + 1] == "bf16-mixed"
    assert command[command.index("--compile-backend") + 1] == "inductor"
    assert command[command.index("--batch") + 1] == "16" and command[command.index("--device") + 1] == "cuda"
    quick_compile = gpu_check.bench_command(quick, cases["fp32_compile"], Path("x.json"), variant="Baseline")
    assert quick_compile[quick_compile.index("--compile-backend") + 1] == "aot_eager"
    assert quick_compile[quick_compile.index("--variant") + 1] == "Baseline"
    assert "--compile-backend" not in gpu_check.bench_command(full, cases["fp32"], Path("x.json"))
    fit = gpu_check.ddp_command(full, Path("runs"))
    assert "--trainer.accelerator=gpu" in fit and "--trainer.devices=1" in fit
    assert "--trainer.strategy=ddp_find_unused_parameters_true" in fit and "--run.audit=true" in fit
    assert str(REPO / "experiments/trainer/gpu.yaml") in fit
    assert "--trainer.accelerator=cpu" in gpu_check.ddp_command(quick, Path("runs"))


def test_the_script_needs_only_the_standard_library() -> None:
    """It starts before the carried wheels are installed, on another Python: no third-party import at its top."""
    import ast

    tree = ast.parse(SCRIPT.read_text())
    imported = {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in tree.body if isinstance(node, ast.ImportFrom) and node.module}
    assert imported and imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


def test_a_spent_budget_skips_every_piece_and_still_writes_the_summary(tmp_path) -> None:
    code = gpu_check.main(["--quick", "--out", str(tmp_path / "out"), "--work", str(tmp_path / "work"),
                           "--budget-s", "1"])
    assert code == 1
    record = json.loads((tmp_path / "out" / "summary.json").read_text())
    names = [piece["name"] for piece in record["pieces"]]
    assert names == ["fp32", "bf16", "bf16_cl", "ddp_fit", "bf16_cl_compile", "fp32_compile"]
    assert all(piece["status"].startswith("skipped: ") for piece in record["pieces"])
    assert not list((tmp_path / "work").glob("*.log"))  # nothing was started
    assert "| fp32 |" in (tmp_path / "out" / "summary.md").read_text()


@pytest.mark.slow
def test_quick_mode_end_to_end_on_the_cpu(tmp_path) -> None:
    """The real commands, small: fp32 and bf16 + channels-last bench rows (bf16 emulated where not native) and the
    1-device DDP fit, which must have used gloo on the CPU."""
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--variant", "Baseline", "--only",
                           "fp32,bf16_cl,ddp_fit", "--out", str(out), "--work", str(tmp_path / "work")],
                          capture_output=True, text=True, timeout=400, env=dict(os.environ), check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    record = json.loads((out / "summary.json").read_text())
    pieces = {piece["name"]: piece for piece in record["pieces"]}
    assert list(pieces) == ["fp32", "bf16_cl", "ddp_fit"]
    fp32, bf16_cl = pieces["fp32"]["result"], pieces["bf16_cl"]["result"]
    assert fp32["precision"] == "32-true" and not fp32["channels_last"] and not fp32["compile"]
    assert bf16_cl["precision"] == "bf16-mixed" and bf16_cl["channels_last"]
    for result in (fp32, bf16_cl):
        assert result["batch"] == 2 and result["resolution"] == [64, 64] and result["init_args"]["size"] == "small"
        assert result["images_per_s"] == 2 / result["train_step_s_median"]
    table = (out / "summary.md").read_text()
    assert table in done.stdout
    assert _row(table, "bf16-mixed + channels-last")[3] == f"{bf16_cl['images_per_s'] / fp32['images_per_s']:.2f}×"
    fit = pieces["ddp_fit"]["result"]
    assert fit["process_group_backend"] == "gloo" and fit["world_size"] == 1 and fit["global_step"] == 2
    assert "process group backend: gloo" in table
