"""External rows of the ``compare`` leaderboard: results made by a system outside the suite, scored like every row.

``--external NAME=DIR`` names a folder of another system's outputs for the study's fixed test set, exported with
``inpaint sweep compare --export-test-set SET`` (:mod:`inpaint.data.test_set`): one image per test image, named as
in ``SET/images/``, plus a copy of ``SET/manifest.json``. The test set is rebuilt from the study's own stored trial
configs (the ``data`` section, so the ground truth is the suite's, not a file the user could edit), the folder is
checked against it — the manifest's fingerprint, every name, every size; the first problem stops the report with one
line naming the file, never a partial row — and scored by the same code as ``inpaint evaluate``
(:func:`inpaint.metrics.folders.score_uint8`) with the metric options the trials used: the composite (known pixels
from the ground truth) is what counts, the output as given is the raw column.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inpaint.errors import MissingPathError, UserInputError
from inpaint.metrics.options import MetricOptions
from inpaint.metrics.results import MetricsReport
from inpaint.report.records import TrialRecord

LABEL_SUFFIX = " (external)"
#: data-module settings that decide the fixed test set (the trials must agree on them)
TEST_SET_KEYS: tuple[str, ...] = (
    "source", "data_root", "layout", "resolution", "eval_masks", "mask_hole_value", "eval_buckets", "bucket_closed",
    "eval_per_bucket", "eval_border_margin", "seed", "alpha", "skip_corrupt",
)


@dataclass(frozen=True)
class ExternalResult:
    """One external folder, scored: ``name`` as given, the folder, its metrics report and the test set's fingerprint."""

    name: str
    folder: Path
    report: MetricsReport
    fingerprint: str

    @property
    def label(self) -> str:
        return f"{self.name}{LABEL_SUFFIX}"


def parse_external(text: str) -> tuple[str, Path]:
    """``NAME=DIR`` → (name, folder); anything else is a :class:`UserInputError`."""
    name, sep, folder = str(text).partition("=")
    if not sep or not name.strip() or not folder.strip():
        raise UserInputError(f"--external {text!r}: expected NAME=DIR, e.g. --external MAT=results/mat_outputs")
    return name.strip(), Path(folder.strip())


def _data_section(record: TrialRecord) -> dict[str, Any] | None:
    data = record.config.get("data") if isinstance(record.config, Mapping) else None
    return data if isinstance(data, Mapping) and isinstance(data.get("init_args"), Mapping) else None


def test_set_source(records: Sequence[TrialRecord]) -> tuple[dict[str, Any], MetricOptions]:
    """The data section (``class_path`` + ``init_args``) and metric options of the study's test pass, read from the
    completed trials' stored configs; an error when none stores one or when they disagree on the test set."""
    sections = [(r, d) for r in records if (d := _data_section(r)) is not None]
    if not sections:
        raise UserInputError("--external: no completed trial of this study stores its config, so its test set cannot "
                             "be rebuilt; run the study (at least one trial) first")  # fmt: skip
    first, data = sections[0]

    def test_keys(section: Mapping[str, Any]) -> str:
        args = section["init_args"]
        return json.dumps({key: args.get(key) for key in TEST_SET_KEYS}, sort_keys=True, default=str)

    for record, other in sections[1:]:
        if test_keys(other) != test_keys(data):
            raise UserInputError(f"--external: trials {first.number} and {record.number} of this study were tested on "
                                 "different test sets (data settings differ); score externals per study "
                                 "profile")  # fmt: skip
    evaluation = (first.config.get("run") or {}).get("evaluation") or {}
    options = MetricOptions(**{k: evaluation[k] for k in MetricOptions.field_names() if k in evaluation})
    return dict(data), options


def scoring_batches(section: Mapping[str, Any], records: Sequence[TrialRecord]) -> tuple[int, Any]:
    """The test loader's batch size and the trials' ground-truth feature cache (``run.evaluation.fid_cache``): fed in
    the same batches, the ground truth's Inception features are the trials' cached ones (content-keyed, so a miss
    only costs time)."""
    from inpaint.metrics.feature_cache import FeatureCache, default_fid_cache_dir

    args = section["init_args"]
    batch = int(args.get("eval_batch_size") or args.get("batch_size") or 16)
    configs = [r.config for r in records if _data_section(r) is not None]
    evaluation = (configs[0].get("run") or {}).get("evaluation") or {} if configs else {}
    cache = evaluation.get("fid_cache", "auto")
    return batch, None if not cache else FeatureCache(default_fid_cache_dir() if cache == "auto" else cache)


def datamodule_from_section(section: Mapping[str, Any]) -> Any:
    """The trials' data module, rebuilt from its stored config section (nothing is set up or loaded yet)."""
    import importlib

    from inpaint.data.datamodule import InpaintDataModule

    class_path = str(section.get("class_path") or "inpaint.data.datamodule.InpaintDataModule")
    module_name, _, class_name = class_path.rpartition(".")
    cls = None
    if class_path.startswith("inpaint."):  # only the suite's own classes are imported from a stored config
        cls = getattr(importlib.import_module(module_name), class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, InpaintDataModule)):
        raise UserInputError(f"--external: the study's data module {class_path} is not an InpaintDataModule; "
                             "its test set cannot be exported or rebuilt")  # fmt: skip
    return cls(**dict(section["init_args"]))


def check_folder(name: str, folder: Path, samples: Sequence[Any]) -> dict[str, Path]:
    """``{sample name: result file}`` of an external folder made for ``samples``; the first problem (no folder, no or
    a foreign manifest, a missing or extra result, a wrong size) is one :class:`UserInputError` naming the file."""
    from PIL import Image

    from inpaint.data.test_set import MANIFEST, fingerprint, read_manifest, sample_names
    from inpaint.metrics.folders import list_images

    where = f"--external {name}"
    if not folder.is_dir():
        raise MissingPathError(f"{where}: {folder} does not exist or is not a folder")
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise MissingPathError(f"{where}: {manifest_path} is missing; copy the manifest.json of the exported test set "
                               "(inpaint sweep compare --export-test-set) beside the results: it says which test set "
                               "they were made for")  # fmt: skip
    stored = read_manifest(manifest_path)
    expected = fingerprint(samples)
    if stored["fingerprint"] != expected:
        theirs = stored.get("protocol") or {}
        raise UserInputError(f"{where}: {manifest_path} is the manifest of another test set (its "
                             f"{stored.get('n', '?')} images at {theirs.get('resolution', '?')}, fingerprint "
                             f"{str(stored['fingerprint'])[:12]}…; this study's: {len(samples)} images at "
                             f"{list(samples[0].rgb.shape[:2])}, fingerprint "
                             f"{expected[:12]}…); export this study's test set and run the system on it")  # fmt: skip
    found = list_images(folder, f"{where} result")
    names = sample_names(samples)
    for index, key in enumerate(names):
        if key not in found:
            missing = sum(1 for n in names if n not in found)
            raise MissingPathError(f"{where}: {folder / key}.png is missing ({missing} of {len(names)} results "
                                   "missing; one result per test image, named as in the export's images/)")
        path = found[key]
        with Image.open(path) as image:
            width, height = image.size
        want_h, want_w = samples[index].rgb.shape[:2]
        if (height, width) != (want_h, want_w):
            raise UserInputError(f"{where}: {path} is {width}×{height}, but test image {key} is {want_w}×{want_h} "
                                 "(results must keep the test image's size)")  # fmt: skip
    extra = sorted(set(found) - set(names))
    if extra:
        raise UserInputError(f"{where}: {found[extra[0]]} is not a result for this test set (no test image "
                             f"{extra[0]}; {len(extra)} such file(s))")
    return found


def score_external(name: str, folder: str | Path, samples: Sequence[Any], options: MetricOptions,
                   batch_size: int = 16, device: str = "cpu", feature_cache: Any = None) -> ExternalResult:
    """Check and score one external folder on ``samples`` (the study's fixed test set) with ``options``."""
    from inpaint.data.test_set import fingerprint
    from inpaint.metrics.collection import InpaintingMetrics
    from inpaint.metrics.folders import read_rgb, score_uint8

    folder = Path(folder)
    files = check_folder(name, folder, samples)

    def items():
        from inpaint.data.test_set import sample_names

        for key, sample in zip(sample_names(samples), samples):
            pred = read_rgb(files[key])
            if pred.shape != sample.rgb.shape:  # e.g. an EXIF rotation the header size did not show
                raise UserInputError(f"--external {name}: {files[key]} reads as {pred.shape[1]}×{pred.shape[0]}, but "
                                     f"test image {key} is {sample.rgb.shape[1]}×{sample.rgb.shape[0]}")
            yield sample.rgb, pred, sample.known, sample.mask_kind

    metrics = InpaintingMetrics(options, feature_cache=feature_cache)
    score_uint8(metrics, items(), batch_size, device)
    report = metrics.compute()
    report.protocol.update({"pred_dir": str(folder), "external": name, "test_set_fingerprint": fingerprint(samples)})
    return ExternalResult(name, folder, report, fingerprint(samples))


def score_externals(records: Sequence[TrialRecord], externals: Sequence[tuple[str, str | Path]],
                    options: MetricOptions | None = None) -> list[ExternalResult]:
    """Score every ``(name, folder)`` on the test set of the study whose completed trials are ``records``, with the
    trials' metric options (``options`` replaces them: tests switch FID off)."""
    if not externals:
        return []
    names = [name for name, _ in externals]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UserInputError(f"--external names {twice[0]!r} twice; give each system once")
    section, stored = test_set_source(records)
    samples = datamodule_from_section(section).fixed_test_samples()
    batch, cache = scoring_batches(section, records)
    return [score_external(name, Path(folder), samples, options or stored, batch, feature_cache=cache)
            for name, folder in externals]


__all__ = ["ExternalResult", "LABEL_SUFFIX", "check_folder", "datamodule_from_section", "parse_external",
           "score_external", "score_externals", "scoring_batches", "test_set_source"]
