"""``inpaint bench --memory-regions``: memory samples tagged with the module region that ran (forward, backward,
replay of a recomputed block), and the first region that reached the peak."""

from __future__ import annotations

import mmap
import time

import pytest
import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from inpaint.commands import bench
from inpaint.lit.memory_regions import MemoryRegions, format_memory_regions, resident_mib
from inpaint.lit.step_bench import benchmark

HOLD_S = 0.2  # 100 sampling intervals: a region this long is not missed even on a busy machine


class Meter:
    """A memory reading the toy modules set by hand: the attribution is tested without a real allocator."""

    def __init__(self) -> None:
        self.mib = 100.0

    def hold(self, extra: float) -> None:
        self.mib += extra
        time.sleep(HOLD_S)
        self.mib -= extra


class Holds(nn.Module):
    """Holds ``extra`` MiB (on the meter) while its forward runs."""

    def __init__(self, meter: Meter, extra: float) -> None:
        super().__init__()
        self.meter, self.extra = meter, extra
        self.linear = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.meter.hold(self.extra)
        return self.linear(x)


class Uses(nn.Module):
    """Holds ``extra`` MiB in its child's forward and ``backward_extra`` in its own backward."""

    def __init__(self, meter: Meter, extra: float, backward_extra: float = 0.0) -> None:
        super().__init__()
        self.meter, self.backward_extra = meter, backward_extra
        self.inner = Holds(meter, extra)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        meter, extra = self.meter, self.backward_extra

        class Probe(torch.autograd.Function):
            @staticmethod
            def forward(ctx, t):  # type: ignore[no-untyped-def]
                return t.clone()

            @staticmethod
            def backward(ctx, g):  # type: ignore[no-untyped-def]
                meter.hold(extra)
                return g

        return Probe.apply(self.inner(x))


class Toy(nn.Module):
    def __init__(self, meter: Meter, recompute_c: bool = False) -> None:
        super().__init__()
        self.a = Uses(meter, 10.0, backward_extra=5.0)
        self.b = Uses(meter, 300.0, backward_extra=50.0)
        self.c = Uses(meter, 20.0, backward_extra=400.0)
        self.recompute_c = recompute_c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.b(self.a(x))
        if self.recompute_c:
            return checkpoint(self.c, x, use_reentrant=False)
        return self.c(x)


def _run(model: nn.Module, meter: Meter, depth: int = 1) -> dict:
    x = torch.randn(2, 4)
    with MemoryRegions({"G": model}, depth=depth, read=lambda: meter.mib) as sampled:
        model(x).sum().backward()
    return sampled.summary(top=50)


def test_each_region_gets_the_memory_held_while_it_ran() -> None:
    meter = Meter()
    summary = _run(Toy(meter), meter)
    peaks = {r["region"]: r["peak_mib"] for r in summary["regions"]}
    assert summary["start_mib"] == 100.0
    assert peaks["forward G.a"] == 110.0 and peaks["forward G.b"] == 400.0 and peaks["forward G.c"] == 120.0
    assert peaks["backward G.c"] == 500.0 and peaks["backward G.b"] == 150.0 and peaks["backward G.a"] == 105.0
    assert summary["peak_mib"] == 500.0 and summary["peak_region"] == "backward G.c"
    assert [r["region"] for r in summary["regions"]][:2] == ["backward G.c", "forward G.b"]  # ranked by peak
    assert summary["regions"][0]["above_start_mib"] == 400.0


def test_a_forward_inside_backward_is_a_replay() -> None:
    meter = Meter()
    summary = _run(Toy(meter, recompute_c=True), meter)
    peaks = {r["region"]: r["peak_mib"] for r in summary["regions"]}
    assert peaks["forward G.c"] == 120.0  # the first forward
    assert peaks["replay G.c"] >= 120.0  # checkpoint runs c again during backward
    regions = [r["region"] for r in summary["regions"]]
    assert regions.index("forward G.c") >= 0 and "replay G.b" not in peaks  # only the checkpointed block replays


def test_depth_folds_submodules_into_their_ancestor() -> None:
    meter = Meter()
    deep = {r["region"]: r["peak_mib"] for r in _run(Toy(meter), meter, depth=2)["regions"]}
    shallow = {r["region"]: r["peak_mib"] for r in _run(Toy(meter), meter, depth=1)["regions"]}
    assert deep["forward G.b.inner"] == 400.0 and deep.get("forward G.b", 100.0) == 100.0  # the child's region
    assert shallow["forward G.b"] == 400.0 and not any(".inner" in r for r in shallow)
    assert {r["region"] for r in _run(Toy(meter), meter, depth=0)["regions"]} <= {"outside", "forward G",
                                                                                 "backward G"}


def test_hooks_are_removed_afterwards() -> None:
    meter = Meter()
    model = Toy(meter)
    _run(model, meter)
    assert all(not m._forward_pre_hooks and not m._backward_pre_hooks for m in model.modules())


def test_the_resident_set_sees_a_real_allocation() -> None:
    """The default reader: a 256 MiB tensor held in one module's forward is where the resident set peaks."""

    class Allocates(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            # 256 MiB mapped straight from the system and every page written: glibc's heap (which `make`'s malloc
            # settings keep full of freed memory) cannot serve it, so the resident set must grow by that much
            region = mmap.mmap(-1, 256 * 2**20)
            block = torch.frombuffer(region, dtype=torch.float32)
            block.fill_(1.0)
            time.sleep(HOLD_S)
            out = x + block[0] - 1.0
            del block
            region.close()
            return out

    model = nn.Sequential(nn.Linear(4, 4), Allocates())
    with MemoryRegions({"G": model}, depth=1) as sampled:
        model(torch.randn(2, 4))
    summary = sampled.summary()
    assert summary["peak_region"] == "forward G.1"
    assert summary["peak_mib"] - summary["start_mib"] >= 200.0
    assert resident_mib() > 0.0


def test_bench_reports_the_regions_of_the_real_step() -> None:
    result = benchmark("inpaint.models.generators.tsgl.TSGLGenerator", {"size": "small"}, 64, 64, batch=2,
                       repeats=1, warmup=0, progress=False, memory_regions=1)
    summary = result["memory_regions"]
    names = [r["region"] for r in summary["regions"]]
    assert summary["peak_mib"] >= summary["start_mib"] > 0.0
    assert any(n.startswith("forward G.encoder") for n in names) or any(n.startswith("backward G.") for n in names)
    assert all(n == "outside" or n.split(" ")[0] in ("forward", "backward", "replay") for n in names)
    table = format_memory_regions(summary)
    assert summary["peak_region"] in table and table.count("\n| ") == len(summary["regions"]) + 1


def test_bench_refuses_regions_with_the_roofline(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--size", "small", "--resolution", "64", "--roofline", "--memory-regions"]) == 2
    err = capsys.readouterr().err
    assert "--memory-regions" in err and "--roofline" in err and err.count("\n") == 1
