"""The import ladder, read from the source with `ast`: no import cycle between tailapp's modules, no
tailapp import inside a function (the usual way to dodge a cycle), and the spine imports downward only."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "tailapp"
# Top to bottom: a module may import those below it, never those above (docs/MODULES.md draws the rest).
SPINE = ["serve", "app", "web", "api", "views", "queries", "launch", "tasks", "runtime", "jobs", "store"]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, ast.Module]:
    return {module_name(path): ast.parse(path.read_text(), str(path)) for path in sorted(PACKAGE.rglob("*.py"))}


def imported(node: ast.stmt, known: set[str]) -> set[str]:
    """The tailapp modules an import statement loads (`from tailapp import jobs` loads tailapp.jobs)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in known}
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("tailapp"):
        found = {f"{node.module}.{alias.name}" for alias in node.names} & known
        return found | ({node.module} & known)
    return set()


def imports_of(tree: ast.Module, known: set[str]) -> set[str]:
    """Every tailapp module the module imports, at its top or in a function; not under `if TYPE_CHECKING:`
    (annotations only)."""
    found: set[str] = set()
    for node in tree.body:
        if not (isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)):
            for inner in ast.walk(node):
                found |= imported(inner, known)
    return found


@cache
def graph() -> dict[str, set[str]]:
    trees = modules()
    known = set(trees)
    # A package's own __init__ is imported with any of its modules: not an edge of the ladder.
    return {name: imports_of(tree, known) - {name} - {p for p in known if name.startswith(p + ".")}
            for name, tree in trees.items()}


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), list(edges.get(start, ()))
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += edges.get(name, ())
    return seen


def test_there_is_no_import_cycle():
    edges = graph()
    cycles = sorted(name for name in edges if name in reachable(edges, name))
    assert cycles == [], f"modules on an import cycle: {cycles}"


def test_no_function_imports_a_tailapp_module():
    trees = modules()
    known = set(trees)
    lazy = []
    for name, tree in trees.items():
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                lazy += [f"{name}:{node.lineno}" for node in ast.walk(function) if imported(node, known)]
    assert lazy == [], f"imports of tailapp modules inside functions: {lazy}"


@pytest.mark.parametrize("lower", SPINE[1:])
def test_the_spine_imports_downward_only(lower):
    edges = graph()
    above = SPINE[: SPINE.index(lower)]
    climbs = sorted(f"tailapp.{name}" for name in above if f"tailapp.{name}" in reachable(edges, f"tailapp.{lower}"))
    assert climbs == [], f"tailapp.{lower} imports (maybe through others) {climbs}, above it on the ladder"


def test_the_checks_see_the_package():
    edges = graph()
    assert len(edges) > 40  # every module, not an empty folder
    assert "tailapp.store" in reachable(edges, "tailapp.serve")
