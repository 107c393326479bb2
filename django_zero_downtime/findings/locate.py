"""Where a finding is: the migration file (relative to the project root) and its line.

The one location helper of every face (checker, runner, rehearsal, blue/green, guard):
paths are shown relative to the project root (``settings.BASE_DIR`` when set, else the
directory of ``manage.py`` when that is the program, else the working directory), so CI
annotations, SARIF and GitLab reports point at files in the repository.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class Location:
    """A migration, one of its operations (``operation_index``) and its file and line."""

    app: str = ""
    migration: str = ""
    operation_index: int | None = None
    operation: str = ""
    file: str = ""
    line: int | None = None


def project_root() -> Path:
    """``settings.BASE_DIR``, else the directory of ``manage.py`` (the program), else cwd."""
    base = getattr(settings, "BASE_DIR", None) if settings.configured else None
    return _root(str(base or ""), sys.argv[0] if sys.argv else "", os.getcwd())


@lru_cache(maxsize=16)
def _root(base: str, program: str, cwd: str) -> Path:
    """Cached: a lint of thousands of migrations asks once per finding (``resolve`` reads
    every directory of the path)."""
    if base:
        return Path(base).resolve()
    path = Path(program) if program else None
    if path is not None and path.name == "manage.py" and path.is_file():
        return path.resolve().parent
    return Path(cwd).resolve()


def display_path(path: str | Path) -> str:
    """``path`` relative to the project root when it is inside it, else absolute."""
    if not str(path):
        return ""
    return _display(str(path), project_root(), os.getcwd())


@lru_cache(maxsize=4096)
def _display(path: str, root: Path, cwd: str) -> str:
    """(``cwd``: a relative ``path`` resolves against it. Cached: a lint shows one path per
    finding, and a migration with several findings is shown several times.)"""
    resolved = _resolved(os.path.join(cwd, path))
    base = str(root)
    if resolved == base:
        return "."
    if resolved.startswith(base.rstrip(os.sep) + os.sep):
        return resolved[len(base.rstrip(os.sep)) + 1 :]
    return resolved


def _resolved(path: str) -> str:
    """``os.path.realpath``, with the directory's resolved once: a lint of thousands of
    migrations shows a path per finding, and most of them share a few directories."""
    if os.path.islink(path):
        return os.path.realpath(path)
    head, tail = os.path.split(os.path.normpath(path))
    return os.path.join(_real_directory(head), tail) if tail else _real_directory(head)


@lru_cache(maxsize=1024)
def _real_directory(path: str) -> str:
    return os.path.realpath(path)


def source_file(migration: Any) -> str:
    """The absolute source file of a loaded migration ("" when it has none, e.g. a
    ``Migration`` built in code rather than loaded from a file)."""
    if type(migration).__module__ == "django.db.migrations.migration":
        return ""
    module = sys.modules.get(type(migration).__module__)
    path = getattr(module, "__file__", None) or ""
    return os.path.abspath(path) if path else ""


def migration_file(migration: Any) -> str:
    """The migration's source file as findings show it (relative to the project root)."""
    return display_path(source_file(migration))


def file_of(app_label: str, name: str) -> str:
    """The absolute file of migration ``app_label.name``, found without importing it."""
    from django.db.migrations.loader import MigrationLoader

    try:
        module_name, _ = MigrationLoader.migrations_module(app_label)
        spec = importlib.util.find_spec(f"{module_name}.{name}") if module_name else None
    except (LookupError, ImportError, ValueError):
        return ""
    origin = spec.origin if spec is not None else None
    return origin if origin and origin.endswith(".py") else ""


def location(
    app: str,
    migration: str,
    index: int | None = None,
    operation: str = "",
    *,
    loaded: Any = None,
) -> Location:
    """Where operation ``index`` of ``app.migration`` is written (``loaded``: the migration
    object when at hand; otherwise its file is looked up from the app's migrations module)."""
    path = source_file(loaded) if loaded is not None else file_of(app, migration)
    if loaded is not None and index is not None and not operation:
        operation = type(loaded.operations[index]).__name__
    count = len(loaded.operations) if loaded is not None else None
    line = line_of(path, index, count)
    return Location(app, migration, index, operation, display_path(path), line)


def of_migration(migration: Any, index: int | None = None, operation: str = "") -> Location:
    """:func:`location` of a loaded migration object."""
    return location(migration.app_label, migration.name, index, operation, loaded=migration)


@cache
def _lines(path: str, count: int | None = None) -> tuple[int | None, tuple[int, ...]]:
    """Line of ``class Migration`` and of each element of its ``operations`` list.

    ``count``: the number of operations, when known. A file in the migration writer's layout
    is then read as text (:func:`_writer_lines`), and parsed only when that does not find
    exactly ``count`` elements: a checker run shows a line per finding, and parsing every
    file with one cost a run of 3,000 migrations a tenth of its time."""
    try:  # bytes decoded at once: no text-mode reader per file (one file per finding)
        with open(path, "rb") as source:
            text = source.read().decode("utf-8")
    except (OSError, ValueError):
        return None, ()
    if count is not None:
        found = _writer_lines(text)
        if found is not None and len(found[1]) == count:
            return found
    try:
        tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError):
        return None, ()
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Migration":
            return node.lineno, _operation_lines(node)
    return None, ()


def _writer_lines(text: str) -> tuple[int, tuple[int, ...]] | None:
    """The lines the writer's layout puts them on: ``class Migration(`` at the margin,
    ``    operations = [``, an element per line indented by 8 that does not close a bracket,
    ``    ]``. None when the file is not laid out so (or holds a triple-quoted string)."""
    if '"""' in text or "'''" in text:
        return None
    lines = text.splitlines()
    top = next((n for n, line in enumerate(lines, 1) if line.startswith("class Migration(")), 0)
    start = next((n for n in range(top, len(lines)) if lines[n] == "    operations = ["), -1)
    if not top or start < 0:
        return None
    elements: list[int] = []
    for number in range(start + 1, len(lines)):
        line = lines[number]
        if line == "    ]":
            return top, tuple(elements)
        if line.startswith("        ") and line[8:9] not in ("", " ", ")", "]", "}", "#"):
            elements.append(number + 1)
    return None


def _operation_lines(node: ast.ClassDef) -> tuple[int, ...]:
    for statement in node.body:
        target = _assigned_name(statement)
        value = getattr(statement, "value", None)
        if target == "operations" and isinstance(value, ast.List | ast.Tuple):
            return tuple(element.lineno for element in value.elts)
    return ()


def _assigned_name(statement: ast.stmt) -> str | None:
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target = statement.targets[0]
        return target.id if isinstance(target, ast.Name) else None
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id
    return None


def line_of(path: str, operation_index: int | None, count: int | None = None) -> int | None:
    """The operation's line, else the ``class Migration`` line, else None.

    A relative ``path`` is taken as shown in findings (relative to the project root);
    ``count``: how many operations the migration has, when known (see :func:`_lines`)."""
    if not path:
        return None
    absolute = path if os.path.isabs(path) else str(project_root() / path)
    class_line, operation_lines = _lines(absolute, count)
    if operation_index is not None and operation_index < len(operation_lines):
        return operation_lines[operation_index]
    return class_line


def located(finding: Any, migration: Any) -> Any:
    """``finding`` (a :class:`~django_zero_downtime.findings.model.Finding`) with the file
    and line of its operation in the loaded ``migration``."""
    where = of_migration(migration, finding.operation_index)
    return replace(finding, file=where.file, line=where.line)


def fill(findings: Iterable[Any]) -> list[Any]:
    """Every finding with a file and line: those that name only app and migration (runner
    findings) get them from the app's migrations module."""
    out = []
    for finding in findings:
        if not (finding.file and finding.line):
            where = location(finding.app, finding.migration, finding.operation_index)
            finding = replace(finding, file=finding.file or where.file, line=where.line)
        out.append(finding)
    return out
