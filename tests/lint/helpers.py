"""Lint in-memory migrations of a small ``shop`` app, without a database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import migrations, models
from django.db.migrations.operations.base import Operation

from django_zero_downtime.findings.model import Finding
from django_zero_downtime.lint.collect import SqlCollector, offline_connection
from django_zero_downtime.lint.engine import LintConfig, Linter, LintResult


def initial_operations() -> list[Operation]:
    """``shop.0001``: Category and Item (name varchar(10), price numeric(8,2), category FK)."""
    return [
        migrations.CreateModel(
            "Category",
            [
                ("id", models.BigAutoField(primary_key=True)),
                ("title", models.CharField(max_length=50)),
            ],
        ),
        migrations.CreateModel(
            "Item",
            [
                ("id", models.BigAutoField(primary_key=True)),
                ("name", models.CharField(max_length=10)),
                ("note", models.TextField(null=True)),
                ("price", models.DecimalField(max_digits=8, decimal_places=2)),
                ("count", models.IntegerField(default=0)),
                ("code", models.CharField(max_length=20, db_column="legacy_code")),
                ("category", models.ForeignKey("shop.Category", models.CASCADE)),
                ("tags", models.ManyToManyField("shop.Category", related_name="items")),
            ],
        ),
    ]


def make_migration(
    name: str, operations: Sequence[Operation], atomic: bool = True, **attrs: Any
) -> migrations.Migration:
    migration = migrations.Migration(name, "shop")
    migration.operations = list(operations)  # type: ignore[misc]
    migration.atomic = atomic  # type: ignore[misc]
    for key, value in attrs.items():
        setattr(migration, key, value)
    return migration


def lint_result(
    operations: Sequence[Operation],
    *,
    atomic: bool = True,
    collect: bool = False,
    render_all: bool = False,
    config: LintConfig | None = None,
    **attrs: Any,
) -> LintResult:
    """Lint ``operations`` as ``shop.0002`` after ``shop.0001`` (not linted)."""
    connection = offline_connection("default")
    collector = SqlCollector(connection) if collect else None
    first = make_migration("0001_initial", initial_operations())
    second = make_migration("0002_change", operations, atomic, **attrs)
    linter = Linter(connection, config, collector, render_all=render_all)
    return linter.run([first, second], {("shop", "0002_change")})


def lint(operations: Sequence[Operation], **kwargs: Any) -> list[Finding]:
    return lint_result(operations, **kwargs).findings


def codes(operations: Sequence[Operation], **kwargs: Any) -> list[str]:
    return [finding.rule for finding in lint(operations, **kwargs)]
