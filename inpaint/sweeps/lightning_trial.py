"""The real trial: one Lightning run (fit + test on the fixed evaluation set) per Optuna trial."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from inpaint.sweeps.objective import TrialContext, TrialOutcome
from inpaint.sweeps.spec import ProfileSpec, SweepSpec, optional_config, resolve_configs


def metrics_as_dict(metrics: Any) -> dict[str, Any]:
    """What a trial stores: the test metrics report (``protocol`` + ``buckets``, from the run's metrics.json)
    plus the run's scalar metrics (``val/psnr``, ``test/psnr``, …) under ``scalars``.

    ``run_experiment`` returns the scalars with the metrics.json content under ``"test"``; a report object with
    ``to_dict`` or an already-shaped dict are accepted too.
    """
    if hasattr(metrics, "to_dict"):
        metrics = metrics.to_dict()
    if not isinstance(metrics, dict):
        raise TypeError(f"run_experiment returned metrics of type {type(metrics).__name__}; expected a dict")
    if "buckets" in metrics:
        return dict(metrics)
    report = metrics.get("test")
    report = report.to_dict() if hasattr(report, "to_dict") else report
    scalars = {k: v for k, v in metrics.items() if k != "test" and isinstance(v, (int, float))}
    if not isinstance(report, dict) or "buckets" not in report:
        return {"protocol": {"notes": ["no metrics.json: the evaluation writer did not run"]}, "buckets": [],
                "scalars": scalars}
    return {**report, "scalars": scalars}


def objective_value(metrics: dict[str, Any], objective: dict[str, Any]) -> float:
    """The trial value: ``objective.metric`` in ``objective.bucket`` (of ``objective.scheme``) of the composite."""
    metric, bucket, scheme = objective["metric"], objective["bucket"], objective.get("scheme")
    image = objective.get("image", "composite")
    for row in metrics.get("buckets", []):
        if row.get("bucket") == bucket and (scheme is None or row.get("scheme") == scheme):
            value = row.get("values", {}).get(image, {}).get(metric)
            if value is None or not math.isfinite(float(value)):
                raise ValueError(
                    f"objective {metric} in bucket {bucket!r} is {value!r}; pick a metric that is always computed"
                )
            return float(value)
    scalar = metrics.get("scalars", {}).get(f"test/{metric}")
    if bucket == "all" and image == "composite" and scalar is not None and math.isfinite(float(scalar)):
        return float(scalar)  # no bucketed report: the quick test metric over all images
    have = [f"{r.get('scheme')}/{r.get('bucket')}" for r in metrics.get("buckets", [])]
    raise ValueError(
        f"objective bucket {scheme}/{bucket} not in the test metrics (have {have}); check the sweep's objective"
    )


class LightningTrial:
    """Maps a trial's parameters to config overrides and runs ``inpaint.lit.runner.run_experiment``.

    Args:
        spec: the sweep definition (parameter → override key, objective).
        profile: the profile (config files, fixed overrides, data-root key).
        root: folder the profile's relative config paths are relative to (the repository root).
        data_root: the user's dataset folder (``--data-root``), required by profiles that say so.
        extra_overrides: more ``key: value`` overrides from the command line (they win).
        prune_monitor: logged metric for optuna-integration's pruning callback (search sweeps), e.g. ``val/psnr``.
        experiment: ``run.experiment`` of every trial (the study name), so W&B groups a study's runs together.
    """

    def __init__(
        self,
        spec: SweepSpec,
        profile: ProfileSpec,
        root: str | Path,
        data_root: str | None = None,
        extra_overrides: dict[str, Any] | None = None,
        prune_monitor: str | None = None,
        experiment: str | None = None,
    ) -> None:
        if profile.requires_data_root and not data_root:
            raise ValueError(
                f"profile {profile.name!r} of sweep {spec.name!r} trains on your dataset: pass --data-root "
                "(e.g. make ablation PROFILE=paper DATA_ROOT=/data/celeba)"
            )
        if data_root and not profile.data_root_key:
            raise ValueError(f"profile {profile.name!r} of sweep {spec.name!r} takes no --data-root (embedded data)")
        if data_root and not Path(data_root).is_dir():
            raise FileNotFoundError(f"--data-root {data_root} is not a directory")
        self.spec, self.profile, self.prune_monitor = spec, profile, prune_monitor
        self.root = Path(root)
        self.configs = list(profile.configs)  # may hold "{axis}" placeholders of config axes, "?" optional entries
        for params in self._config_choices():
            self.config_files(params)  # every file a trial needs exists: fail before the first trial
        self.base_overrides = dict(profile.overrides)
        if experiment:
            self.base_overrides["run.experiment"] = experiment
        if data_root:
            self.base_overrides[str(profile.data_root_key)] = str(Path(data_root).resolve())
        self.base_overrides.update(extra_overrides or {})
        self.test_sweeps(profile)  # bad settings fail before the first trial

    @staticmethod
    def test_sweeps(profile: ProfileSpec) -> dict[str, Any]:
        """Fresh callbacks for the profile's test-time sweeps, by the user attribute each result is stored under."""
        from inpaint.lit.callbacks import HoleSizeSweep, ResolutionSweep

        kinds = {"hole_size": HoleSizeSweep, "resolution": ResolutionSweep}
        try:
            return {f"{name}_sweep": kinds[name](**settings) for name, settings in profile.test_sweeps.items()}
        except (TypeError, ValueError) as err:
            raise ValueError(f"profile {profile.name!r}: test_sweeps: {err}") from err

    def _resolve(self, config: str) -> Path | None:
        """The absolute path of a configs entry; None for an optional (``?``) entry whose file does not exist."""
        config, optional = optional_config(config)
        path = Path(config)
        path = path if path.is_absolute() else self.root / path
        if optional and not path.is_file():
            return None
        if not path.is_file():
            raise FileNotFoundError(
                f"config {config} (profile {self.profile.name!r} of {self.spec.source}) not found at {path}"
            )
        return path

    def _config_choices(self) -> list[dict[str, Any]]:
        """Every value combination of the config axes that the grid has (its ``only_where`` rules applied; the rules
        cannot name the seed axis, so one seed stands for all); one empty dict when there are none."""
        if not self.spec.config_axes:
            return [{}]
        if not set(self.spec.config_axes) <= set(self.spec.axes):
            return []  # a config axis with no values: no trial can be made (as before the rules existed)
        from inpaint.sweeps.queue import grid_cells

        choices: dict[str, dict[str, Any]] = {}
        for cell in grid_cells(self.spec.grid_axes([0]), self.spec.only_where):
            choice = {axis: cell[axis] for axis in self.spec.config_axes}
            choices.setdefault(repr(choice), choice)
        return list(choices.values())

    def config_files(self, params: dict[str, Any]) -> list[str]:
        """The trial's config files, placeholders of config axes filled from ``params``, as absolute paths; an
        optional (``?``) entry whose file does not exist is left out."""
        paths = (self._resolve(c) for c in resolve_configs(self.configs, params, self.spec.config_axes))
        return [str(path) for path in paths if path is not None]

    def overrides(self, params: dict[str, Any]) -> dict[str, Any]:
        out = dict(self.base_overrides)
        for name, value in params.items():
            if name in self.spec.config_axes:
                continue  # chooses a config file (config_files), not a key
            if name not in self.spec.param_keys:
                raise KeyError(f"trial parameter {name!r} has no config key in {self.spec.source} (param_keys)")
            out[self.spec.param_keys[name]] = value
        return out

    def resolved_config(self, params: dict[str, Any]) -> dict[str, Any]:
        """The resolved config of a trial with ``params``, as the trial stores it (user attribute ``config``), built
        through the same CLI from the same files and overrides; nothing is trained, set up or written. E.g. for the
        ``data`` section the study's fixed test set is exported from."""
        import tempfile

        from inpaint.lit.cli import InpaintCLI, expand_defaults, ignore_explicit_args_warning
        from inpaint.lit.runner import overrides_to_args, resolved_config

        args: list[str] = []
        for path in self.config_files(params):
            args += ["--config", path]
        ignore_explicit_args_warning()
        with tempfile.TemporaryDirectory() as run_dir:
            args = expand_defaults(args) + overrides_to_args(self.overrides(params)) + [f"--run.dir={run_dir}"]
            cli = InpaintCLI(args=args, run=False, stage="test", parser_kwargs={"exit_on_error": False})
            return resolved_config(cli)

    def callbacks(self, ctx: TrialContext) -> Sequence[Any]:
        """The step file the live view reads, and the pruning callback of search sweeps."""
        from inpaint.sweeps.trial_log import PROGRESS_NAME, StepFile

        steps = StepFile(Path(ctx.run_dir) / PROGRESS_NAME)
        if not self.prune_monitor:
            return [steps]
        from optuna_integration import PyTorchLightningPruningCallback

        return [steps, PyTorchLightningPruningCallback(ctx.trial, monitor=self.prune_monitor)]

    def __call__(self, ctx: TrialContext) -> TrialOutcome:
        from inpaint.lit.callbacks import TokenMaskCensusCallback, TrialCost
        from inpaint.lit.runner import run_experiment

        overrides = self.overrides(ctx.params)
        cost = TrialCost()  # stored with the trial, so reports need no run dir and no model (compare leaderboard)
        census = TokenMaskCensusCallback()  # where τ can act, per attention block (the τ report)
        sweeps = self.test_sweeps(self.profile)  # stored with the trial too (the compare study's sweep tables)
        result = run_experiment(
            self.config_files(ctx.params), overrides, run_dir=str(ctx.run_dir), stage="fit+test",
            callbacks=[*self.callbacks(ctx), cost, census, *sweeps.values()]
        )
        metrics = metrics_as_dict(result["metrics"])
        return TrialOutcome(
            value=objective_value(metrics, self.spec.objective),
            metrics=metrics,
            config=result.get("config") or {},
            extra={"ckpt_path": result.get("ckpt_path"), "overrides": overrides, "cost": cost.cost(),
                   "loss": cost.loss, "token_masks": census.blocks,
                   **{name: sweep.result() for name, sweep in sweeps.items()},
                   "config_files": [str(Path(c).relative_to(self.root)) if Path(c).is_relative_to(self.root) else c
                                    for c in self.config_files(ctx.params)]},
        )
