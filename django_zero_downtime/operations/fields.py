"""Field additions and alterations done in short steps on a live table.

- :class:`AlterFieldInSteps`: ``null=True`` -> ``null=False`` (NULLs filled in batches from
  the default first, then ``CHECK (col IS NOT NULL) NOT VALID``, ``VALIDATE``, ``SET NOT
  NULL`` proved by the check, check dropped), ``unique=True`` (unique index concurrently,
  ``USING INDEX``), ``db_index=True`` (index concurrently, with its ``_like`` twin).
- :class:`AddFieldInSteps`: a new column that Django would add with a long lock or a
  rewrite: a ``ForeignKey`` (column, index concurrently, constraint ``NOT VALID`` +
  ``VALIDATE``), a callable default (``dict``, ``uuid.uuid4``, ``timezone.now``) or a
  volatile ``db_default``: nullable column, database default, batched backfill of the
  rows already there, then NOT NULL by the check path.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.db.migrations.operations.base import OperationCategory
from django.db.migrations.state import ProjectState
from django.db.models import Field
from django.utils import timezone

from django_zero_downtime.operations import base, ddl, indexing
from django_zero_downtime.operations import batches as backfill
from django_zero_downtime.operations.base import PUBLIC_MODULE, REQUIRED
from django_zero_downtime.sql.identifiers import quote_ident

Fill = tuple[str, list[Any]]
"""An SQL expression (and its parameters) that gives a row the field's default."""

CALLABLE_FILLS: dict[Any, str] = {
    dict: "'{}'",
    list: "'[]'",
    uuid.uuid4: "gen_random_uuid()",
    timezone.now: "now()",
    datetime.datetime.now: "LOCALTIMESTAMP",
}
"""Callable defaults with a database equivalent (``gen_random_uuid()``: PostgreSQL 13+)."""


def database_fill(schema_editor: Any, field: Field) -> Fill | None:
    """How the database can give a row ``field``'s default, or None when it cannot."""
    if field.has_db_default():
        return schema_editor.db_default_sql(field)
    if not field.has_default():
        return None
    if callable(field.default):
        sql = CALLABLE_FILLS.get(field.default)
        if sql is None:
            return None
        column_type = base.column_type_sql(schema_editor, field)
        return (f"{sql}::{column_type}" if sql.startswith("'") else sql), []
    return "%s", [schema_editor.effective_default(field)]


def fill_problem(field: Field) -> str | None:
    """Why :class:`AddFieldInSteps` cannot fill ``field`` (pure, for makemigrations)."""
    if field.has_db_default() or not field.has_default() or field.null:
        return None
    if callable(field.default) and field.default not in CALLABLE_FILLS:
        return f"its default {field.default!r} has no database equivalent"
    return None


def fill_nulls(schema_editor: Any, model: Any, field: Field, fill: Fill, key: str) -> None:
    """``UPDATE .. SET col = fill WHERE col IS NULL`` in primary-key batches."""
    table, column = model._meta.db_table, base.column_of(field)
    qt, qc = quote_ident(table), quote_ident(column)
    sql, params = fill
    if base.collecting(schema_editor):
        base.note(schema_editor, f"fill NULLs in batches: UPDATE {qt} SET {qc} = {sql} WHERE ...")
        return
    pk = backfill.pk_column(model, f"Filling NULLs of {column}")
    plan = backfill.make_plan(key, table, pk, None, None)

    def update(cursor: Any, after: Any, upto: Any) -> int:
        where, range_params = backfill.range_condition(pk, after, upto)
        cursor.execute(
            f"UPDATE {qt} SET {qc} = {sql} WHERE {where} AND {qc} IS NULL", [*params, *range_params]
        )
        return int(cursor.rowcount)

    backfill.run_backfill(schema_editor.connection, plan, update)


def column_nullable(schema_editor: Any, table: str, column: str) -> bool:
    if base.collecting(schema_editor):
        return True
    row = ddl._one(
        schema_editor,
        "SELECT NOT attnotnull FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s",
        [quote_ident(table), column],
    )
    return bool(row and row[0])


def enforce_not_null(
    schema_editor: Any, app_label: str, model: Any, field: Any, key: str, what: str
) -> None:
    """Fill NULLs from the default in batches (when it has one), then NOT NULL by the check."""
    table, column = model._meta.db_table, base.column_of(field)
    if not column_nullable(schema_editor, table, column):
        return
    if field.has_db_default():
        ddl.set_db_default(schema_editor, model, field)
    fill = database_fill(schema_editor, field)
    if fill is not None:
        backfill.pk_column(model, what)
        base.refuse_in_atomic_block(schema_editor, app_label, what)
        base.require_ledger(schema_editor, what)
        fill_nulls(schema_editor, model, field, fill, key)
    ddl.set_not_null(schema_editor, table, column)


class _FieldInSteps(base.FieldOperation):
    requires_non_atomic_migration = True
    cheap_at_any_size = True
    arguments = (("model_name", REQUIRED), ("name", REQUIRED), ("field", REQUIRED))

    def __init__(self, model_name: str, name: str, field: Field) -> None:
        self.model_name = model_name
        self.name = name
        self.field = field

    @property
    def model_name_lower(self) -> str:
        return self.model_name.lower()

    def backfill_key(self, app_label: str) -> str:
        return f"{self.migration_name_fragment}:{app_label}.{self.model_name_lower}.{self.name}"


class AlterFieldInSteps(_FieldInSteps):
    """An ``AlterField`` that sets NOT NULL, ``unique`` or ``db_index`` on a live table."""

    __module__ = PUBLIC_MODULE
    safe_category = "expand"
    backfills_rows = True

    category = OperationCategory.ALTERATION

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.alter_field(app_label, self.model_name_lower, self.name, self.field, True)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allowed(schema_editor, model):
            return
        old = from_state.apps.get_model(app_label, self.model_name)._meta.get_field(self.name)
        new = model._meta.get_field(self.name)
        if old.null and not new.null:
            key = self.backfill_key(app_label)
            enforce_not_null(schema_editor, app_label, model, new, key, self.describe())
        if new.unique and not old.unique:
            indexing.build_field_unique(schema_editor, model, new)
        elif (
            getattr(new, "db_index", False)
            and not getattr(old, "db_index", False)
            and not new.unique
        ):
            indexing.build_field_indexes(schema_editor, model, new)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allowed(schema_editor, model):
            old = from_state.apps.get_model(app_label, self.model_name)._meta.get_field(self.name)
            schema_editor.alter_field(model, old, model._meta.get_field(self.name))

    def describe(self) -> str:
        return f"Alter field {self.name} on {self.model_name} in short steps"

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.model_name_lower}_{self.name.lower()}"


class AddFieldInSteps(_FieldInSteps):
    """An ``AddField`` of a foreign key, a callable default or a volatile ``db_default``."""

    __module__ = PUBLIC_MODULE
    safe_category = "expand"
    backfills_rows = True

    category = OperationCategory.ADDITION

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.add_field(app_label, self.model_name_lower, self.name, self.field, True)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allowed(schema_editor, model):
            return
        field = model._meta.get_field(self.name)
        table, column = model._meta.db_table, base.column_of(field)
        qt, qc = quote_ident(table), quote_ident(column)
        column_type = base.column_type_sql(schema_editor, field)
        fill = database_fill(schema_editor, field)
        if fill is not None:
            backfill.pk_column(model, self.describe())
        ddl.step(schema_editor, f"ALTER TABLE {qt} ADD COLUMN IF NOT EXISTS {qc} {column_type}")
        if fill is not None:
            ddl.step(
                schema_editor, f"ALTER TABLE {qt} ALTER COLUMN {qc} SET DEFAULT {fill[0]}", fill[1]
            )
            base.refuse_in_atomic_block(schema_editor, app_label, self.describe())
            base.require_ledger(schema_editor, self.describe())
            fill_nulls(schema_editor, model, field, fill, self.backfill_key(app_label))
        self._constrain(schema_editor, model, field)

    @staticmethod
    def _constrain(schema_editor: Any, model: Any, field: Field) -> None:
        """Indexes, foreign key and NOT NULL, each without a long lock."""
        if field.unique:
            indexing.build_field_unique(schema_editor, model, field)
        elif getattr(field, "db_index", False):
            indexing.build_field_indexes(schema_editor, model, field)
        if field.remote_field is not None and getattr(field, "db_constraint", False):
            ddl.add_foreign_key(schema_editor, model, field)
        if not field.null:
            ddl.set_not_null(schema_editor, model._meta.db_table, base.column_of(field))

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allowed(schema_editor, model):
            schema_editor.remove_field(model, model._meta.get_field(self.name))
            if not base.collecting(schema_editor):
                backfill.forget(schema_editor.connection, self.backfill_key(app_label))

    def zdt_compat_effect(self) -> Any:
        """For the blue/green check: the database default fills what old inserts leave out."""
        from django_zero_downtime.traits import Effect

        fills = self.field.has_db_default() or self.field.has_default()
        return Effect(filled=((self.model_name, self.name),) if fills else ())

    def describe(self) -> str:
        return f"Add field {self.name} to {self.model_name} in short steps"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name_lower}_{self.name.lower()}"
