"""Render the SQL of an operation without a database.

Django's ``sqlmigrate`` rebuilds the graph and renders the whole project state once per
migration, and its PostgreSQL schema editor opens a connection to merge parameters. The
engine instead walks the plan once with one :class:`ProjectState` and asks for SQL only
where the SQL rules judge it (unknown operations; ``RunSQL`` carries its own text), or for
every operation with ``Linter(render_all=True)``. Rendering goes through a schema editor
that collects SQL on an *offline* connection:

- parameters are merged client-side (``quote_value``), so no cursor is needed;
- anything that would touch the server (introspecting constraint names, reading the
  server version, a third-party operation running its own query) raises
  :class:`NeedsDatabase` instead. The operation's SQL is then unknown; the operation rules
  still judge it, and the report says once how many operations fell back.

So the checker never connects, never executes anything, and cannot crash on a database
that is missing, empty or at another migration state.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, NoReturn

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState


class NeedsDatabase(Exception):
    """Rendering this operation's SQL would need a live database."""


def _refuse(*args: Any, **kwargs: Any) -> NoReturn:
    raise NeedsDatabase("rendering this SQL needs a database connection (introspection)")


def offline_connection(alias: str) -> BaseDatabaseWrapper:
    """A copy of ``connections[alias]`` that can render SQL but refuses to connect."""
    real = connections[alias]
    offline = type(real)(dict(real.settings_dict), alias=alias)
    offline.ensure_connection = _refuse  # type: ignore[method-assign]
    offline.connect = _refuse  # type: ignore[method-assign]
    return offline


class _OfflineMixin:
    def execute(self, sql: Any, params: Any = ()) -> None:
        """Collect the SQL with parameters merged client-side (the base class's way)."""
        BaseDatabaseSchemaEditor.execute(self, sql, params)  # type: ignore[arg-type]


@dataclass
class Uncollected:
    """An operation whose SQL could not be rendered offline, and why."""

    app: str
    migration: str
    operation_index: int
    operation: str
    reason: str


class SqlCollector:
    """Renders operations' SQL on one offline connection."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection

    @cached_property
    def editor_class(self) -> type[BaseDatabaseSchemaEditor]:
        base = self.connection.SchemaEditorClass
        return type("OfflineSchemaEditor", (_OfflineMixin, base), {})

    def render(
        self, app_label: str, operation: Operation, from_state: ProjectState, to_state: ProjectState
    ) -> list[str]:
        """The statements ``operation`` would run; raises :class:`NeedsDatabase` or any error
        the operation raises while rendering (the caller falls back to operation rules)."""
        editor = self.editor_class(self.connection, collect_sql=True, atomic=False)
        with editor:
            operation.database_forwards(app_label, editor, from_state, to_state)
        return list(editor.collected_sql)
