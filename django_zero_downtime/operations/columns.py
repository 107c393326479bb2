"""Column operations: add with a database default, deprecate, drop after the cycles."""

from __future__ import annotations

from typing import Any

from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import OperationCategory
from django.db.migrations.state import ProjectState
from django.db.models import NOT_PROVIDED, Field, Model

from django_zero_downtime import ledger as cycles
from django_zero_downtime.exceptions import UnsafeOperationError
from django_zero_downtime.operations import base, ddl
from django_zero_downtime.operations.base import PUBLIC_MODULE, REQUIRED
from django_zero_downtime.sql.identifiers import quote_ident
from django_zero_downtime.traits import Effect

NULLABLE_PATH = (
    "Add the column as nullable instead (AddField with null=True), fill it with "
    "BatchedBackfill in an `atomic = False` migration, and add NOT NULL in a later release."
)


def default_problem(field: Field) -> str | None:
    """Why ``field`` cannot get a metadata-only database default, or None when it can."""
    if field.many_to_many or field.remote_field is not None:
        return "relation fields are not supported; use AddField with null=True."
    if field.primary_key or field.unique or getattr(field, "db_index", False):
        return (
            "an index or unique constraint would be built under an ACCESS EXCLUSIVE lock; "
            "add the column without it, then AddIndexConcurrently."
        )
    if field.has_db_default():
        return None
    if field.default is NOT_PROVIDED:
        return f"the field has no default. {NULLABLE_PATH}"
    if callable(field.default):
        return (
            f"its default {field.default!r} is a callable, evaluated per row by Python and "
            f"not expressible as a database default. {NULLABLE_PATH}"
        )
    return None


def with_database_default(field: Field, name: str) -> Field:
    """A copy of ``field`` whose ``db_default`` is its constant ``default`` (if not set)."""
    _, _path, args, kwargs = field.deconstruct()
    if not field.has_db_default():
        kwargs["db_default"] = field.default
    clone = field.__class__(*args, **kwargs)
    clone.set_attributes_from_name(name)
    return clone


def column_definition(
    schema_editor: BaseDatabaseSchemaEditor, model: type[Model], field: Field
) -> tuple[str, list[Any]]:
    """Type, ``DEFAULT ..``, ``[NOT] NULL`` and check of ``field``, as Django writes them."""
    field.model = model
    definition, params = schema_editor.column_sql(model, field, include_default=True)
    if definition is None:
        raise UnsafeOperationError(f"field {field.name!r} has no column")
    check = field.db_parameters(connection=schema_editor.connection)["check"]
    if check:
        definition += f" CHECK ({check})"
    return definition, list(params or [])


def rewrites_table(schema_editor: BaseDatabaseSchemaEditor, definition: str, params: Any) -> bool:
    """Ask PostgreSQL: would this column definition rewrite a table (a volatile default)?

    Adds the column to an empty temporary table in a rolled-back savepoint and compares
    ``relfilenode``; PostgreSQL rewrites exactly when the default is volatile.
    """
    from django.db import transaction

    probe = "zdt_default_probe"
    node = f"SELECT relfilenode FROM pg_class WHERE oid = '{probe}'::regclass"
    with transaction.atomic(using=schema_editor.connection.alias):
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE {probe} (zdt_probe integer)")
            cursor.execute(node)
            before = cursor.fetchone()[0]
            sql = f"ALTER TABLE {probe} ADD COLUMN zdt_new {definition}"
            cursor.execute(schema_editor.connection.ops.compose_sql(sql, params))  # type: ignore[attr-defined]
            cursor.execute(node)
            after = cursor.fetchone()[0]
        transaction.set_rollback(True, using=schema_editor.connection.alias)
    return bool(before != after)


class AddColumnWithDefault(base.FieldOperation):
    """Add a column with a database default, in one metadata-only statement.

    The previous release does not know the column, so its INSERTs leave it out; the database
    default fills it, also when the field is NOT NULL. The model state keeps the field as
    written (with its Python ``default``), so ``makemigrations`` sees no difference.
    """

    __module__ = PUBLIC_MODULE
    safe_category = "expand"
    category = OperationCategory.ADDITION
    arguments = (("model_name", REQUIRED), ("name", REQUIRED), ("field", REQUIRED))

    def zdt_compat_effect(self) -> Effect:
        return Effect(filled=((self.model_name, self.name),))

    def __init__(self, model_name: str, name: str, field: Field) -> None:
        self.model_name = model_name
        self.name = name
        self.field = field

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.add_field(app_label, self.model_name.lower(), self.name, self.field, True)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allowed(schema_editor, model):
            return
        problem = default_problem(self.field)
        if problem:
            raise UnsafeOperationError(
                base.located(app_label, f"{self.describe()} refused, {problem}")
            )
        field = with_database_default(self.field, self.name)
        definition, params = column_definition(schema_editor, model, field)
        if not base.collecting(schema_editor) and rewrites_table(schema_editor, definition, params):
            volatile = "its database default is volatile and PostgreSQL would rewrite the table."
            raise UnsafeOperationError(
                base.located(app_label, f"{self.describe()} refused, {volatile} {NULLABLE_PATH}")
            )
        table, column = quote_ident(model._meta.db_table), quote_ident(base.column_of(field))
        sql = f"ALTER TABLE {table} ADD COLUMN {column} {definition}"
        base.execute(schema_editor, sql, params)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allowed(schema_editor, model):
            column = model._meta.get_field(self.name).column
            drop = (
                f"ALTER TABLE {quote_ident(model._meta.db_table)} DROP COLUMN {quote_ident(column)}"
            )
            base.execute(schema_editor, drop)

    def describe(self) -> str:
        return f"Add field {self.name} to {self.model_name} with a database default"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name.lower()}_{self.name.lower()}"


class DeprecateColumn(base.FieldOperation):
    """Take a column out of the model state and make it harmless for code that ignores it.

    The column stays: the previous release still reads and writes it. NOT NULL is dropped
    (unless a database default fills it) and a foreign key constraint is dropped (code that
    deletes the parent no longer knows this child). The ledger records the deploy cycle.
    """

    __module__ = PUBLIC_MODULE
    safe_category = "deprecate"
    category = OperationCategory.REMOVAL
    arguments = (("model_name", REQUIRED), ("name", REQUIRED))

    def zdt_compat_effect(self) -> Effect:
        return Effect(kept=((self.model_name, self.name),))

    def __init__(self, model_name: str, name: str) -> None:
        self.model_name = model_name
        self.name = name

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.remove_field(app_label, self.model_name.lower(), self.name)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allowed(schema_editor, model):
            return
        field = model._meta.get_field(self.name)
        if field.many_to_many or field.primary_key:
            plain = "only a plain column can be deprecated (not a primary key or M2M field)"
            raise UnsafeOperationError(base.located(app_label, f"{self.describe()}: {plain}"))
        table = model._meta.db_table
        base.record(schema_editor, "column", table, base.column_of(field), app_label)
        if field.remote_field is not None and getattr(field, "db_constraint", False):
            ddl.drop_foreign_keys(schema_editor, model, field)
        if not field.null and not field.has_db_default():
            column = quote_ident(base.column_of(field))
            alter = f"ALTER TABLE {quote_ident(table)} ALTER COLUMN {column} DROP NOT NULL"
            base.execute(schema_editor, alter)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allowed(schema_editor, model):
            return
        field = model._meta.get_field(self.name)
        table = model._meta.db_table
        base.forget_deprecation(schema_editor, "column", table, field.column)
        if not base.column_exists(schema_editor, table, field.column):
            schema_editor.add_field(model, base.nullable_clone(field))
        elif field.remote_field is not None and field.db_constraint:
            suffix = "_fk_%(to_table)s_%(to_column)s"
            schema_editor.execute(schema_editor._create_fk_sql(model, field, suffix))
        if not field.null and not field.has_db_default():
            ddl.restore_not_null(schema_editor, table, field)

    def describe(self) -> str:
        return f"Deprecate field {self.name} on {self.model_name} (the column stays)"

    @property
    def migration_name_fragment(self) -> str:
        return f"deprecate_{self.model_name.lower()}_{self.name.lower()}"


class DropDeprecatedColumn(base.ModelOperation):
    """Drop a column deprecated ``ZDT_DEPRECATION_CYCLES`` deploy cycles ago, else refuse.

    ``column`` is needed only when the column name is neither ``name`` nor ``name_id``.
    """

    __module__ = PUBLIC_MODULE
    safe_category = "contract"
    deploy_cycle_gated = True
    category = OperationCategory.REMOVAL
    arguments = (("model_name", REQUIRED), ("name", REQUIRED), ("column", None))

    def zdt_compat_effect(self) -> Effect:
        return Effect(dropped=((self.model_name, self.name),))

    def __init__(self, model_name: str, name: str, column: str | None = None) -> None:
        self.model_name = model_name
        self.name = name
        self.column = column

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Nothing: DeprecateColumn already removed the field from the state."""

    def _column(self, schema_editor: Any, table: str) -> str:
        """The column the ledger holds: ``name`` or, for a ForeignKey, ``name_id``.

        Looked up also while only collecting SQL (``safemigrate --plan`` judges the gate
        there), whenever the ledger can be read.
        """
        if self.column:
            return self.column
        if base.collecting(schema_editor) and not base.ledger_readable(schema_editor):
            return self.name
        using = schema_editor.connection.alias
        for candidate in (self.name, f"{self.name}_id"):
            if cycles.find_deprecation(using, "column", table, candidate):
                return candidate
        return self.name

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allowed(schema_editor, model):
            return
        table = model._meta.db_table
        base.require_ledger(schema_editor, self.describe())
        column = self._column(schema_editor, table)
        base.gate(schema_editor, "column", table, column, self.describe())
        drop = f"ALTER TABLE {quote_ident(table)} DROP COLUMN IF EXISTS {quote_ident(column)}"
        base.execute(schema_editor, drop)
        base.mark_dropped(schema_editor, "column", table, column, dropped=True)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        """Only the ledger: unapplying the DeprecateColumn before it re-creates the column."""
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allowed(schema_editor, model):
            table = model._meta.db_table
            base.mark_dropped(
                schema_editor, "column", table, self._column(schema_editor, table), dropped=False
            )

    def describe(self) -> str:
        return f"Drop deprecated field {self.name} from {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"drop_deprecated_{self.model_name.lower()}_{self.name.lower()}"
