"""Build the old column's indexes and constraints on the new column, without long locks.

Every step looks first and does only what is missing, so an expand or a contract killed
half way re-runs to completion: an INVALID index left by a killed ``CREATE INDEX
CONCURRENTLY`` is dropped and rebuilt, a ``NOT VALID`` constraint is validated. Statements go
one at a time through the schema editor (``safemigrate`` gives each its own short
transaction with ``lock_timeout`` and retries; see :mod:`.ddl`).

- index: ``CREATE [UNIQUE] INDEX CONCURRENTLY`` (SHARE UPDATE EXCLUSIVE: reads and writes go on);
- unique constraint: its unique index concurrently, then ``ADD CONSTRAINT .. UNIQUE USING
  INDEX`` (brief ACCESS EXCLUSIVE, no scan);
- check / foreign key: ``ADD CONSTRAINT .. NOT VALID`` (brief), then ``VALIDATE CONSTRAINT``
  (SHARE UPDATE EXCLUSIVE scan);
- another table's foreign key to the column (contract only): the same on that table, then
  the old constraint is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django_zero_downtime.exceptions import UnsafeOperationError
from django_zero_downtime.operations import base, ddl
from django_zero_downtime.operations import dependents as deps
from django_zero_downtime.operations.dependents import Dependent
from django_zero_downtime.sql.identifiers import quote_ident, quote_literal
from django_zero_downtime.sql.substitute import (
    canonical,
    index_tail,
    substitute_column,
    substitute_in_foreign_key,
    substitute_in_index,
)


def read(schema_editor: Any, reader: Callable[[Any], Any], empty: Any) -> Any:
    """``reader(cursor)``; ``empty`` when only collecting SQL without a readable catalog."""
    try:
        with schema_editor.connection.cursor() as cursor:
            return reader(cursor)
    except Exception:
        if base.collecting(schema_editor):
            return empty
        raise


def dependents_of(schema_editor: Any, table: str, column: str) -> list[Dependent]:
    return list(read(schema_editor, lambda c: deps.read_dependents(c, table, column), []))


def build(schema_editor: Any, table: str, old: str, new: str, mapping: dict[str, str]) -> None:
    """Give ``new`` a twin of every index and constraint of ``old`` on ``table``."""
    present = read(schema_editor, lambda c: present_objects(c, table), {})
    for dep in dependents_of(schema_editor, table, old):
        if dep.kind == "incoming":
            continue
        if dep.kind in ("primary", "exclusion"):
            raise UnsafeOperationError(
                f"{table}.{old} is part of the {dep.kind} constraint {dep.name}; a dual-write "
                "rename cannot rebuild it without a long lock. Rebuild it by hand first."
            )
        name, final = deps.twin_name(schema_editor, dep, old, new, mapping)
        found = present.get(twin_key(dep, old, new))
        name = found or name  # an equal object is there already (an earlier run's twin)
        if dep.kind in ("index", "unique"):
            ensure_index(schema_editor, dep, old, new, name)
        else:
            definition = twin_constraint(dep, old, new)
            ensure_constraint(schema_editor, dep.table, name, definition, dep.validated)
        if final != name and name.startswith("zdt_tw_"):
            comment(schema_editor, dep, name, f"{deps.RENAME_TO}{final}")


def twin_key(dep: Dependent, old: str, new: str) -> tuple[str, str]:
    """What an object equal to ``dep``'s twin looks like in :func:`present_objects`."""
    if dep.kind in ("index", "unique"):
        unique = dep.kind == "unique" or " UNIQUE INDEX " in dep.definition
        return (
            "unique index" if unique else "index",
            canonical(substitute_in_index(dep.definition, old, new)),
        )
    return ("constraint", canonical(twin_constraint(dep, old, new)))


PRESENT_SQL = """
SELECT CASE WHEN i.indisunique THEN 'unique index' ELSE 'index' END, c.relname::text,
       pg_get_indexdef(i.indexrelid)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = to_regclass(%(table)s) AND i.indisvalid
UNION ALL
SELECT 'constraint', conname::text, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid = to_regclass(%(table)s)
"""


def present_objects(cursor: Any, table: str) -> dict[tuple[str, str], str]:
    """(kind, canonical definition) -> name of every valid index and constraint on ``table``."""
    cursor.execute(PRESENT_SQL, {"table": quote_ident(table)})
    out = {}
    for kind, name, definition in cursor.fetchall():
        text = index_tail(definition) if kind != "constraint" else definition
        out[(kind, canonical(text.removesuffix(" NOT VALID")))] = name
    return out


def twin_constraint(dep: Dependent, old: str, new: str) -> str:
    definition = dep.definition.removesuffix(" NOT VALID")
    if dep.kind == "check":
        return substitute_column(definition, old, new)
    return substitute_in_foreign_key(definition, old, new, referenced=dep.kind == "incoming")


def ensure_index(schema_editor: Any, dep: Dependent, old: str, new: str, name: str) -> None:
    qt, qn = quote_ident(dep.table), quote_ident(name)
    valid = _one(
        schema_editor,
        "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)",
        [qn],
    )
    if valid is False:
        ddl.step(schema_editor, f"DROP INDEX CONCURRENTLY IF EXISTS {qn}")
    if valid is not True:
        unique = "UNIQUE " if dep.kind == "unique" or " UNIQUE INDEX " in dep.definition else ""
        tail = substitute_in_index(dep.definition, old, new)
        ddl.step(
            schema_editor, f"CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS {qn} ON {qt} {tail}"
        )
    if dep.kind == "unique" and not constraint_state(schema_editor, dep.table, name):
        deferrable, deferred = dep.deferrable
        when = " DEFERRABLE" if deferrable else ""
        when += " INITIALLY DEFERRED" if deferred else ""
        ddl.step(
            schema_editor, f"ALTER TABLE {qt} ADD CONSTRAINT {qn} UNIQUE USING INDEX {qn}{when}"
        )


def ensure_constraint(
    schema_editor: Any, table: str, name: str, definition: str, validate: bool
) -> None:
    """``ADD CONSTRAINT .. NOT VALID`` unless it exists, then validate it if asked."""
    qt, qn = quote_ident(table), quote_ident(name)
    state = constraint_state(schema_editor, table, name)
    if state is None:
        ddl.step(schema_editor, f"ALTER TABLE {qt} ADD CONSTRAINT {qn} {definition} NOT VALID")
    if validate and state != "valid":
        ddl.step(schema_editor, f"ALTER TABLE {qt} VALIDATE CONSTRAINT {qn}")


def constraint_state(schema_editor: Any, table: str, name: str) -> str | None:
    """``valid`` / ``not valid`` for an existing constraint, None when there is none."""
    valid = _one(
        schema_editor,
        "SELECT convalidated FROM pg_constraint WHERE conrelid = to_regclass(%s) AND conname = %s",
        [quote_ident(table), name],
    )
    return None if valid is None else ("valid" if valid else "not valid")


def _one(schema_editor: Any, sql: str, params: Any) -> Any:
    row = ddl._one(schema_editor, sql, params)
    return None if row is None else row[0]


def comment(schema_editor: Any, dep: Dependent, name: str, text: str | None) -> None:
    what = "INDEX" if dep.kind == "index" else "CONSTRAINT"
    on = "" if what == "INDEX" else f" ON {quote_ident(dep.table)}"
    value = "NULL" if text is None else quote_literal(text)
    ddl.step(schema_editor, f"COMMENT ON {what} {quote_ident(name)}{on} IS {value}")


def move_incoming(schema_editor: Any, table: str, old: str, new: str) -> None:
    """Point other tables' foreign keys at ``new`` (NOT VALID, VALIDATE), then drop the
    ones at ``old``: before the old column goes, so the column can be dropped at all."""
    for dep in dependents_of(schema_editor, table, old):
        if dep.kind != "incoming":
            continue
        name, final = deps.twin_name(schema_editor, dep, old, new, {})
        ensure_constraint(
            schema_editor, dep.table, name, twin_constraint(dep, old, new), dep.validated
        )
        qt = quote_ident(dep.table)
        ddl.step(
            schema_editor, f"ALTER TABLE {qt} DROP CONSTRAINT IF EXISTS {quote_ident(dep.name)}"
        )
        if final != name:
            rename = (
                f"ALTER TABLE {qt} RENAME CONSTRAINT {quote_ident(name)} TO {quote_ident(final)}"
            )
            ddl.step(schema_editor, rename)


def finish_names(schema_editor: Any, table: str) -> None:
    """Give twins built under a ``zdt_tw_`` name their final name (the old object is gone)."""
    qt = quote_ident(table)
    for kind, name, final in read(schema_editor, lambda c: deps.renames_due(c, table), []):
        if name == final:  # renamed by an earlier, interrupted run
            pass
        elif kind == "index":
            ddl.step(
                schema_editor, f"ALTER INDEX {quote_ident(name)} RENAME TO {quote_ident(final)}"
            )
        else:
            rename = (
                f"ALTER TABLE {qt} RENAME CONSTRAINT {quote_ident(name)} TO {quote_ident(final)}"
            )
            ddl.step(schema_editor, rename)
        if kind == "index":
            ddl.step(schema_editor, f"COMMENT ON INDEX {quote_ident(final)} IS NULL")
        else:
            ddl.step(schema_editor, f"COMMENT ON CONSTRAINT {quote_ident(final)} ON {qt} IS NULL")
