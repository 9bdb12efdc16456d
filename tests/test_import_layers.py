"""The package's import graph is layered: no cycles, and no import from a lower layer up to a higher one.

Every ``import`` / ``from … import`` under ``inpaint/`` counts, at module level or inside a function (a lazy import
is still a dependency). Layers, highest first (a module may import its own layer's siblings and anything below):

1. ``cli``, ``commands`` — user-facing entry points and their argument handling;
2. ``report`` — tables and figures from finished runs;
3. ``sweeps`` — studies of many training runs;
4. ``lit`` — Lightning wiring: the module, the shared GAN step, callbacks, checkpoints, export, step timing;
5. ``losses``, ``inference`` — the training objective (Eq. 13–16) and checkpoint-free inference over images/masks;
6. ``models``, ``data``, ``metrics`` — networks, datasets/masks, evaluation metrics;
7. ``nn``, ``conventions``, ``classpath``, ``errors``, ``naming``, ``config``, ``tested_versions`` — building blocks,
   tensor conventions, the one class-path instantiator, shared error types, the one ``slug``, the pure YAML config
   composer and the version guard of library internals, importing nothing from the package above them.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "inpaint"

LAYERS: list[set[str]] = [
    {"cli", "commands"},
    {"report"},
    {"sweeps"},
    {"lit"},
    {"losses", "inference", "analysis"},
    {"models", "data", "metrics"},
    {"nn", "conventions", "classpath", "errors", "naming", "config", "tested_versions"},
]
LAYER_OF = {name: depth for depth, names in enumerate(LAYERS) for name in names}


def _module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str, root: Path) -> bool:
    relative = Path(*name.split(".")[1:])
    return (root / relative).with_suffix(".py").is_file() or (root / relative / "__init__.py").is_file()


def imports_of(path: Path, root: Path = PACKAGE) -> set[str]:
    """Absolute names of the ``inpaint`` modules/packages ``path`` imports anywhere in its body.

    ``from pkg import name`` counts as importing ``pkg.name`` when that is a module, else ``pkg``.
    """
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: climb from the importing package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                child = f"{module}.{alias.name}"
                found.add(child if _is_module(child, root) else module)
    return {target for target in found if target == "inpaint" or target.startswith("inpaint.")}


def top_level(module: str) -> str:
    """``inpaint.lit.module`` → ``lit``; ``inpaint`` itself → ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def package_graph() -> dict[str, set[tuple[str, str, str]]]:
    """{top-level part: {(imported part, importing module, imported module)}} across parts."""
    graph: dict[str, set[tuple[str, str, str]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _module_name(path)
        for target in imports_of(path):
            a, b = top_level(source), top_level(target)
            if a != b and b:
                graph.setdefault(a, set()).add((b, source, target))
    return graph


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in edges.get(node, ()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_top_level_part_has_a_layer() -> None:
    parts = {top_level(_module_name(p)) for p in PACKAGE.rglob("*.py")} - {""}
    assert parts <= set(LAYER_OF), f"assign a layer to: {sorted(parts - set(LAYER_OF))}"


def test_no_cycle_between_top_level_parts() -> None:
    edges = {a: {b for b, _, _ in targets} for a, targets in package_graph().items()}
    assert _cycles(edges) == []


def test_no_cycle_between_modules() -> None:
    edges: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        source = _module_name(path)
        # "inpaint.x" importing its own package's __init__ (or vice versa) is how packages re-export; skip those
        edges[source] = {t for t in imports_of(path) if not source.startswith(t + ".") and t != source}
    assert _cycles(edges) == []


def test_no_upward_import() -> None:
    upward = sorted(
        f"{source} -> {target}"
        for part, targets in package_graph().items()
        for imported, source, target in targets
        if part in LAYER_OF and LAYER_OF[imported] < LAYER_OF[part]
    )
    assert upward == []


def test_graph_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    package = tmp_path / "inpaint"
    (package / "models").mkdir(parents=True)
    for name in ("__init__.py", "models/__init__.py", "models/y.py"):
        (package / name).write_text("")
    source = package / "models" / "x.py"
    source.write_text("from . import y\nfrom .y import thing\n\ndef f():\n"
                      "    from inpaint.commands.info import main\n    import torch\n")
    assert imports_of(source, package) == {"inpaint.models.y", "inpaint.commands.info"}
