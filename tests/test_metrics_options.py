"""Evaluation options as one frozen value: one default scheme set, one check, the same object everywhere."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from inpaint.data.buckets import SCHEMES
from inpaint.errors import UserInputError
from inpaint.lit.evaluation import EvaluationOptions, EvaluationWriter
from inpaint.metrics.collection import InpaintingMetrics
from inpaint.metrics.options import DEFAULT_SCHEMES, MetricOptions


def test_one_default_scheme_set():
    assert DEFAULT_SCHEMES == ("paper", "table4", "nvidia", "lama")
    # "kind" only scores a kind set (eval_kinds); "msfef" is seed 004's study's own
    assert tuple(SCHEMES) == (*DEFAULT_SCHEMES, "kind", "msfef")
    assert MetricOptions().schemes == EvaluationOptions().schemes == DEFAULT_SCHEMES
    writer = EvaluationWriter()
    assert writer.options == EvaluationOptions()


def test_options_are_frozen_and_checked():
    options = MetricOptions(schemes=["paper"])  # a YAML list becomes a tuple
    assert options.schemes == ("paper",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.fid = False  # type: ignore[misc]
    for bad in ({"schemes": ["nosuch"]}, {"schemes": "paper"}, {"ssim_window": "box"}, {"closed": "both"},
                {"lpips_net": "squeeze"}):
        with pytest.raises(UserInputError):
            MetricOptions(**bad)
    with pytest.raises(UserInputError, match="masked_fill"):
        EvaluationOptions(masked_fill="pink")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="no option"):
        options.updated({"colour": 1})


def test_the_writer_keywords_are_exactly_the_options():
    """The writer lists the fields one by one for YAML; they must not drift from EvaluationOptions."""
    parameters = inspect.signature(EvaluationWriter).parameters
    listed = {name: p.default for name, p in parameters.items() if name not in ("out_dir", "metrics")}
    assert listed == dataclasses.asdict(EvaluationOptions())


def test_metric_takes_the_object_or_single_fields():
    by_object = InpaintingMetrics(MetricOptions(schemes=("lama",), fid=False, lpips_net=None, raw=False))
    by_keywords = InpaintingMetrics(schemes=("lama",), fid=False, lpips_net=None, raw=False)
    assert by_object.options == by_keywords.options
    assert [s.name for s in by_object.schemes] == ["lama"] and by_object.variants == ("composite",)
    writer_options = EvaluationOptions(fid=False, lpips_net=None, save_images=False)
    assert InpaintingMetrics(writer_options.metric_options()).options == MetricOptions(fid=False, lpips_net=None)
    with pytest.raises(TypeError, match="MetricOptions"):
        InpaintingMetrics(["paper"])  # type: ignore[arg-type]
