"""A grid that leaves cells out (``only_where``) and optional profile config entries (``?``): parsing, the errors that
name file and key, the exact cells everywhere a grid's cells are made (queue, status, the files checked before a
sweep), and which config files a trial receives."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from optuna.trial import TrialState

from inpaint.sweeps.lightning_trial import LightningTrial
from inpaint.sweeps.objective import TrialContext, TrialOutcome
from inpaint.sweeps.queue import cell_key, grid_cells
from inpaint.sweeps.run import make_plan, sweep_status
from inpaint.sweeps.spec import CONFIG_TOKEN, GridRule, SweepSpecError, optional_config, parse_spec
from inpaint.sweeps.storage import open_storage
from inpaint.sweeps.study import open_grid_study
from inpaint.sweeps.worker import run_grid_worker

RULE = {"if": {"recipe": "own"}, "then": {"system": ["a", "c"]}}


def spec_data(only_where=None, configs=None) -> dict:
    data = {
        "name": "s", "kind": "grid", "objective": {"metric": "psnr", "bucket": "all"},
        "axes": {"seed": "@seeds", "recipe": ["shipped", "own"], "system": ["a", "b", "c"]},
        "param_keys": {"system": CONFIG_TOKEN, "recipe": CONFIG_TOKEN, "seed": "seed_everything"},
        "profiles": {"cpu": {"configs": configs or ["m/{system}.yaml", "?r/{recipe}/{system}.yaml"]}},
    }
    if only_where is not None:
        data["only_where"] = only_where
    return data


def test_only_where_keeps_exactly_the_cells_its_rules_allow() -> None:
    spec = parse_spec(spec_data([RULE]))
    assert spec.only_where == [GridRule(when={"recipe": ["own"]}, then={"system": ["a", "c"]})]
    cells = grid_cells(spec.grid_axes([0, 1]), spec.only_where)
    assert cells == [
        {"seed": 0, "recipe": "shipped", "system": "a"}, {"seed": 0, "recipe": "shipped", "system": "b"},
        {"seed": 0, "recipe": "shipped", "system": "c"}, {"seed": 0, "recipe": "own", "system": "a"},
        {"seed": 0, "recipe": "own", "system": "c"},
        {"seed": 1, "recipe": "shipped", "system": "a"}, {"seed": 1, "recipe": "shipped", "system": "b"},
        {"seed": 1, "recipe": "shipped", "system": "c"}, {"seed": 1, "recipe": "own", "system": "a"},
        {"seed": 1, "recipe": "own", "system": "c"},
    ]
    # several rules all apply; a list in "if" matches any of its values
    two = parse_spec(spec_data([RULE, {"if": {"system": ["b", "c"]}, "then": {"recipe": "shipped"}}]))
    assert [(c["recipe"], c["system"]) for c in grid_cells(two.grid_axes([0]), two.only_where)] == [
        ("shipped", "a"), ("shipped", "b"), ("shipped", "c"), ("own", "a")]
    # without rules: every combination, as before
    plain = parse_spec(spec_data())
    assert plain.only_where == [] and grid_cells(plain.grid_axes([0, 1]), plain.only_where) == [
        dict(zip(("seed", "recipe", "system"), combo))
        for combo in itertools.product([0, 1], ["shipped", "own"], ["a", "b", "c"])]


@pytest.mark.parametrize(
    ("only_where", "message"),
    [
        ({"if": {"recipe": "own"}}, r"only_where must be a list"),
        ([{"if": {"recipe": "own"}}], r"only_where\[0\] must be a mapping with exactly the keys 'if' and 'then'"),
        ([{"if": {}, "then": {"system": "a"}}], r"only_where\[0\]\.if must map one or more axes"),
        ([{"if": {"recipes": "own"}, "then": {"system": "a"}}], r"only_where\[0\]\.if\.recipes: unknown axis"),
        ([RULE, {"if": {"recipe": "own"}, "then": {"system": ["a", "d"]}}],
         r"only_where\[1\]\.then\.system: value 'd' is not on the axis"),
        ([{"if": {"seed": 0}, "then": {"system": "a"}}], r"only_where\[0\]\.if\.seed: axis 'seed' takes its values"),
    ],
)
def test_only_where_errors_name_file_and_key(only_where, message) -> None:
    with pytest.raises(SweepSpecError, match=r"sweeps/x\.yaml: " + message):
        parse_spec(spec_data(only_where), source=Path("sweeps/x.yaml"))


def test_only_where_is_for_grids_and_must_leave_a_cell() -> None:
    search = {"name": "s", "kind": "search", "objective": {"metric": "psnr", "bucket": "all"},
              "search_space": {"lr": {"type": "float", "low": 1e-4, "high": 1e-3, "key": "model.lr_g"}},
              "profiles": {"cpu": {"configs": ["x.yaml"]}}, "only_where": [RULE]}
    with pytest.raises(SweepSpecError, match="only_where restricts a grid"):
        parse_spec(search)
    nothing = parse_spec(spec_data([{"if": {"recipe": ["shipped", "own"]}, "then": {"system": "a"}},
                                    {"if": {"system": "a"}, "then": {"recipe": "own"}},
                                    {"if": {"recipe": "own"}, "then": {"system": "b"}}]))
    with pytest.raises(ValueError, match="only_where rules leave none of its 6 cells"):
        grid_cells(nothing.grid_axes([0]), nothing.only_where)


def test_status_and_workers_see_only_the_cells_of_the_grid(tmp_path: Path) -> None:
    spec = parse_spec(spec_data([RULE]))
    plan = make_plan(spec, "cpu", storage=f"sqlite:///{tmp_path / 's.db'}", seeds=[0])
    assert len(plan.cells) == 5
    study = open_grid_study(open_storage(plan.storage_url, 1, 3), plan.study_name, plan.axes)
    assert sweep_status(plan, study) == (0, 5, [cell_key(c) for c in plan.cells])
    ran = []

    def objective(ctx: TrialContext) -> TrialOutcome:
        ran.append(dict(ctx.params))
        return TrialOutcome(value=1.0, metrics={})

    summary = run_grid_worker(study, plan.axes, objective, tmp_path / "runs", only_where=spec.only_where)
    assert sorted(map(cell_key, ran)) == sorted(map(cell_key, plan.cells)) and len(summary.ran) == 5
    assert sweep_status(plan, study) == (5, 5, [])
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 5


def test_optional_config_entries_are_composed_where_their_file_exists(tmp_path: Path) -> None:
    assert optional_config("?r/{recipe}.yaml") == ("r/{recipe}.yaml", True)
    assert optional_config("m/a.yaml") == ("m/a.yaml", False)
    for name in ("m/a.yaml", "m/b.yaml", "m/c.yaml", "r/own/a.yaml", "r/own/c.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}\n")
    spec = parse_spec(spec_data([RULE]), source=tmp_path / "sweeps" / "s.yaml")
    trial = LightningTrial(spec, spec.profile("cpu"), root=tmp_path)

    def files(recipe: str, system: str) -> list[str]:
        paths = trial.config_files({"seed": 0, "recipe": recipe, "system": system})
        return [Path(p).relative_to(tmp_path).as_posix() for p in paths]

    assert files("shipped", "a") == ["m/a.yaml"]  # no r/shipped/a.yaml: left out
    assert files("own", "a") == ["m/a.yaml", "r/own/a.yaml"]
    # a required entry is still checked for every cell of the grid before the first trial, and only for those:
    # r/own/b.yaml is not needed, (own, b) is not a cell
    for name in ("r/shipped/a.yaml", "r/shipped/b.yaml", "r/shipped/c.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}\n")
    required = parse_spec(spec_data([RULE], ["m/{system}.yaml", "r/{recipe}/{system}.yaml"]),
                          source=tmp_path / "sweeps" / "s.yaml")
    LightningTrial(required, required.profile("cpu"), root=tmp_path)
    (tmp_path / "r/own/c.yaml").unlink()
    with pytest.raises(FileNotFoundError, match=r"r/own/c\.yaml"):
        LightningTrial(required, required.profile("cpu"), root=tmp_path)


def test_config_axis_checks_see_through_the_optional_mark() -> None:
    # an axis placed only in an optional entry is placed; a placeholder in one must still be a config axis
    parse_spec(spec_data(configs=["m/{system}.yaml", "?r/{recipe}.yaml"]))
    with pytest.raises(SweepSpecError, match=r"axis 'recipe' selects a config file .* no '\{recipe\}' placeholder"):
        parse_spec(spec_data(configs=["m/{system}.yaml", "?r/x.yaml"]))
    with pytest.raises(SweepSpecError, match=r"'\?r/\{loss\}\.yaml' has placeholder \{loss\}"):
        parse_spec(spec_data(configs=["m/{system}.yaml", "r/{recipe}.yaml", "?r/{loss}.yaml"]))

