"""A small lab for operation tests: a throw-away app state and its tables on PostgreSQL.

Operations are applied the way Django's executor applies them (state_forwards, then
database_forwards with a schema editor) to a ProjectState built in the test, so each test
owns its tables and drops them afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, models
from django.db.migrations.operations import CreateModel
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

from django_zero_downtime.models import DeployCycle, Deprecation
from django_zero_downtime.operations.tables import deprecated_table_name
from django_zero_downtime.sql.identifiers import quote_ident

APP = "zdtlab"


class Lab:
    """Applies operations to an evolving state; remembers tables to drop at the end."""

    def __init__(self, app: str = APP) -> None:
        self.app = app
        self.state = ProjectState()
        self.history: list[ProjectState] = [self.state]
        self.tables: set[str] = set()

    def create(self, name: str, fields: list[tuple[str, Any]], **options: Any) -> Any:
        self.apply(CreateModel(name, fields, options=options))
        model = self.model(name)
        self.tables.add(model._meta.db_table)
        self.tables.update(f.m2m_db_table() for f in model._meta.local_many_to_many)
        return model

    def declare(
        self, name: str, fields: list[tuple[str, Any]], create_sql: str, **options: Any
    ) -> None:
        """Model state only; the table comes from raw SQL (Django's quote_name cannot make
        names with a double quote in them)."""
        self.sql(create_sql)
        CreateModel(name, fields, options=options).state_forwards(self.app, self.state)
        self.tables.add(self.model(name)._meta.db_table)

    def model(self, name: str, state: ProjectState | None = None) -> Any:
        return (state or self.state).apps.get_model(self.app, name)

    def apply(self, operation: Operation, atomic: bool = True) -> ProjectState:
        new = self.state.clone()
        operation.state_forwards(self.app, new)
        with connection.schema_editor(atomic=atomic) as editor:
            operation.database_forwards(self.app, editor, self.state, new)
        self.state = new
        self.history.append(new)
        return new

    def unapply(self, operation: Operation, atomic: bool = True) -> ProjectState:
        before = self.history[-2]
        with connection.schema_editor(atomic=atomic) as editor:
            operation.database_backwards(self.app, editor, self.state, before)
        self.history.pop()
        self.state = before
        return before

    def sql(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def drop_all(self) -> None:
        for table in self.tables:
            for name in (table, deprecated_table_name(table)):
                kinds = self.sql(
                    "SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [quote_ident(name)]
                )
                kind = "VIEW" if kinds == [("v",)] else "TABLE"
                self.sql(f"DROP {kind} IF EXISTS {quote_ident(name)} CASCADE")


@pytest.fixture
def lab(transactional_db: None) -> Iterator[Lab]:
    lab = Lab()
    try:
        yield lab
    finally:
        lab.drop_all()


def release(label: str) -> None:
    """One more deploy cycle in the ledger."""
    DeployCycle.objects.create(release=label)


def person_fields() -> list[tuple[str, Any]]:
    return [
        ("id", models.BigAutoField(primary_key=True)),
        ("first_name", models.CharField(max_length=100)),
        ("last_name", models.CharField(max_length=100)),
    ]


__all__ = ["APP", "Deprecation", "Lab", "lab", "person_fields", "release"]
