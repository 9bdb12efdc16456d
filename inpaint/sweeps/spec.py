"""Sweep definitions (``sweeps/<name>.yaml``) as typed data, with errors that name the file and key.

A definition says what varies (grid axes, or a search space), how a trial's parameters become config
overrides of one Lightning run, which value the study optimises, which report it feeds, and per *profile*
(``cpu``: embedded data, small widths, 64²; ``paper``: the user's data, paper widths, 256²) the config files,
fixed overrides, default seeds and the facts a report caption states.

An axis may also choose a *config file* instead of a config key (the ``swap`` study picks one of
``experiments/model/<generator>.yaml`` per trial): map it to :data:`CONFIG_TOKEN` in ``param_keys`` and put a
``{axis}`` placeholder into each profile's ``configs`` where that file belongs in the composition order, e.g.
``configs: [experiments/data/embedded.yaml, "experiments/model/{generator}.yaml", experiments/trainer/cpu-small.yaml]``.
A ``configs`` entry that starts with ``?`` is *optional*: a trial whose file does not exist composes without it (the
``defaults:`` convention of :mod:`inpaint.config.compose`), e.g.
``"?experiments/compare/recipes/{recipe}/{system}.yaml"`` adds a recipe overlay only where one exists.

A grid may leave cells out: ``only_where`` lists rules ``{if: {axis: values}, then: {axis: values}}``; a cell that
matches a rule's ``if`` exists only when it matches its ``then`` too (a cell matches a mapping when, for each axis
named, its value is one of those listed; a single value stands for a one-element list). E.g. the ``compare`` study
trains ``recipe: own`` only for the systems that ship a recipe. :func:`inpaint.sweeps.queue.grid_cells` applies the
rules wherever a grid's cells are made (queue, progress total, status, the config files checked before a sweep).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SEEDS_TOKEN = "@seeds"  # an axis whose values come from --seeds or the profile's default seeds
CONFIG_TOKEN = "@config"  # param_keys value of an axis that selects a config file (a "{axis}" in profile configs)
TEST_SWEEPS = ("hole_size", "resolution")  # the test-time sweeps a profile may ask for (ProfileSpec.test_sweeps)
OPTIONAL_PREFIX = "?"  # a profile configs entry starting with it is left out where its file does not exist


class SweepSpecError(ValueError):
    """A sweep definition file is malformed."""


@dataclass
class SearchParam:
    """One hyper-parameter of a TPE search: ``float`` (optionally log-scaled), ``int`` or ``categorical``."""

    name: str
    type: str
    key: str  # config override key receiving the value
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class GridRule:
    """One ``only_where`` rule of a grid: a cell that matches ``when`` (the YAML's ``if``) exists only when it also
    matches ``then``. Both map axis names to the allowed values."""

    when: dict[str, list[Any]]
    then: dict[str, list[Any]]

    @staticmethod
    def _matches(cell: dict[str, Any], condition: dict[str, list[Any]]) -> bool:
        return all(name in cell and cell[name] in values for name, values in condition.items())

    def allows(self, cell: dict[str, Any]) -> bool:
        return not self._matches(cell, self.when) or self._matches(cell, self.then)


@dataclass
class ProfileSpec:
    """How to run one trial under a profile."""

    name: str
    configs: list[str]
    overrides: dict[str, Any] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=lambda: [0])
    results_dir: str = "results"
    data_root_key: str | None = None  # override key that receives --data-root
    requires_data_root: bool = False
    facts: dict[str, Any] = field(default_factory=dict)  # caption facts: data, resolution, steps
    n_trials: int = 20  # search only
    # test-time sweeps run after each trial's test: {"hole_size": {ratios, images}, "resolution": {sizes, images,
    # hole_ratio}} (compare study; inpaint/lit/callbacks/), each stored with the trial under "<name>_sweep"
    test_sweeps: dict[str, Any] = field(default_factory=dict)
    heartbeat_interval: int = 10
    grace_period: int = 60


@dataclass
class SweepSpec:
    """A parsed ``sweeps/<name>.yaml``."""

    name: str
    kind: str  # "grid" | "search"
    report: str  # "table4" | "tau" | "search" | "table"
    direction: str
    objective: dict[str, Any]  # {"metric", "bucket", "scheme"}: the trial value taken from the test metrics
    param_keys: dict[str, str]  # trial parameter → config override key
    profiles: dict[str, ProfileSpec]
    axes: dict[str, Any] = field(default_factory=dict)  # grid only; values or SEEDS_TOKEN
    only_where: list[GridRule] = field(default_factory=list)  # grid only: which combinations of the axes exist
    search_space: list[SearchParam] = field(default_factory=list)
    pruning: dict[str, Any] = field(default_factory=dict)  # search only: monitor, n_startup_trials, n_warmup_steps
    description: str = ""
    source: Path | None = None

    def profile(self, name: str) -> ProfileSpec:
        if name not in self.profiles:
            raise SweepSpecError(f"{self.source}: no profile {name!r}; available: {sorted(self.profiles)}")
        return self.profiles[name]

    def grid_axes(self, seeds: list[int]) -> dict[str, list[Any]]:
        """The grid with the seed axis filled in."""
        return {k: (list(seeds) if v == SEEDS_TOKEN else list(v)) for k, v in self.axes.items()}

    def study_name(self, profile: str) -> str:
        return f"{self.name}-{profile}"

    @property
    def config_axes(self) -> list[str]:
        """Parameters that select a config file (``param_keys`` value :data:`CONFIG_TOKEN`)."""
        return [name for name, key in self.param_keys.items() if key == CONFIG_TOKEN]


def optional_config(entry: str) -> tuple[str, bool]:
    """``(path, optional)`` of a profile ``configs`` entry: ``"?a/b.yaml"`` → ``("a/b.yaml", True)``."""
    return (entry.removeprefix(OPTIONAL_PREFIX).strip(), True) if entry.startswith(OPTIONAL_PREFIX) else (entry, False)


def resolve_configs(configs: list[str], params: dict[str, Any], config_axes: list[str]) -> list[str]:
    """The profile's config paths with every ``{axis}`` placeholder of a config axis filled from ``params`` (an
    optional entry keeps its leading ``?``: whether its file exists is for the caller to check)."""
    values = {name: str(params[name]) for name in config_axes if name in params}
    missing = [name for name in config_axes if name not in values]
    if missing:
        raise KeyError(f"config axis/axes {missing} have no value in the trial parameters {params}")
    return [config.format_map(values) if "{" in config else config for config in configs]


def _check_config_axes(spec: SweepSpec, where: str) -> None:
    """Every config axis is placed in every profile's configs, and no placeholder names anything else."""
    for profile in spec.profiles.values():
        for config in profile.configs:
            for name in re.findall(r"\{([^{}]*)\}", config):
                if name not in spec.config_axes:
                    raise SweepSpecError(
                        f"{where}: profiles.{profile.name}.configs entry {config!r} has placeholder {{{name}}}, "
                        f"but {name!r} is not an axis mapped to {CONFIG_TOKEN!r} in param_keys"
                    )
        for axis in spec.config_axes:
            if not any(f"{{{axis}}}" in config for config in profile.configs):
                raise SweepSpecError(
                    f"{where}: axis {axis!r} selects a config file ({CONFIG_TOKEN}) but profiles.{profile.name}."
                    f"configs has no '{{{axis}}}' placeholder, e.g. 'experiments/model/{{{axis}}}.yaml'"
                )
    if spec.kind == "search" and spec.config_axes:
        raise SweepSpecError(f"{where}: {CONFIG_TOKEN} is for grid axes only")


def _values(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _only_where(rules: Any, axes: dict[str, Any], where: str) -> list[GridRule]:
    """Parse and check ``only_where``: every axis named is a grid axis with listed values, every value is on it."""
    where = f"{where}: only_where"
    if not isinstance(rules, list):
        raise SweepSpecError(f"{where} must be a list of {{if: {{axis: values}}, then: {{axis: values}}}} rules")
    parsed = []
    for index, rule in enumerate(rules):
        at = f"{where}[{index}]"
        if not isinstance(rule, dict) or set(rule) != {"if", "then"}:
            raise SweepSpecError(f"{at} must be a mapping with exactly the keys 'if' and 'then', got {rule!r}")
        parts = {}
        for part in ("if", "then"):
            condition = rule[part]
            if not isinstance(condition, dict) or not condition:
                raise SweepSpecError(f"{at}.{part} must map one or more axes to values, got {condition!r}")
            for axis, values in condition.items():
                if axis not in axes:
                    raise SweepSpecError(f"{at}.{part}.{axis}: unknown axis {axis!r}; the axes are {list(axes)}")
                if axes[axis] == SEEDS_TOKEN:
                    raise SweepSpecError(f"{at}.{part}.{axis}: axis {axis!r} takes its values from --seeds "
                                         "(@seeds); a rule cannot name it")
                values = _values(values)
                if not values:
                    raise SweepSpecError(f"{at}.{part}.{axis}: no values")
                for value in values:
                    if value not in axes[axis]:
                        raise SweepSpecError(f"{at}.{part}.{axis}: value {value!r} is not on the axis "
                                             f"(axes.{axis}: {axes[axis]})")
            parts[part] = {axis: _values(values) for axis, values in condition.items()}
        parsed.append(GridRule(when=parts["if"], then=parts["then"]))
    return parsed


def _require(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise SweepSpecError(f"{where}: missing key {key!r}")
    return data[key]


def _profile(name: str, data: dict[str, Any], where: str) -> ProfileSpec:
    where = f"{where}: profiles.{name}"
    if not isinstance(data, dict):
        raise SweepSpecError(f"{where} must be a mapping")
    known = set(ProfileSpec.__dataclass_fields__) - {"name"}
    unknown = set(data) - known
    if unknown:
        raise SweepSpecError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(known)}")
    configs = _require(data, "configs", where)
    if not isinstance(configs, list) or not all(isinstance(c, str) for c in configs):
        raise SweepSpecError(f"{where}.configs must be a list of YAML paths")
    seeds = data.get("seeds", [0])
    if not isinstance(seeds, list) or not all(isinstance(s, int) for s in seeds):
        raise SweepSpecError(f"{where}.seeds must be a list of integers, got {seeds!r}")
    sweeps = data.get("test_sweeps") or {}
    if not isinstance(sweeps, dict) or set(sweeps) - set(TEST_SWEEPS) or \
            not all(isinstance(v, dict) for v in sweeps.values()):
        raise SweepSpecError(f"{where}.test_sweeps must map some of {list(TEST_SWEEPS)} to their settings, "
                             f"got {sweeps!r}")
    return ProfileSpec(name=name, **{**data, "seeds": seeds, "test_sweeps": sweeps})


def parse_spec(data: dict[str, Any], source: Path | None = None) -> SweepSpec:
    where = str(source or "<sweep spec>")
    if not isinstance(data, dict):
        raise SweepSpecError(f"{where}: expected a mapping at top level")
    kind = _require(data, "kind", where)
    if kind not in ("grid", "search"):
        raise SweepSpecError(f"{where}: kind must be 'grid' or 'search', got {kind!r}")
    direction = data.get("direction", "maximize")
    if direction not in ("maximize", "minimize"):
        raise SweepSpecError(f"{where}: direction must be maximize|minimize, got {direction!r}")
    profiles = {name: _profile(name, p, where) for name, p in _require(data, "profiles", where).items()}
    param_keys = dict(data.get("param_keys") or {})
    if kind == "grid" and not param_keys:
        raise SweepSpecError(f"{where}: missing key 'param_keys' (grid parameter -> config key)")
    spec = SweepSpec(
        name=_require(data, "name", where),
        kind=kind,
        report=data.get("report", "table"),
        direction=direction,
        objective=dict(_require(data, "objective", where)),
        param_keys=param_keys,
        profiles=profiles,
        description=data.get("description", ""),
        source=source,
    )
    for key in ("metric", "bucket"):
        if key not in spec.objective:
            raise SweepSpecError(f"{where}: objective needs {key!r} (e.g. metric: psnr, bucket: 30-50%)")
    if kind == "grid":
        axes = _require(data, "axes", where)
        for axis, values in axes.items():
            if values != SEEDS_TOKEN and (not isinstance(values, list) or not values):
                raise SweepSpecError(f"{where}: axes.{axis} must be a non-empty list or {SEEDS_TOKEN!r}")
            if axis not in param_keys:
                raise SweepSpecError(f"{where}: axis {axis!r} has no entry in param_keys (its config key)")
        spec.axes = dict(axes)
        spec.only_where = _only_where(data.get("only_where") or [], spec.axes, where)
    else:
        if "only_where" in data:
            raise SweepSpecError(f"{where}: only_where restricts a grid; a search has no grid (kind: search)")
        space = _require(data, "search_space", where)
        for name, p in space.items():
            if p.get("type") not in ("float", "int", "categorical"):
                raise SweepSpecError(f"{where}: search_space.{name}.type must be float|int|categorical")
            if "key" not in p:
                raise SweepSpecError(f"{where}: search_space.{name} needs 'key' (the config override key)")
            spec.search_space.append(SearchParam(name=name, **p))
            spec.param_keys.setdefault(name, p["key"])
        spec.pruning = dict(data.get("pruning", {}))
    _check_config_axes(spec, where)
    return spec


def default_sweeps_dir() -> Path:
    """``./sweeps`` when run from a checkout, else the ``sweeps/`` beside the (editable) package."""
    here = Path.cwd() / "sweeps"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "sweeps"


def load_spec(name_or_path: str, sweeps_dir: str | Path | None = None) -> SweepSpec:
    """Load ``sweeps/<name>.yaml`` (or a path to a YAML file)."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = Path(sweeps_dir or default_sweeps_dir()) / f"{name_or_path}.yaml"
    if not path.is_file():
        available = sorted(p.stem for p in path.parent.glob("*.yaml")) if path.parent.is_dir() else []
        raise FileNotFoundError(f"sweep definition {path} not found; available: {available}")
    with path.open() as handle:
        try:
            data = yaml.safe_load(handle)
        except yaml.YAMLError as err:
            raise SweepSpecError(f"{path}: invalid YAML: {err}") from err
    return parse_spec(data, source=path)
