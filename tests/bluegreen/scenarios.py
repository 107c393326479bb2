"""A previous release (``Person`` in app ``compatapp``) and helpers to try new migrations on it.

Nothing here is installed: the models live in migration state only, so every test can
build the previous release's table in its own transaction and roll it back.
"""

from __future__ import annotations

from typing import Any

from django.apps.registry import Apps
from django.db import connection, migrations, models
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

from django_zero_downtime.bluegreen.compatibility import find_breaks
from django_zero_downtime.findings.model import Finding

APP = "compatapp"

PREVIOUS_RELEASE: list[Operation] = [
    migrations.CreateModel(
        "Person",
        fields=[
            ("id", models.BigAutoField(primary_key=True)),
            ("first_name", models.CharField(max_length=100)),
            ("last_name", models.CharField(max_length=100)),
            ("age", models.IntegerField(null=True)),
            ("nickname", models.CharField(max_length=50, null=True)),
            ("score", models.IntegerField(db_default=0)),
            ("manager_id", models.BigIntegerField(null=True)),
        ],
    )
]


def migration(name: str, operations: list[Operation], atomic: bool = True) -> Any:
    attributes = {"operations": operations, "atomic": atomic}
    return type("Migration", (migrations.Migration,), attributes)(name, APP)


def alter(name: str, field: models.Field[Any, Any]) -> Operation:
    return migrations.AlterField("person", name, field)


def add(name: str, field: models.Field[Any, Any]) -> Operation:
    return migrations.AddField("person", name, field)


def state_after(operations: list[Operation], state: ProjectState | None = None) -> ProjectState:
    state = state or ProjectState()
    for op in operations:
        op.state_forwards(APP, state)
    return state


def previous_state() -> ProjectState:
    return state_after(PREVIOUS_RELEASE)


def check(*new_migrations: list[Operation]) -> list[Finding]:
    """Findings of the compatibility check for new migrations 0002, 0003, ..."""
    steps = [(APP, migration(f"{n:04d}_new", ops)) for n, ops in enumerate(new_migrations, 2)]
    return find_breaks(previous_state(), steps, connection)


def rules(findings: list[Finding]) -> list[str]:
    return sorted(f.rule for f in findings)


def apply_for_real(new_operations: list[Operation]) -> Apps:
    """Create the previous release's table, run the new operations' SQL on it, and return the
    previous release's models (call inside a test transaction; it rolls back)."""
    state = ProjectState()
    with connection.schema_editor() as editor:
        for op in PREVIOUS_RELEASE + new_operations:
            after = state.clone()
            op.state_forwards(APP, after)
            op.database_forwards(APP, editor, state, after)
            state = after
    return previous_state().apps
