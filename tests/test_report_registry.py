"""The registry of report builders: every kind resolves to a builder, and an unknown kind says which exist."""

from __future__ import annotations

import inspect

import pytest

from inpaint.report.registry import DEFAULT_KIND, REPORT_BUILDERS, get_report_builder, report_kinds
from inpaint.sweeps.spec import load_spec


def test_every_kind_has_a_builder_taking_a_study():
    assert report_kinds() == ["compare", "msfef", "pmrfn", "pyramid", "swap", "table", "table1", "table4", "table8",
                              "tau"]
    assert DEFAULT_KIND in REPORT_BUILDERS
    for kind in report_kinds():
        builder = get_report_builder(kind)
        assert callable(builder) and list(inspect.signature(builder).parameters) == ["study"]


def test_unknown_kind_lists_the_known_ones():
    with pytest.raises(ValueError,
                       match="unknown report kind 'table9'; known kinds: compare, msfef, pmrfn, pyramid, swap, table, "
                             "table1, table4, table8, tau"):
        get_report_builder("table9")


@pytest.mark.parametrize("name", ["ablation", "tau", "search", "swap", "table1", "table8", "pyramid", "msfef", "pmrfn",
                                  "compare"])
def test_shipped_sweeps_name_a_registered_report(name):
    from pathlib import Path

    assert load_spec(name, Path(__file__).resolve().parents[1] / "sweeps").report in REPORT_BUILDERS


def test_report_command_help_lists_the_kinds(capsys):
    from inpaint.commands.report import main

    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "report kinds" in out and all(kind in out for kind in report_kinds())
