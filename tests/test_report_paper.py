"""The paper's facts live once, in inpaint/report/paper/: Table IV's rows and groups, and no published row of
Tables II / III / IV / VII, group title or method label is written a second time anywhere in the package."""

from __future__ import annotations

import ast
from pathlib import Path

from inpaint.models.variants import DEFAULT_VARIANT, EXTRA_VARIANTS, VARIANTS
from inpaint.report.paper.labels import GENERATOR_LABELS
from inpaint.report.paper.table4 import TABLE4, TABLE4_GROUP_TITLES, TABLE4_ROWS
from inpaint.report.paper.tau import TAU_PAPER_BEST, TAU_VALUES
from inpaint.sweeps.spec import load_spec

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "inpaint"
PAPER = PACKAGE / "report" / "paper"


def test_table4_rows_order_and_groups() -> None:
    assert len(TABLE4_ROWS) == 12 == len(TABLE4)
    assert [g for g, _ in TABLE4_ROWS] == ["I"] + ["II"] * 2 + ["III"] * 2 + ["IV"] * 2 + ["V"] * 5
    assert TABLE4_ROWS[-1][1] == DEFAULT_VARIANT
    assert set(TABLE4_GROUP_TITLES) == {"I", "II", "III", "IV", "V"}
    assert {n for _, n in TABLE4_ROWS} | set(EXTRA_VARIANTS) == set(VARIANTS)
    assert TABLE4_GROUP_TITLES["V"].endswith("simultaneously reconstructs the texture feature map")  # arXiv wording


def test_sweep_axes_are_the_papers_names_and_values() -> None:
    assert load_spec("ablation", REPO / "sweeps").grid_axes([0])["variant"] == [v for _, v in TABLE4_ROWS]
    assert tuple(load_spec("tau", REPO / "sweeps").grid_axes([0])["tau"]) == TAU_VALUES and TAU_PAPER_BEST in TAU_VALUES
    for yaml in (REPO / "sweeps").glob("*.yaml"):
        text = yaml.read_text()
        assert not any(title in text for title in TABLE4_GROUP_TITLES.values()), yaml.name


def _constants(path: Path) -> tuple[list[tuple[float, ...]], set[str]]:
    """The float values of tuples holding 3+ of them, and the non-docstring string constants of a module."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    numbers, strings = [], set()
    for node in ast.walk(tree):
        floats = [e.value for e in getattr(node, "elts", [])
                  if isinstance(e, ast.Constant) and isinstance(e.value, float)]
        if isinstance(node, ast.Tuple) and len(floats) >= 3:
            numbers.append(tuple(floats))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            strings.add(node.value)
    return numbers, strings


def test_no_paper_fact_is_defined_twice() -> None:
    seen: dict[tuple[float, ...], list[str]] = {}
    strings: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        numbers, texts = _constants(path)
        for row in numbers:
            seen.setdefault(row, []).append(str(path.relative_to(REPO)))
        for text in texts:
            strings.setdefault(text, []).append(str(path.relative_to(REPO)))
    published = [row for row, where in seen.items() if any(w.startswith("inpaint/report/paper/") for w in where)]
    assert len(published) >= 12 + 10 + 3 + 8  # Table IV, II (two datasets), III, VII rows
    for row in published:
        assert len(seen[row]) == 1, f"{row} is written in {seen[row]}"
    for fact in [*TABLE4_GROUP_TITLES.values(), *(v for v in GENERATOR_LABELS.values() if "(" in v)]:  # "Ours(HiFill)"
        assert strings.get(fact) == [strings[fact][0]] and strings[fact][0].startswith("inpaint/report/paper/"), (
            fact, strings.get(fact))


def test_report_modules_read_the_paper_package_only() -> None:
    for path in (PACKAGE / "report").glob("*.py"):
        assert "paper_values" not in path.read_text() and "paper_swap_values" not in path.read_text(), path.name
    modules = {p.stem for p in PAPER.glob("*.py")}
    assert modules >= {"table2", "table3", "table4", "table7", "complexity", "tau", "labels"}
