"""Shared plumbing of the public operations: the public module path, ledger access, SQL."""

from __future__ import annotations

from typing import Any

from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation
from django.db.models import Field, Model
from django.db.models.functions import Now

from django_zero_downtime import ledger as cycles
from django_zero_downtime import traits
from django_zero_downtime.models import Deprecation
from django_zero_downtime.operations import batches as backfill
from django_zero_downtime.operations import portable
from django_zero_downtime.sql.identifiers import quote_ident

# The migration writer writes ``cls.__module__`` into migration files: it must be this path.
PUBLIC_MODULE = "django_zero_downtime.operations"


class ZdtOperation(Operation):
    """Base of our operations: kwargs-only deconstruction without default values."""

    # (argument name, default) in constructor order; REQUIRED marks required arguments.
    arguments: tuple[tuple[str, Any], ...] = ()
    # Traits every consumer asks (django_zero_downtime.traits documents each one).
    requires_non_atomic_migration: bool = False
    deploy_cycle_gated: bool = False
    # For the size rule (ZDT401): every statement is catalog-only, CONCURRENTLY, batched, or
    # a scan under SHARE UPDATE EXCLUSIVE / proved by a validated CHECK, whatever the size.
    cheap_at_any_size: bool = False
    safe_category: str | None = None
    backfills_rows: bool = False
    uses_ledger: bool = True

    def zdt_compat_effect(self) -> traits.Effect | None:
        """What this operation does to the previous release's schema beyond its state."""
        return None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every subclass's database methods run its plain Django equivalent on databases
        other than PostgreSQL (:mod:`django_zero_downtime.operations.portable`)."""
        super().__init_subclass__(**kwargs)
        for name, backwards in (("database_forwards", False), ("database_backwards", True)):
            if name in cls.__dict__:
                setattr(cls, name, portable.portable(cls.__dict__[name], backwards))

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs = {
            name: getattr(self, name)
            for name, default in self.arguments
            if getattr(self, name) != default or default is REQUIRED
        }
        return self.__class__.__name__, [], kwargs

    def allowed(self, schema_editor: BaseDatabaseSchemaEditor, model: type[Model]) -> bool:
        return self.allow_migrate_model(schema_editor.connection.alias, model)


class ModelOperation(ZdtOperation):
    """An operation on one model, named by ``model_name``: it references that model only."""

    model_name: str

    def references_model(self, name: str, app_label: str) -> bool:
        return name.lower() == self.model_name.lower()


class FieldOperation(ModelOperation):
    """An operation on one field, ``model_name``.``name``: it references that field only."""

    name: str

    def references_field(self, model_name: str, name: str, app_label: str) -> bool:
        return self.references_model(model_name, app_label) and name.lower() == self.name.lower()


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


def execute(schema_editor: BaseDatabaseSchemaEditor, sql: str, params: Any = None) -> None:
    """Run ``sql`` through the schema editor (so ``collect_sql`` / sqlmigrate see it)."""
    schema_editor.execute(sql, params)


def column_exists(schema_editor: BaseDatabaseSchemaEditor, table: str, column: str) -> bool:
    if collecting(schema_editor):
        return True
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s "
            "AND NOT attisdropped",
            [quote_ident(table), column],
        )
        return cursor.fetchone() is not None


def table_exists(schema_editor: BaseDatabaseSchemaEditor, table: str) -> bool:
    if collecting(schema_editor):
        return True
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [quote_ident(table)])
        return cursor.fetchone()[0] is not None


RUNNING_MIGRATION = cycles.RUNNING_MIGRATION
"""Set by whoever applies the migration (:data:`..ledger.RUNNING_MIGRATION`)."""


def running_migration_name() -> str:
    """``app.name`` of the migration being applied ("" when applied by hand)."""
    return RUNNING_MIGRATION.get()


def located(app_label: str, what: str) -> str:
    """``what`` prefixed with the running migration (or the app), for error messages."""
    return f"{running_migration_name() or app_label}: {what}"


def collecting(schema_editor: BaseDatabaseSchemaEditor) -> bool:
    """True under ``sqlmigrate`` / SQL collection: emit SQL, read and write nothing."""
    return bool(getattr(schema_editor, "collect_sql", False))


def note(schema_editor: BaseDatabaseSchemaEditor, text: str) -> None:
    """A comment in collected SQL for a step that only happens when really applied."""
    schema_editor.collected_sql.append(f"-- django-zero-downtime: {text}")


def require_ledger(schema_editor: BaseDatabaseSchemaEditor, what: str) -> None:
    if not collecting(schema_editor):
        cycles.require_ledger(schema_editor.connection, what)


def ledger_readable(schema_editor: BaseDatabaseSchemaEditor) -> bool:
    """Is there a database with the ledger behind this editor? (Read-only probe.)"""
    try:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s)", [Deprecation._meta.db_table])
            return cursor.fetchone()[0] is not None
    except Exception:  # an offline connection (the linter's) raises its own error class
        return False


def gate(
    schema_editor: BaseDatabaseSchemaEditor, kind: str, table: str, column: str, what: str
) -> None:
    """The deploy-cycle gate of a drop.

    Judged also while only collecting SQL when the ledger can be read, so a plan
    (``safemigrate --plan``) shows the refusal; offline it becomes a comment.
    """
    if collecting(schema_editor) and not ledger_readable(schema_editor):
        target = f"{table}.{column}" if column else table
        note(schema_editor, f"refused unless {kind} {target} was deprecated long enough ago")
        return
    cycles.gate_drop(schema_editor.connection, kind, table, column, what)


def refuse_in_atomic_block(schema_editor: BaseDatabaseSchemaEditor, app: str, what: str) -> None:
    """Batches need their own transactions; collecting SQL only notes the requirement."""
    if collecting(schema_editor):
        note(schema_editor, f"{what} needs a migration with atomic = False")
        return
    backfill.refuse_in_atomic_block(schema_editor.connection, located(app, what))


def record(
    schema_editor: BaseDatabaseSchemaEditor, kind: str, table: str, column: str, app: str
) -> None:
    """Record a deprecation in the ledger on the migration's own connection."""
    target = f"{table}.{column}" if column else table
    if collecting(schema_editor):
        note(schema_editor, f"record deprecation of {kind} {target} in the ledger")
        return
    connection = schema_editor.connection
    cycles.require_ledger(connection, f"Deprecating {kind} {target}")
    cycles.record_deprecation(connection, kind, table, column, app, running_migration_name())


def forget_deprecation(
    schema_editor: BaseDatabaseSchemaEditor, kind: str, table: str, column: str = ""
) -> None:
    """Unapplying a deprecation removes its ledger row (development only)."""
    if collecting(schema_editor):
        return
    using = schema_editor.connection.alias
    Deprecation.objects.using(using).filter(kind=kind, table=table, column=column).delete()


def mark_dropped(
    schema_editor: BaseDatabaseSchemaEditor, kind: str, table: str, column: str, dropped: bool
) -> None:
    if collecting(schema_editor):
        return
    rows = Deprecation.objects.using(schema_editor.connection.alias).filter(
        kind=kind, table=table, column=column
    )
    rows.update(dropped_at=Now() if dropped else None)


def column_type_sql(schema_editor: BaseDatabaseSchemaEditor, field: Field) -> str:
    """The column type (with collation) of ``field``, without constraints or default."""
    params = field.db_parameters(connection=schema_editor.connection)
    sql = str(params["type"])
    if params.get("collation"):
        sql += f" COLLATE {quote_ident(str(params['collation']))}"
    return sql


def column_of(field: Field) -> str:
    """The database column of a concrete field (never None for the fields we handle)."""
    if field.column is None:
        raise TypeError(f"field {field.name!r} has no database column")
    return str(field.column)


def renamed_clone(field: Field, name: str) -> Field:
    """A copy of ``field`` named ``name`` (column and attname follow the name)."""
    clone = field.clone()
    clone.set_attributes_from_name(name)
    clone.model = field.model
    return clone


def nullable_clone(field: Field) -> Field:
    """A copy of ``field`` that allows NULL (re-adding a column to a table with rows)."""
    clone = field.clone()
    clone.null = True
    clone.set_attributes_from_name(str(field.name))
    clone.model = field.model
    return clone
