"""Concurrent index builds on a declaratively partitioned table.

PostgreSQL cannot ``CREATE INDEX CONCURRENTLY`` on a partitioned table. The documented
way, which blocks no writer for longer than a catalogue change:

1. ``CREATE INDEX IF NOT EXISTS name ON ONLY parent (...)``: the parent's index, invalid,
   no partition scanned (brief SHARE lock on the empty parent);
2. per partition, ``CREATE INDEX CONCURRENTLY`` of the same definition (re-entrant, as any
   build: :func:`indexing.build_index`), then ``ALTER INDEX name ATTACH PARTITION``;
3. the parent's index turns valid by itself when every partition has one attached.

One level of partitions; a sub-partitioned table is refused with what to do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django_zero_downtime.exceptions import UnsafeOperationError
from django_zero_downtime.operations import base
from django_zero_downtime.sql.identifiers import quote_ident, split_qualified, zdt_name

IDENT = r'(?:"(?:[^"]|"")+"|[^\s(."]+)'
CREATE = re.compile(
    rf"^CREATE (?P<unique>UNIQUE )?INDEX CONCURRENTLY (?:IF NOT EXISTS )?(?P<name>{IDENT}) "
    rf"ON (?P<table>{IDENT}(?:\.{IDENT})?)(?P<rest>.*)$",
    re.DOTALL,
)
PARTITIONS_SQL = """
SELECT format('%%I.%%I', n.nspname, c.relname), c.relkind::text, n.nspname::text
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE i.inhparent = to_regclass(%s) AND c.relkind IN ('r', 'p') ORDER BY 1
"""
ATTACHED_SQL = """
SELECT 1 FROM pg_inherits WHERE inhparent = to_regclass(%s) AND inhrelid = to_regclass(%s)
"""


def partitions(schema_editor: Any, create_sql: str) -> list[tuple[str, str, str]] | None:
    """The partitions (qualified name, relkind, schema) of the table ``create_sql`` indexes,
    when it is a partitioned table; None otherwise (or when the statement is not parsed)."""
    match = CREATE.match(create_sql.strip())
    if match is None or base.collecting(schema_editor):
        return None
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT relkind::text FROM pg_class WHERE oid = to_regclass(%s)", [match["table"]]
        )
        row = cursor.fetchone()
        if row is None or row[0] != "p":
            return None
        cursor.execute(PARTITIONS_SQL, [match["table"]])
        return [(str(a), str(b), str(c)) for a, b, c in cursor.fetchall()]


Build = Callable[[Any, str, str], None]


def build(
    schema_editor: Any, create_sql: str, found: list[tuple[str, str, str]], one: Build
) -> None:
    """The parent's index ON ONLY, then each partition's, built by ``one(schema_editor,
    name, sql)`` and attached."""
    match = CREATE.match(create_sql.strip())
    assert match is not None
    parent, name, rest = match["table"], match["name"], match["rest"]
    unique = match["unique"] or ""
    refuse_sub_partitions(name, parent, found)
    base.execute(schema_editor, f"CREATE {unique}INDEX IF NOT EXISTS {name} ON ONLY {parent}{rest}")
    schema = split_qualified(parent)[0]
    index = name if schema is None else f"{quote_ident(schema)}.{name}"
    for qualified, _, namespace in found:
        child = zdt_name("pi", name, qualified)
        one(schema_editor, child, f"CREATE {unique}INDEX CONCURRENTLY {child} ON {qualified}{rest}")
        _attach(schema_editor, index, f"{quote_ident(namespace)}.{child}")


def refuse_sub_partitions(name: str, parent: str, found: list[tuple[str, str, str]]) -> None:
    sub = [qualified for qualified, kind, _ in found if kind == "p"]
    if sub:
        raise UnsafeOperationError(
            f"Index {name} on {parent}: its partitions {', '.join(sub)} are partitioned "
            "themselves; build it level by level (CREATE INDEX ON ONLY, then CONCURRENTLY "
            "on each leaf and ALTER INDEX ... ATTACH PARTITION) in RunSQL."
        )


def _attach(schema_editor: Any, index: str, child: str) -> None:
    """``ALTER INDEX index ATTACH PARTITION child`` unless a rerun finds it attached."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(ATTACHED_SQL, [index, child])
        if cursor.fetchone() is None:
            base.execute(schema_editor, f"ALTER INDEX {index} ATTACH PARTITION {child}")
