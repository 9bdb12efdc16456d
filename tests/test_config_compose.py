"""Config composition without Lightning: ``defaults:`` order, optional entries, cycles, passes, ``${location.*}``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from inpaint.config.compose import (
    COMPOSITION_PASSES,
    Fragment,
    compose,
    defaults_pass,
    expand_defaults,
    substitute_locations,
)
from inpaint.errors import MissingPathError, UserInputError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_module_imports_neither_lightning_nor_torch():
    probe = (
        "import sys, inpaint.config.compose; "
        "print(sorted(m for m in ('torch', 'lightning', 'jsonargparse') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=60,
                          env={**os.environ, "PYTHONPATH": REPO})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_nested_defaults_come_first_depth_first(tmp_path):
    (tmp_path / "a.yaml").write_text("x: 1\n")
    (tmp_path / "b.yaml").write_text("x: 2\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.yaml").write_text("defaults: [../a.yaml]\nx: 3\n")
    top = tmp_path / "top.yaml"
    top.write_text("defaults:\n  - sub/c.yaml\n  - b.yaml\n  - ?absent.yaml\nx: 4\n")
    names = [os.path.relpath(os.path.normpath(p), tmp_path) for p in compose(str(top))]
    assert names == ["a.yaml", os.path.join("sub", "c.yaml"), "b.yaml", "top.yaml"]


def test_a_required_missing_default_and_bad_yaml_are_user_errors(tmp_path):
    (tmp_path / "top.yaml").write_text("defaults: [absent.yaml]\n")
    with pytest.raises(MissingPathError, match="absent.yaml"):
        compose(str(tmp_path / "top.yaml"))
    (tmp_path / "bad.yaml").write_text("x: [1, 2\n")
    with pytest.raises(UserInputError, match="not valid YAML"):
        compose(str(tmp_path / "bad.yaml"))


def test_a_cycle_names_the_chain(tmp_path):
    (tmp_path / "a.yaml").write_text("defaults: [b.yaml]\n")
    (tmp_path / "b.yaml").write_text("defaults: [a.yaml]\n")
    with pytest.raises(UserInputError, match=r"cycle: .*a\.yaml -> .*b\.yaml -> .*a\.yaml"):
        compose(str(tmp_path / "a.yaml"))


def test_a_pass_can_add_a_yaml_fragment_before_the_file(tmp_path):
    """The hook a key such as ``preset:`` uses: a pass returns text that is merged before the file naming it."""

    def preset_pass(path, content):
        return [Fragment(f"model: {{size: {content['preset']}}}\n", origin=path)] if "preset" in content else []

    (tmp_path / "base.yaml").write_text("trainer: {max_steps: 1}\n")
    run = tmp_path / "run.yaml"
    run.write_text("defaults: [base.yaml]\npreset: small\n")
    argv = expand_defaults(["fit", f"--config={run}", "--x=1"], passes=[defaults_pass, preset_pass])
    assert argv == ["fit", "--config", str(tmp_path / "base.yaml"), "--config", "model: {size: small}\n",
                    "--config", str(run), "--x=1"]
    assert preset_pass not in COMPOSITION_PASSES and COMPOSITION_PASSES[0] is defaults_pass  # list untouched


class _Namespace:
    """Stands in for the parser's namespace: keys() and item assignment, not a dict."""

    def __init__(self, **values):
        self.values = values

    def keys(self):
        return self.values.keys()

    def __getitem__(self, key):
        return self.values[key]

    def __setitem__(self, key, value):
        self.values[key] = value


def test_locations_fill_namespaces_in_place_and_explain_empty_keys():
    space = _Namespace(root="${location.data}/x", nested=_Namespace(paths=["${location.data}", 1]))
    assert substitute_locations(space, {"data": "/d"}, "loc.yaml") is space
    assert space["root"] == "/d/x" and space["nested"]["paths"] == ["/d", 1]
    with pytest.raises(UserInputError, match=r"location\.data.*loc\.yaml"):
        substitute_locations("${location.data}", {"data": ""}, "loc.yaml")
