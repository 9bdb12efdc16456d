"""Paired timing: variants of one training step timed in alternation in one process (``inpaint bench --versus``).

This project's machines are shared VMs whose speed drifts by 10–30 % within minutes (the same 256² step took 8.2 s
and 10.9 s a few steps apart), so two variants timed one after the other in separate processes compare two moments
of the machine as much as the two variants. Here every *round* runs one step of each variant back to back — in
forward order on even rounds, reversed on odd ones, so no variant always follows the same neighbour — and a variant's
cost is the median over rounds of its step time divided by the baseline's step time *of the same round*. A drift
slower than a round cancels in each ratio; the spread of the ratios over the rounds says how far to trust it.

A variant is the baseline's training step with some of its options changed (:class:`StepOptions`): activation
recomputation, weight updates inside backward, the memory layout, the precision and the loss preset leave the model
as it is; ``set:KEY=VALUE`` changes one of the generator's init args, and so the model (whose weights then differ).
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from inpaint.errors import UserInputError

#: the tokens a variant is written with: flags, and KEY=VALUE options
FLAGS = {"recompute": "recompute_activations", "step-in-backward": "step_in_backward",
         "channels-last": "channels_last"}
VALUED = ("precision", "losses")


@dataclasses.dataclass(frozen=True)
class StepOptions:
    """What a variant may change of the baseline's step; the batch stays the same, and so do the model and its
    initial weights unless ``generator_set`` changes the generator."""

    recompute_activations: bool = False
    step_in_backward: bool = False
    channels_last: bool = False
    precision: str = "32-true"
    losses: str | None = None  # a loss preset name; None: the baseline's losses
    generator_set: tuple[str, ...] = ()  # KEY=VALUE generator init args, applied after the command's --set

    def flags(self) -> list[str]:
        """The ``inpaint bench`` options that select these options."""
        out = [f"--{flag}" for flag, field in FLAGS.items() if getattr(self, field)]
        out += ["--precision", self.precision]
        out += ["--losses", self.losses] if self.losses is not None else []
        return out + [arg for item in self.generator_set for arg in ("--set", item)]


def parse_variant(text: str, baseline: StepOptions) -> StepOptions:
    """``"recompute,step-in-backward"`` / ``"precision=bf16-mixed"`` / ``"channels-last,losses=official"`` /
    ``"set:decoder_upsampling=resize"``: the baseline with these options switched on or set (a ``set:`` value cannot
    hold a comma). One-line error for anything else."""
    changes: dict[str, Any] = {}
    generator_set = list(baseline.generator_set)
    for token in (t.strip() for t in text.split(",")):
        key, sep, value = token.partition("=")
        if key.startswith("set:") and sep and key[4:].strip():
            generator_set.append(token[4:])
        elif not sep and key in FLAGS:
            changes[FLAGS[key]] = True
        elif sep and key in VALUED and value:
            changes[key] = value
        else:
            valid = ", ".join([*FLAGS, *(f"{k}=VALUE" for k in VALUED), "set:KEY=VALUE"])
            raise UserInputError(f"--versus {text!r}: {token!r} is not a step option (one of {valid}, comma-separated)")
    options = dataclasses.replace(baseline, **changes, generator_set=tuple(generator_set))
    if options == baseline:
        raise UserInputError(f"--versus {text!r}: that is the baseline's step itself")
    return options


def alternating_times(steps: Mapping[str, Callable[[], Any]], rounds: int, warmup: int = 1,
                      clock: Callable[[], float] = time.perf_counter,
                      sync: Callable[[], None] = lambda: None,
                      after_step: Callable[[str], None] = lambda name: None) -> dict[str, list[float]]:
    """Seconds of each step per round: ``warmup`` untimed rounds, then ``rounds`` timed ones, the steps in their
    given order on even rounds and in reverse on odd ones (``sync`` before and after each timed step: a GPU's
    queue)."""
    if rounds < 1:
        raise UserInputError(f"--repeats must be at least 1 for a paired comparison, got {rounds}")
    names = list(steps)
    for _ in range(warmup):
        for name in names:
            steps[name]()
            after_step(name)
    times: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        for name in names if index % 2 == 0 else names[::-1]:
            sync()
            start = clock()
            steps[name]()
            sync()
            times[name].append(clock() - start)
            after_step(name)
    return times


def paired_ratios(times: Mapping[str, Sequence[float]], baseline: str) -> dict[str, dict[str, Any]]:
    """Per variant: its median step, and its step over the baseline's step of the same round — every round's ratio,
    their median, smallest and largest."""
    base = times[baseline]
    out = {}
    for name, seconds in times.items():
        ratios = [t / b for t, b in zip(seconds, base)]
        out[name] = {"step_s_median": statistics.median(seconds), "step_s_all": list(seconds),
                     "ratio_all": ratios, "ratio_median": statistics.median(ratios),
                     "ratio_min": min(ratios), "ratio_max": max(ratios)}
    return out
