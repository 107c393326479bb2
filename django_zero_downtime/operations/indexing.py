"""Indexes and constraints built without blocking writes: the steps the operations share.

Each helper emits one statement at a time through the schema editor (see ``ddl``), and is
safe to run again after a failure half way: an INVALID index left by a failed concurrent
build is dropped and built again, a valid index of the same shape is adopted, a constraint
that already exists is not added twice.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Field, Model

from django_zero_downtime import events
from django_zero_downtime.operations import base, ddl, partitions, reentry
from django_zero_downtime.sql.identifiers import quote_ident


@dataclass(frozen=True)
class IndexShape:
    """What must match for an existing index to be adopted instead of built."""

    unique: bool
    columns: tuple[str, ...] | None
    """Column names in order; None for an expression index (then only the name counts)."""
    partial: bool


def concurrently(statement: Any) -> str:
    """Django's ``CREATE [UNIQUE] INDEX`` statement, built CONCURRENTLY."""
    sql = str(statement)
    if " CONCURRENTLY " in sql:
        return sql
    return re.sub(r"^CREATE (UNIQUE )?INDEX ", r"CREATE \1INDEX CONCURRENTLY ", sql, count=1)


def unquoted(name: Any) -> str:
    text = str(name)
    return text[1:-1].replace('""', '"') if text.startswith('"') else text


def existing_index(connection: Any, name: str) -> IndexShape | None:
    """The shape of the index called ``name``, or None when there is none."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisunique, i.indpred IS NOT NULL, i.indexprs IS NOT NULL, "
            "ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(n, o) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o) "
            "FROM pg_index i WHERE i.indexrelid = to_regclass(%s)",
            [quote_ident(name)],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    unique, partial, expressions, columns = row
    return IndexShape(unique, None if expressions else tuple(columns), partial)


def build_index(schema_editor: Any, name: str, create_sql: str, shape: IndexShape) -> None:
    """CREATE INDEX CONCURRENTLY ``name``, re-entrant: a valid index of the same definition
    is adopted, an INVALID leftover dropped first, another index of that name refused
    (:mod:`.reentry`). ``shape`` is compared when the definition cannot be probed."""
    if base.collecting(schema_editor):
        base.execute(schema_editor, create_sql)
        return
    found = partitions.partitions(schema_editor, create_sql)
    if found is not None:
        one = lambda editor, child, sql: build_index(editor, child, sql, shape)  # noqa: E731
        partitions.build(schema_editor, create_sql, found, one)
        return
    decision = reentry.index_reentry(schema_editor.connection, create_sql, _shape_matches(shape))
    if decision.note:
        events.tell(sys.stdout, f"    {decision.note}")
    for statement in decision.before:
        base.execute(schema_editor, statement)
    if decision.run:
        base.execute(schema_editor, create_sql)


def _shape_matches(wanted: IndexShape) -> Callable[[Any, str], bool]:
    def matches(connection: Any, name: str) -> bool:
        found = existing_index(connection, name)
        if found is None:
            return False
        if wanted.columns is None or found.columns is None:
            return found.unique == wanted.unique and found.partial == wanted.partial
        return found == wanted

    return matches


def constraint_exists(schema_editor: Any, table: str, name: str) -> bool:
    if base.collecting(schema_editor):
        return False
    row = ddl._one(
        schema_editor,
        "SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(%s) AND conname = %s",
        [quote_ident(table), name],
    )
    return row is not None


def attach_unique(
    schema_editor: Any, table: str, name: str, deferrable: str = "", primary: bool = False
) -> None:
    """Turn the unique index ``name`` into a constraint (brief ACCESS EXCLUSIVE, no scan)."""
    if constraint_exists(schema_editor, table, name):
        return
    kind = "PRIMARY KEY" if primary else "UNIQUE"
    qt, qn = quote_ident(table), quote_ident(name)
    ddl.step(
        schema_editor, f"ALTER TABLE {qt} ADD CONSTRAINT {qn} {kind} USING INDEX {qn}{deferrable}"
    )


def add_not_valid_then_validate(schema_editor: Any, table: str, name: str, add_sql: str) -> None:
    """``add_sql`` (an ADD CONSTRAINT) NOT VALID, then VALIDATE in its own transaction."""
    if not constraint_exists(schema_editor, table, name):
        ddl.step(schema_editor, f"{add_sql} NOT VALID")
    ddl.step(
        schema_editor, f"ALTER TABLE {quote_ident(table)} VALIDATE CONSTRAINT {quote_ident(name)}"
    )


def field_indexes(schema_editor: Any, model: type[Model], field: Field) -> list[tuple[str, str]]:
    """(name, CONCURRENTLY sql) of the plain index Django gives ``db_index`` and of its
    ``_like`` twin for varchar/text columns (design.md §6)."""
    statements = [schema_editor._create_index_sql(model, fields=[field])]
    statements.append(like_index(schema_editor, model, field))
    return [(unquoted(s.parts["name"]), concurrently(s)) for s in statements if s is not None]


def like_index(schema_editor: Any, model: type[Model], field: Field) -> Any:
    return schema_editor._create_like_index_sql(model, field)


def build_field_indexes(
    schema_editor: Any, model: type[Model], field: Field, unique: bool = False
) -> None:
    """The indexes ``db_index`` (or, with ``unique``, only the ``_like`` one) needs."""
    column = base.column_of(field)
    for name, sql in field_indexes(schema_editor, model, field):
        if unique and not name.endswith("_like"):
            continue
        build_index(schema_editor, name, sql, IndexShape(False, (column,), False))


def build_field_unique(schema_editor: Any, model: type[Model], field: Field) -> None:
    """``unique=True`` on an existing column: unique index concurrently, then the constraint
    under Django's name (so Django finds it later), then the ``_like`` index."""
    table, column = model._meta.db_table, base.column_of(field)
    name = unquoted(schema_editor._create_index_name(table, [column], suffix="_uniq"))
    sql = f"CREATE UNIQUE INDEX CONCURRENTLY {quote_ident(name)} ON {quote_ident(table)} "
    build_index(
        schema_editor, name, sql + f"({quote_ident(column)})", IndexShape(True, (column,), False)
    )
    attach_unique(schema_editor, table, name)
    build_field_indexes(schema_editor, model, field, unique=True)
