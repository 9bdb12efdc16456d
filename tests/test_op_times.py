"""The op-by-op breakdown of a step (``inpaint.lit.op_times``): convolution FLOPs by the rule of
``torch.utils.flop_counter`` (checked against it), exact hand-counted values, one row per shape and direction with
the gradients the backward computed, the kinds partition the wall time, efficiency and excess follow from the
peaks, and ``inpaint bench --roofline`` prints and writes the breakdown."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from inpaint.lit.op_times import KINDS, OpTimes, format_op_times
from inpaint.models.complexity import CUSTOM_FORMULAS, conv_forward_flops


class _Convs(nn.Module):
    """A plain, a strided (grouped) and a transposed convolution, then a linear layer (a matmul)."""

    def __init__(self, groups: int = 2) -> None:
        super().__init__()
        self.plain = nn.Conv2d(3, 4, 3, padding=1)
        self.strided = nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=groups)
        self.up = nn.ConvTranspose2d(6, 4, 4, stride=2, padding=1)
        self.head = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.up(torch.relu(self.strided(torch.relu(self.plain(x)))))
        return self.head(y.mean(dim=(2, 3)))


def test_conv_flops_by_hand() -> None:
    # 1×4×8×8 outputs, 3 input channels, 3×3 taps: 256 · 27 MACs
    assert conv_forward_flops((1, 3, 8, 8), (4, 3, 3, 3), (1, 4, 8, 8), transposed=False) == 2 * 256 * 27
    # transposed: per input element (1·4·4·4 = 64), weight Cin × Cout/groups × k × k = 4 × 2 × 3 × 3
    assert conv_forward_flops((1, 4, 4, 4), (4, 2, 3, 3), (1, 2, 9, 9), transposed=True) == 2 * 64 * 2 * 9


@pytest.mark.parametrize("input_grad", [False, True])
def test_convolution_flops_equal_torch_flop_counter(input_grad: bool) -> None:
    # ungrouped: torch's counter charges a grouped conv's weight gradient `groups` times the forward's MACs, though
    # it takes exactly as many (each weight tap meets each output once); the grouped rule is checked by hand below
    net = _Convs(groups=1)
    x = torch.randn(2, 3, 16, 16, requires_grad=input_grad)
    with FlopCounterMode(display=False) as counter:
        net(x).sum().backward()
    by_op = counter.get_flop_counts()["Global"]
    reference = sum(n for op, n in by_op.items() if "convolution" in str(op))
    timer = OpTimes()
    with timer:
        net(x).sum().backward()
    rows = timer.convolutions(None, None)
    assert sum(r["gflop"] for r in rows) * 1e9 == pytest.approx(reference, rel=1e-12)
    assert reference > 0


@pytest.mark.parametrize("input_grad", [False, True])
def test_the_roofline_counter_agrees_with_the_op_times_for_grouped_convolutions(input_grad: bool) -> None:
    # the suite's counter (CUSTOM_FORMULAS, what --roofline's phases use) charges each computed gradient of a grouped
    # conv the forward's FLOPs, where torch's own rule charges the weight gradient `groups` times more
    net = _Convs(groups=2)
    x = torch.randn(2, 3, 16, 16, requires_grad=input_grad)
    with FlopCounterMode(display=False, custom_mapping=CUSTOM_FORMULAS) as counter:
        net(x).sum().backward()
    counted = sum(n for op, n in counter.get_flop_counts()["Global"].items() if "convolution" in str(op))
    with FlopCounterMode(display=False) as torch_rule:
        net(x).sum().backward()
    torch_counted = sum(n for op, n in torch_rule.get_flop_counts()["Global"].items() if "convolution" in str(op))
    timer = OpTimes()
    with timer:
        net(x).sum().backward()
    assert sum(r["gflop"] for r in timer.convolutions(None, None)) * 1e9 == pytest.approx(counted, rel=1e-12)
    grouped_forward = 2 * (2 * 6 * 8 * 8) * 2 * 9  # 2×6×8×8 outputs · 2 input channels per group · 9 taps
    assert torch_counted - counted == grouped_forward  # the weight gradient: once more in torch's rule (groups = 2)


def test_one_row_per_shape_and_direction_with_the_gradients_computed() -> None:
    net = _Convs()
    timer = OpTimes()
    with timer:
        net(torch.randn(1, 3, 8, 8)).sum().backward()  # the input needs no gradient
    rows = {(r["direction"], tuple(r["weight"])): r for r in timer.convolutions(None, None)}
    assert set(rows) == {
        ("forward", (4, 3, 3, 3)), ("forward", (6, 2, 3, 3)), ("forward", (6, 4, 4, 4)),
        ("backward(weight)", (4, 3, 3, 3)),  # the first layer's input is data: no input gradient
        ("backward(input+weight)", (6, 2, 3, 3)), ("backward(input+weight)", (6, 4, 4, 4)),
    }
    strided = rows[("forward", (6, 2, 3, 3))]
    assert (strided["input"], strided["stride"], strided["groups"], strided["transposed"]) == ([1, 4, 8, 8], [2, 2],
                                                                                               2, False)
    assert rows[("forward", (6, 4, 4, 4))]["transposed"] is True
    # 1×6×4×4 outputs · 2 input channels per group · 9 taps
    assert strided["gflop"] * 1e9 == pytest.approx(2 * 96 * 2 * 9)
    assert rows[("backward(input+weight)", (6, 2, 3, 3))]["gflop"] == pytest.approx(2 * strided["gflop"])
    assert all(r["calls"] == 1 for r in rows.values())


def test_the_kinds_partition_the_wall_time() -> None:
    net = _Convs()
    timer = OpTimes()
    with timer:
        net(torch.randn(2, 3, 16, 16)).sum().backward()
    assert set(timer.seconds) == set(KINDS)
    assert sum(timer.seconds.values()) == pytest.approx(timer.wall_s, rel=1e-9)
    assert all(v >= 0 for v in timer.seconds.values())
    assert timer.calls["convolution"] == 6  # three forwards, three backwards
    assert timer.calls["matmul"] >= 2  # the linear forward (addmm) and its backward (mm)
    assert timer.calls["other_ops"] > 0  # relu, mean, sum, ...
    ops = {r["op"]: r for r in timer.slowest_ops()}
    assert ops["aten.convolution"]["calls"] == 3 and ops["aten.convolution_backward"]["calls"] == 3
    assert ops["aten.addmm"]["kind"] == "matmul" and ops["aten.relu"]["kind"] == "other_ops"
    assert sum(r["seconds"] for r in ops.values()) == pytest.approx(timer.wall_s - timer.seconds["outside_ops"])
    assert all(r["kind"] == "other_ops" for r in timer.slowest_ops("other_ops"))


def test_efficiency_and_excess_follow_from_the_peaks() -> None:
    timer = OpTimes()
    with timer:
        _Convs()(torch.randn(1, 3, 8, 8)).sum().backward()
    rows = timer.convolutions(forward_peak=50.0, backward_peak=20.0)
    for r in rows:
        peak = 50.0 if r["direction"] == "forward" else 20.0
        ideal = r["gflop"] / peak
        assert r["excess_s"] == pytest.approx(r["seconds"] - ideal)
        assert r["efficiency"] == pytest.approx(ideal / r["seconds"])
    assert [r["excess_s"] for r in rows] == sorted((r["excess_s"] for r in rows), reverse=True)
    summary = timer.summary(50.0, 20.0, top=2)
    assert len(summary["slowest_convolutions"]) == 2 and summary["convolution"]["shapes"] == 6
    assert summary["convolution"]["efficiency"] == pytest.approx(
        sum(r["seconds"] - r["excess_s"] for r in rows) / timer.seconds["convolution"])
    text = format_op_times(summary)
    assert text.startswith("Where the time goes") and text.count("\n| ") == 3  # header + the top 2 rows
    assert "Slowest ops besides convolutions: aten." in text
    assert all(r["kind"] != "convolution" for r in summary["slowest_other_ops"])
    unpeaked = timer.summary(None, None)
    assert unpeaked["convolution"]["efficiency"] is None
    assert "n/a" in format_op_times(unpeaked)


def test_the_mode_leaves_no_trace() -> None:
    net = _Convs()
    x = torch.randn(1, 3, 8, 8)
    expected = net(x)
    with OpTimes():
        inside = net(x)
    assert torch.equal(inside, expected)
    timer = OpTimes()
    with timer:
        pass
    net(x)  # after exit nothing is recorded
    assert timer.calls == dict.fromkeys(KINDS[:-1], 0)
