"""Where a migration and its operations are written: file path and line numbers."""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Iterable
from dataclasses import replace
from functools import cache
from typing import Any

from django_zero_downtime import project
from django_zero_downtime.findings.model import Finding


def migration_file(migration: Any) -> str:
    """The migration's source file, relative to the project root when inside it (so CI
    annotations attach to the diff whatever the working directory), else absolute."""
    module = sys.modules.get(type(migration).__module__)
    path = getattr(module, "__file__", None) or ""
    return project.display_path(path) if path else ""


@cache
def _lines(path: str) -> tuple[int | None, tuple[int, ...]]:
    """Line of ``class Migration`` and of each element of its ``operations`` list."""
    try:
        with open(path, encoding="utf-8") as source:
            tree = ast.parse(source.read(), filename=path)
    except (OSError, SyntaxError, ValueError):
        return None, ()
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Migration":
            return node.lineno, _operation_lines(node)
    return None, ()


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


def line_of(path: str, operation_index: int | None) -> int | None:
    """The operation's line, else the ``class Migration`` line, else None."""
    if not path:
        return None
    class_line, operation_lines = _lines(os.path.join(project.root(), path))
    if operation_index is not None and operation_index < len(operation_lines):
        return operation_lines[operation_index]
    return class_line


def located(finding: Finding, migration: Any) -> Finding:
    """``finding`` with its migration's file (relative to the project root) and the line of
    its operation (else of ``class Migration``)."""
    path = migration_file(migration)
    return replace(finding, file=path, line=line_of(path, finding.operation_index))


def fill(findings: Iterable[Finding]) -> list[Finding]:
    """Every finding with a file and line: those without get them from the migration graph
    (runner findings name only app and migration)."""
    findings = list(findings)
    if all(f.file and f.line for f in findings):
        return findings
    from django.db.migrations.loader import MigrationLoader

    nodes = MigrationLoader(None, ignore_no_migrations=True).graph.nodes
    return [
        located(f, nodes[(f.app, f.migration)])
        if (f.app, f.migration) in nodes and not (f.file and f.line)
        else f
        for f in findings
    ]
