"""The package's shape, computed from its source: no import cycle, imports only go down the
layers, no module over ~400 lines, and every user-facing import path works."""

from __future__ import annotations

import ast
import importlib
import inspect
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "django_zero_downtime"
MAX_LINES = 400

LAYERS: dict[str, int] = {
    # 0: settings, errors and vocabulary every part may use
    "__init__": 0, "exceptions": 0, "conf": 0, "events": 0, "traits": 0, "retry": 0,
    # 1: the ledger's tables, SQL facts, findings (catalogue, policy, approvals, renderers)
    "models": 1, "sql": 1, "findings": 1, "releases": 1,
    # 2: deploy cycles and the drop gate; command arguments as migration targets
    "ledger": 2, "targets": 2, "project": 2,
    # 3: the parts: safe operations, the guard
    "operations": 3, "guard": 3,
    # 4: blue/green compatibility (reads what the operations declare they mirror)
    "bluegreen": 4,
    # 5: what judges or applies migrations: the checker, rehearsal, runner, test helpers
    "lint": 5, "rehearsal": 5, "runner": 5, "testing": 5,
    # 6: what Django's makemigrations and check call into
    "autodetect": 6, "checks": 6,
    # 7: entry points: the app config, the commands, the pytest plugin's old path
    "apps": 7, "management": 7, "pytest_plugin": 7,
}  # fmt: skip
"""A module imports from its own part or from a lower layer, never sideways or up."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    found = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: path for name, path in found.items() if ".migrations" not in name}


def _imported(node: ast.AST, module: str, is_package: bool) -> set[str]:
    """Modules of this package that one import statement names (``from pkg import sub``
    names ``pkg.sub`` when that is a module, else ``pkg``: its ``__init__`` re-exports)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if not isinstance(node, ast.ImportFrom):
        return set()
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, *([node.module] if node.module else [])])
    return {f"{base}.{a.name}" if f"{base}.{a.name}" in modules() else base for a in node.names}


FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _runtime_nodes(tree: ast.AST, at_import: bool) -> list[ast.AST]:
    """The nodes that run (``if TYPE_CHECKING:`` blocks never do); ``at_import``: only
    those that run when the module is imported (not function bodies)."""
    nodes: list[ast.AST] = []
    for node in ast.iter_child_nodes(tree):
        children: list[ast.AST]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            children = list(node.orelse)
        elif at_import and isinstance(node, FUNCTIONS):
            continue
        else:
            children = [node]
        for child in children:
            nodes += [child, *_runtime_nodes(child, at_import)]
    return nodes


@cache
def imports(at_import: bool = False) -> dict[str, frozenset[str]]:
    """Every import of every module that runs: at import time only, or also inside
    functions (deferred imports)."""
    graph = {}
    for name, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found: set[str] = set()
        for node in _runtime_nodes(tree, at_import):
            found |= _imported(node, name, path.name == "__init__.py")
        graph[name] = frozenset(found & set(modules()) - {name})
    return graph


def find_cycle(graph: dict[str, frozenset[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (as a path back to its start), or None."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for following in sorted(graph.get(node, ())):
            if state.get(following) == "open":
                return [*path[path.index(following) :], following]
            if following not in state and (found := visit(following, path)):
                return found
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node, [])):
            return found
    return None


def test_no_import_cycle() -> None:
    """Among the imports that run when a module is imported; a deferred import (inside a
    function) may close a loop, which the layer test below keeps inside one part."""
    cycle = find_cycle(imports(at_import=True))
    assert cycle is None, " -> ".join(cycle or [])


def _part(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def test_imports_only_go_down_the_layers() -> None:
    assert set(LAYERS) >= {_part(name) for name in modules()}, "a new part needs a layer"
    upward = [
        f"{module} -> {target}"
        for module, targets in imports().items()
        for target in targets
        if _part(module) != _part(target) and LAYERS[_part(target)] >= LAYERS[_part(module)]
    ]
    assert upward == []


def test_no_module_over_the_size_limit() -> None:
    sizes = {name: len(path.read_text().splitlines()) for name, path in modules().items()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_the_checks_above_can_fail() -> None:
    """A made-up cycle is found, and the real graph has the edges it should."""
    assert find_cycle({"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"})}) == [
        "a", "b", "c", "a",
    ]  # fmt: skip
    assert find_cycle({"a": frozenset({"b"}), "b": frozenset()}) is None
    graph = imports()
    assert "django_zero_downtime.findings.approvals" in graph["django_zero_downtime.lint.suppress"]
    assert "django_zero_downtime.ledger" in graph["django_zero_downtime.operations.base"]


PUBLIC_PATHS = [
    ("django_zero_downtime.operations", None),
    ("django_zero_downtime.testing", "Migrator"),
    ("django_zero_downtime.testing", "exercise_model"),
    ("django_zero_downtime.lint", "suppress"),
    ("django_zero_downtime.lint.suppress", "suppress"),
    ("django_zero_downtime.testing.pytest_plugin", None),
    ("django_zero_downtime.pytest_plugin", None),
    ("django_zero_downtime.bluegreen.compatibility", "check_compatibility"),
    ("django_zero_downtime.bluegreen.compatibility", "Effect"),
    ("django_zero_downtime.traits", "Effect"),
    ("django_zero_downtime.findings.render", "render"),
]


@pytest.mark.parametrize(("module", "name"), PUBLIC_PATHS)
def test_user_facing_import_paths(module: str, name: str | None) -> None:
    imported = importlib.import_module(module)
    assert name is None or getattr(imported, name) is not None


def test_every_public_operation_imports_from_the_frozen_path() -> None:
    operations = importlib.import_module("django_zero_downtime.operations")
    assert operations.__all__
    for name in operations.__all__:
        cls = getattr(operations, name)
        assert inspect.isclass(cls) and cls.__module__ == "django_zero_downtime.operations"


def test_old_plugin_entry_point_is_the_new_one() -> None:
    old = importlib.import_module("django_zero_downtime.pytest_plugin")
    new = importlib.import_module("django_zero_downtime.testing.pytest_plugin")
    hooks = [n for n in dir(new) if n.startswith(("pytest_", "zdt_"))]
    assert hooks and all(getattr(old, n) is getattr(new, n) for n in hooks)


def test_the_architecture_map_lists_every_module() -> None:
    """docs/architecture.md opens with the package tree; it must not fall behind the code."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = text.split("```text\n", 1)[1].split("```", 1)[0]
    listed: set[str] = set()
    path: list[str] = []
    for line in block.splitlines()[1:]:
        depth = (len(line) - len(line.lstrip())) // 2
        entry = line.split()[0]
        path = [*path[: depth - 1], entry.rstrip("/")]
        if entry.endswith(".py"):
            listed.add("/".join(path))
    package = {str(p.relative_to(PACKAGE)) for p in modules().values()}
    expected = {p for p in package if not p.endswith("__init__.py")}
    assert expected - listed == set(), "modules missing from docs/architecture.md"
    assert listed - package == set(), "docs/architecture.md lists modules that do not exist"
