"""DDL steps that avoid long locks, each safe to run again after a crash or a lock timeout.

They run in ``atomic = False`` migrations, one statement at a time through the schema
editor: ``safemigrate`` runs each in its own short transaction with ``SET LOCAL
lock_timeout`` and retries it alone; plain ``migrate`` autocommits each. (Opening our own
transaction here would hide the statements from the runner's timeouts.)
"""

from __future__ import annotations

from typing import Any

from django.db.models import Field, Model

from django_zero_downtime.operations import base
from django_zero_downtime.sql.identifiers import quote_ident, zdt_name


def _one(schema_editor: Any, sql: str, params: Any = None) -> Any:
    """One row of a catalogue query; None when only collecting SQL (sqlmigrate)."""
    if base.collecting(schema_editor):
        return None
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def step(schema_editor: Any, sql: str, params: Any = None) -> None:
    """Run one DDL statement on its own (see the module docstring)."""
    base.execute(schema_editor, sql, params)


def set_not_null(schema_editor: Any, table: str, column: str) -> None:
    """SET NOT NULL without a full scan under ACCESS EXCLUSIVE (PostgreSQL 12+).

    A validated ``CHECK (col IS NOT NULL)`` lets SET NOT NULL skip its scan; the CHECK is
    added NOT VALID (brief lock) and validated under SHARE UPDATE EXCLUSIVE, which blocks
    neither reads nor writes.
    """
    qt, qc = quote_ident(table), quote_ident(column)
    check = quote_ident(zdt_name("nn", table, column))
    for sql in (
        f"ALTER TABLE {qt} DROP CONSTRAINT IF EXISTS {check}",
        f"ALTER TABLE {qt} ADD CONSTRAINT {check} CHECK ({qc} IS NOT NULL) NOT VALID",
        f"ALTER TABLE {qt} VALIDATE CONSTRAINT {check}",
        f"ALTER TABLE {qt} ALTER COLUMN {qc} SET NOT NULL",
        f"ALTER TABLE {qt} DROP CONSTRAINT {check}",
    ):
        step(schema_editor, sql)


def index_name(table: str, column: str, unique: bool) -> str:
    return zdt_name("ux" if unique else "ix", table, column)


def ensure_index(schema_editor: Any, table: str, column: str, unique: bool) -> None:
    """CREATE [UNIQUE] INDEX CONCURRENTLY, replacing an INVALID leftover of a failed try.

    A unique index is then attached as a constraint (``USING INDEX``, a brief lock), as
    Django would have made it, so later AlterField operations find it.
    """
    name = index_name(table, column, unique)
    found = _one(
        schema_editor,
        "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)",
        [quote_ident(name)],
    )
    if found and found[0]:
        return
    if found:
        base.execute(schema_editor, f"DROP INDEX CONCURRENTLY IF EXISTS {quote_ident(name)}")
    kind = "UNIQUE INDEX" if unique else "INDEX"
    qt, qn = quote_ident(table), quote_ident(name)
    base.execute(schema_editor, f"CREATE {kind} CONCURRENTLY {qn} ON {qt} ({quote_ident(column)})")
    if unique:
        step(schema_editor, f"ALTER TABLE {qt} ADD CONSTRAINT {qn} UNIQUE USING INDEX {qn}")


def add_foreign_key(schema_editor: Any, model: type[Model], field: Field) -> None:
    """Django's foreign key for ``field``, added NOT VALID, then validated (no long lock)."""
    statement = schema_editor._create_fk_sql(model, field, "_fk_%(to_table)s_%(to_column)s")
    name = str(statement.parts["name"])
    qt = quote_ident(model._meta.db_table)
    step(schema_editor, f"ALTER TABLE {qt} DROP CONSTRAINT IF EXISTS {name}")
    step(schema_editor, f"{statement} NOT VALID")
    step(schema_editor, f"ALTER TABLE {qt} VALIDATE CONSTRAINT {name}")


def set_db_default(schema_editor: Any, model: type[Model], field: Field) -> None:
    """``ALTER COLUMN .. SET DEFAULT`` from the field's ``db_default`` (metadata only)."""
    sql, params = schema_editor.db_default_sql(field)
    qt, qc = quote_ident(model._meta.db_table), quote_ident(base.column_of(field))
    step(schema_editor, f"ALTER TABLE {qt} ALTER COLUMN {qc} SET DEFAULT {sql}", params)


def drop_foreign_keys(schema_editor: Any, model: type[Model], field: Field) -> None:
    """Drop the foreign key constraints on ``field``'s column (found by introspection)."""
    column = base.column_of(field)
    qt = quote_ident(model._meta.db_table)
    for name in schema_editor._constraint_names(model, [column], foreign_key=True):
        base.execute(schema_editor, f"ALTER TABLE {qt} DROP CONSTRAINT {quote_ident(name)}")


def restore_not_null(schema_editor: Any, table: str, field: Field) -> None:
    """Best effort, for unapplying in development: fill NULLs with the default, then
    SET NOT NULL unless NULLs remain (the column then stays nullable)."""
    qt, qc = quote_ident(table), quote_ident(base.column_of(field))
    default = schema_editor.effective_default(field)
    if default is not None:
        base.execute(schema_editor, f"UPDATE {qt} SET {qc} = %s WHERE {qc} IS NULL", [default])
    nulls = _one(schema_editor, f"SELECT EXISTS (SELECT FROM {qt} WHERE {qc} IS NULL)")
    if nulls and nulls[0]:
        return
    base.execute(schema_editor, f"ALTER TABLE {qt} ALTER COLUMN {qc} SET NOT NULL")
