"""Moving a :class:`~django_zero_downtime.sql.state.Schema` past a classified statement."""

from __future__ import annotations

from django_zero_downtime.sql.classify import Action, Impact
from django_zero_downtime.sql.state import Schema


def observe(schema: Schema, impact: Impact) -> None:
    table = impact.table
    if impact.creates_table and table:
        schema.new_tables.add(table)
    if impact.kind == "DROP TABLE":
        for action in impact.actions:
            schema.new_tables.discard(action.name or "")
    if table is None:
        return
    for action in impact.actions:
        _observe_action(schema, table, action)


def _observe_action(schema: Schema, table: str, action: Action) -> None:
    column = action.column or ""
    handler = _ACTIONS.get(action.kind)
    if handler is not None:
        handler(schema, table, column, action)


def _add_column(schema: Schema, table: str, column: str, action: Action) -> None:
    filled = action.rewrites or (action.default is not None and action.default.upper() != "NULL")
    if not filled:
        schema.new_columns.add((table, column))
    schema.set_column(
        table, column, type=action.new_type, null=not action.not_null, has_default=filled
    )


def _drop_default(schema: Schema, table: str, column: str, action: Action) -> None:
    known = schema.column(table, column)
    schema.set_column(table, column, has_default=False)
    if table in schema.new_tables or known.null is True:
        return
    schema.pending_defaults[(table, column)] = schema.origin


def _set_default(schema: Schema, table: str, column: str, action: Action) -> None:
    schema.set_column(table, column, has_default=True)
    schema.pending_defaults.pop((table, column), None)


def _set_not_null(schema: Schema, table: str, column: str, action: Action) -> None:
    schema.set_column(table, column, null=False)


def _drop_not_null(schema: Schema, table: str, column: str, action: Action) -> None:
    schema.set_column(table, column, null=True)
    schema.pending_defaults.pop((table, column), None)


def _type(schema: Schema, table: str, column: str, action: Action) -> None:
    schema.set_column(table, column, type=action.new_type)


def _drop_column(schema: Schema, table: str, column: str, action: Action) -> None:
    schema.known.pop((table, column), None)
    schema.pending_defaults.pop((table, column), None)
    schema.new_columns.discard((table, column))


def _add_constraint(schema: Schema, table: str, column: str, action: Action) -> None:
    name = action.name or ""
    if action.constraint in ("CHECK", "NOT NULL") and column and name:
        schema.add_proof(name, table, column, validated=not action.not_valid)
    elif action.not_valid and name:
        schema.not_valid.add(name)
    if action.not_valid and name:
        schema.not_valid_in_transaction.add(name)


def _validate(schema: Schema, table: str, column: str, action: Action) -> None:
    name = action.name or ""
    schema.not_valid.discard(name)
    if name in schema.proofs:
        schema.validated.add(name)


def _drop_constraint(schema: Schema, table: str, column: str, action: Action) -> None:
    schema.proofs.pop(action.name or "", None)


def _rename_table(schema: Schema, table: str, column: str, action: Action) -> None:
    if table in schema.new_tables and action.name:
        schema.new_tables.add(action.name)


_ACTIONS = {
    "ADD COLUMN": _add_column,
    "DROP DEFAULT": _drop_default,
    "DROP IDENTITY": _drop_default,
    "SET DEFAULT": _set_default,
    "ADD IDENTITY": _set_default,
    "SET NOT NULL": _set_not_null,
    "DROP NOT NULL": _drop_not_null,
    "ALTER COLUMN TYPE": _type,
    "DROP COLUMN": _drop_column,
    "ADD CONSTRAINT": _add_constraint,
    "VALIDATE CONSTRAINT": _validate,
    "DROP CONSTRAINT": _drop_constraint,
    "RENAME TABLE": _rename_table,
}
