"""Django operations reduced to the facts the SQL classification tracks (:class:`Schema`).

The checker walks every migration of the plan, linted or not; each operation is observed
here before the state moves past it, so a ``CHECK (col IS NOT NULL)`` validated by an
earlier migration (``AddConstraint``, or ``AddConstraintNotValid`` + ``ValidateConstraint``)
proves a later ``AlterField(null=False)`` scan-free, exactly as for SQL. ``RunSQL`` is
classified by the same code the SQL rules use. Column facts the SQL does not show come from
the project state (:func:`column_lookup`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres import operations as pg_ops
from django.db import migrations
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.state import ProjectState
from django.db.models import CheckConstraint, Q

from django_zero_downtime.lint import facts
from django_zero_downtime.sql.state import Column, ColumnLookup, Schema
from django_zero_downtime.sql.volatility import VOLATILE_DEFAULT, function_volatile

AUTO_FIELD_TYPES = ("AutoField", "BigAutoField", "SmallAutoField")


def volatile(expression: Any) -> bool:
    """Whether a ``db_default`` expression calls a volatile function (``RandomUUID()``,
    ``Random()``, ``Func(function="clock_timestamp")``): ADD COLUMN then rewrites the table."""
    if type(expression).__name__ in ("RandomUUID", "Random"):
        return True
    extra = getattr(expression, "extra", None) or {}
    function = extra.get("function") or getattr(expression, "function", None)
    if isinstance(function, str) and function_volatile(function):
        return True
    template = extra.get("template") or getattr(expression, "template", None)
    if isinstance(template, str) and VOLATILE_DEFAULT.search(template):
        return True
    sources: Any = getattr(expression, "get_source_expressions", None)
    return callable(sources) and any(volatile(s) for s in sources() if s is not None)


def not_null_field(constraint: Any) -> str | None:
    """The field a ``CheckConstraint(condition=Q(field__isnull=False))`` proves NOT NULL."""
    if not isinstance(constraint, CheckConstraint):
        return None
    condition = getattr(constraint, "condition", None) or getattr(constraint, "check", None)
    if not isinstance(condition, Q) or condition.negated or len(condition.children) != 1:
        return None
    child = condition.children[0]
    if isinstance(child, tuple) and child[0].endswith("__isnull") and child[1] is False:
        return str(child[0][: -len("__isnull")])
    return None


class StateView:
    """Tables and columns of the (moving) project state, for the classification's lookups."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self.state: ProjectState | None = None

    def _models(self, table: str) -> list[Any]:
        if self.state is None:
            return []
        return [
            m
            for m in self.state.models.values()
            if facts.has_table(m) and facts.table_name(m, self.connection) == table
        ]

    def field(self, table: str, column: str | None) -> tuple[Any, str, Any] | None:
        """(model state, field name, field) whose column is ``column`` in ``table``."""
        for model_state in self._models(table):
            for name, field in model_state.fields.items():
                if column is None or facts.bound(name, field).column == column:
                    return model_state, name, field
        return None

    def names(self, table: str, column: str | None) -> tuple[str, str] | None:
        models = self._models(table)
        if not models:
            return None
        found = self.field(table, column) if column else None
        return models[0].name, found[1] if found else (column or "<field>")

    def column(self, table: str, column: str) -> Column | None:
        found = self.field(table, column)
        if found is None or self.state is None:
            return None
        model_state, name, field = found
        bound = facts.bound(name, field)
        sql_type = facts.column_type(bound, self.state, model_state.app_label, self.connection)
        has_default = facts.column_facts(
            name, field, self.state, model_state.app_label, self.connection
        ).db_default
        identity = field.get_internal_type() in AUTO_FIELD_TYPES
        return Column(sql_type, bool(field.null), has_default or identity, identity)

    def lookup(self) -> ColumnLookup:
        return self.column


def observe(
    schema: Schema, view: StateView, app_label: str, operation: Any, sql: bool = False
) -> None:
    """Record what ``operation`` establishes, against the state *before* it (``sql``: also
    classify ``RunSQL``, for migrations the SQL rules do not judge)."""
    if isinstance(operation, migrations.RunSQL):
        if not sql:
            return
        from django_zero_downtime.sql.classify import classify_sql

        for text in _sql_texts(operation):
            classify_sql(text, schema)
        return
    found = _table(view, app_label, getattr(operation, "model_name", None))
    if found is None:
        return
    model_state, table = found
    if isinstance(operation, migrations.AlterField):
        _alter_field(schema, view, table, model_state, operation)
    elif isinstance(operation, migrations.AddConstraint | pg_ops.AddConstraintNotValid):
        _constraint(schema, table, model_state, operation)
    elif isinstance(operation, pg_ops.ValidateConstraint):
        schema.not_valid.discard(operation.name)
        if operation.name in schema.proofs:
            schema.validated.add(operation.name)


def _alter_field(
    schema: Schema, view: StateView, table: str, model_state: Any, operation: Any
) -> None:
    """A NOT NULL column losing its database default or identity: the previous release's
    INSERTs fail, unless a later operation of the same transaction restores one (ZDT114)."""
    old = model_state.fields.get(operation.name)
    if old is None or view.state is None or table in schema.new_tables:
        return
    column = facts.bound(operation.name, operation.field).column
    new = operation.field
    had = old.has_db_default() or old.get_internal_type() in AUTO_FIELD_TYPES
    has = new.has_db_default() or new.get_internal_type() in AUTO_FIELD_TYPES
    if had and not has and not new.null:
        schema.pending_defaults[(table, column)] = (schema.origin, "ZDT114")
    elif has:
        schema.pending_defaults.pop((table, column), None)


def _constraint(schema: Schema, table: str, model_state: Any, operation: Any) -> None:
    name = not_null_field(operation.constraint)
    field = model_state.fields.get(name) if name else None
    if field is None or name is None:
        return
    validated = not isinstance(operation, pg_ops.AddConstraintNotValid)
    schema.add_proof(operation.constraint.name, table, facts.bound(name, field).column, validated)


def _table(view: StateView, app_label: str, model_name: Any) -> tuple[Any, str] | None:
    if not isinstance(model_name, str) or view.state is None:
        return None
    model_state = facts.get_model_state(view.state, app_label, model_name)
    if model_state is None or not facts.has_table(model_state):
        return None
    return model_state, facts.table_name(model_state, view.connection)


def _sql_texts(operation: Any) -> list[str]:
    sql = operation.sql
    if isinstance(sql, str):
        return [sql]
    return [item[0] if isinstance(item, list | tuple) else item for item in sql]
