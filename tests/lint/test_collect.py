"""SQL collection: one offline pass renders what Django would run, and it runs on PostgreSQL."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, migrations, models

from django_zero_downtime.lint.collect import NeedsDatabase, SqlCollector, offline_connection
from django_zero_downtime.lint.engine import Linter
from django_zero_downtime.lint.select import full_plan, load
from tests.lint.helpers import lint_result

APPS = ("contenttypes", "auth", "people")


def collect_all() -> tuple[list, dict]:
    offline = offline_connection("default")
    plan = [m for m in full_plan(load(None)) if m.app_label in APPS]
    keys = {(m.app_label, m.name) for m in plan}
    linter = Linter(offline, collector=SqlCollector(offline), keep_sql=True, render_all=True)
    result = linter.run(plan, keys)
    return plan, result.sql


def normalise(statements: list[str]) -> list[str]:
    return [" ".join(s.split()).rstrip(";") for s in statements if s.strip()]


def is_ours(operation: object) -> bool:
    return type(operation).__module__.startswith("django_zero_downtime.operations")


def sqlmigrate(app: str, name: str) -> list[str]:
    out = io.StringIO()
    call_command("sqlmigrate", app, name, stdout=out)
    lines = [line for line in out.getvalue().splitlines() if not line.startswith("--")]
    text = "\n".join(lines) + "\n"
    parts = (part.strip().rstrip(";") for part in text.split(";\n"))
    return [s for s in parts if s and s not in ("BEGIN", "COMMIT")]


def test_offline_connection_refuses_to_connect() -> None:
    offline = offline_connection("default")
    with pytest.raises(NeedsDatabase):
        offline.cursor()


@pytest.mark.django_db
def test_one_pass_renders_what_sqlmigrate_renders() -> None:
    plan, sql = collect_all()
    compared = 0
    for migration in plan:
        key = (migration.app_label, migration.name)
        if not migration.operations or any(
            isinstance(op, migrations.RunPython) or is_ours(op) for op in migration.operations
        ):
            continue  # ours render plpgsql bodies and notes that a ";\n" split cannot compare
        theirs = normalise(sqlmigrate(*key))
        ours = normalise(sql.get(key, []))
        assert sorted(ours) == sorted(theirs), key
        compared += 1
    assert compared >= 10


@pytest.mark.django_db
def test_collected_sql_runs_on_postgresql() -> None:
    plan, sql = collect_all()
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA zdt_lint_probe")
        cursor.execute("SET LOCAL search_path TO zdt_lint_probe")
        for migration in plan:
            for statement in sql.get((migration.app_label, migration.name), []):
                cursor.execute(statement)
        cursor.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'zdt_lint_probe'"
        )
        assert cursor.fetchone()[0] >= 8


def test_introspecting_operations_fall_back_to_operation_rules() -> None:
    alter_fk = migrations.AlterField(
        "item", "category", models.ForeignKey("shop.Category", models.PROTECT, db_index=False)
    )
    drop = migrations.RemoveField("item", "category")
    result = lint_result([alter_fk, drop], collect=True, render_all=True)
    assert [(u.operation_index, u.operation) for u in result.uncollected] == [
        (0, "AlterField"),
        (1, "RemoveField"),
    ]
    assert [f.rule for f in result.findings] == ["ZDT101"]
    assert all("introspection" in u.reason for u in result.uncollected)


class DropLegacy(migrations.operations.base.Operation):
    """A third-party operation that renders its own DDL."""

    def state_forwards(self, app_label: str, state: object) -> None:
        pass

    def database_forwards(self, app_label: str, schema_editor: Any, *states: object) -> None:
        model = states[0].apps.get_model("shop", "Item")  # type: ignore[attr-defined]
        schema_editor.execute(f"ALTER TABLE {model._meta.db_table} DROP COLUMN note")


class AsksTheDatabase(DropLegacy):
    def database_forwards(self, app_label: str, schema_editor: Any, *states: object) -> None:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT 1")


def test_unknown_operation_sql_is_rendered_and_judged() -> None:
    result = lint_result([DropLegacy()], collect=True)
    assert [f.rule for f in result.findings] == ["ZDT190", "ZDT201"]
    assert result.uncollected == []


def test_unknown_operation_that_needs_a_database_falls_back() -> None:
    result = lint_result([AsksTheDatabase()], collect=True)
    assert [f.rule for f in result.findings] == ["ZDT190"]
    [uncollected] = result.uncollected
    assert uncollected.operation == "AsksTheDatabase"
