"""What an earlier, killed run may have left in the catalogue, compared with what a
statement is about to create: indexes, constraints and triggers.

A kill between a committed statement and the migration's record leaves the object in place;
the rerun must adopt it when it is the same object, rebuild it when it is an INVALID index,
validate it when it is a NOT VALID constraint, and refuse it (naming both definitions) when
an object of that name is something else. "The same" is decided structurally: the wanted
object is built on an empty temporary copy of the table (``CREATE TEMP TABLE .. (LIKE t)``,
rolled back, no lock beyond ACCESS SHARE) and PostgreSQL's own description of both is
compared (access method, unique, key columns and expressions, operator classes,
collations, ordering, INCLUDE columns, predicate; a constraint's ``pg_get_constraintdef``).
Foreign keys cannot point from a temporary table, so theirs is compared as normalised text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, transaction

from django_zero_downtime.sql.identifiers import quote_ident

IDENT = r'(?:"(?:[^"]|"")+"|[^\s"().,;]+)'
QUALIFIED = rf"{IDENT}(?:\s*\.\s*{IDENT})?"
CREATE_INDEX = re.compile(
    rf"^\s*CREATE\s+(?P<unique>UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?"
    rf"(?P<name>{IDENT})\s+ON\s+(?:ONLY\s+)?(?P<table>{QUALIFIED})\s*(?P<rest>.*?)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
ADD_CONSTRAINT = re.compile(
    rf"\bADD\s+CONSTRAINT\s+(?P<name>{IDENT})\s+(?P<body>.*?)(?P<nv>\s+NOT\s+VALID)?\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
CREATE_TRIGGER = re.compile(
    rf"^\s*CREATE\s+TRIGGER\s+(?P<name>{IDENT})\s+(?P<when>.*?)\s+ON\s+(?P<table>{QUALIFIED})"
    rf"\s+(?P<rest>.*?)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
ADD_COLUMN = re.compile(
    rf"^\s*ALTER\s+TABLE\s+(?:ONLY\s+)?(?P<table>{QUALIFIED})\s+ADD\s+(?:COLUMN\s+)?"
    rf"(?P<column>{IDENT})\s+(?P<rest>.*?)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
CREATE_TABLE = re.compile(
    rf"^\s*CREATE\s+TABLE\s+(?P<table>{QUALIFIED})\s*\((?P<body>.*)\)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
INLINE_REFERENCE = re.compile(rf"\s+CONSTRAINT\s+{IDENT}\s+REFERENCES\s.*$", re.I | re.S)
PROBE = "zdt_reentry_probe"

INDEX_SIGNATURE = """
SELECT i.indisvalid, i.indrelid, i.indisunique, am.amname, i.indnkeyatts,
       i.indoption::text, i.indclass::text, i.indcollation::text,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
             FROM generate_series(1, i.indnatts) k),
       pg_get_expr(i.indpred, i.indrelid, true), pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
WHERE i.indexrelid = to_regclass(%s)
"""


def unquote(name: str) -> str:
    """``"a""b"`` → ``a"b``; an unquoted name folds to lower case as PostgreSQL does."""
    name = name.strip()
    if name.startswith('"'):
        return name[1:-1].replace('""', '"')
    return name.lower()


def _qualified(text: str) -> str:
    """A possibly schema-qualified name, re-quoted (for ``to_regclass``)."""
    parts = re.findall(IDENT, text)
    return ".".join(quote_ident(unquote(part)) for part in parts)


@dataclass(frozen=True)
class Existing:
    """An object found under the wanted name: is it valid, is it the same, what is it."""

    valid: bool
    same: bool | None
    """None when the wanted definition could not be built on the temporary copy."""
    definition: str


def _rows(cursor: Any, sql: str, params: Any = None) -> Any:
    cursor.execute(sql, params)
    return cursor.fetchone()


def _probe(connection: Any, statements: list[str], query: str, params: Any) -> Any:
    """Run ``statements`` on an empty temporary copy and read ``query``; roll all back."""
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '5s'")
            for statement in statements:
                cursor.execute(statement)
            row = _rows(cursor, query, params)
            transaction.set_rollback(True, using=connection.alias)
            return row
    except DatabaseError:
        return None  # the copy cannot take it: compare what can be compared without


def _temp_copy(table: str) -> str:
    return f"CREATE TEMP TABLE {PROBE} (LIKE {table}) ON COMMIT DROP"


def index_leftover(connection: Any, sql: str) -> tuple[str, Existing] | None:
    """(name, what exists) for a ``CREATE INDEX`` whose index name is taken; else None."""
    match = CREATE_INDEX.match(sql)
    if match is None:
        return None
    name, table = unquote(match["name"]), _qualified(match["table"])
    with connection.cursor() as cursor:
        found = _rows(cursor, INDEX_SIGNATURE, [quote_ident(name)])
        if found is None:
            return None
        wanted_table = _rows(cursor, "SELECT to_regclass(%s)::oid", [table])[0]
    create = f"CREATE {match['unique'] or ''}INDEX {PROBE}_idx ON pg_temp.{PROBE} {match['rest']}"
    probe = [f"pg_temp.{PROBE}_idx"]
    wanted = _probe(connection, [_temp_copy(table), create], INDEX_SIGNATURE, probe)
    same = None if wanted is None else found[1] == wanted_table and found[2:10] == wanted[2:10]
    return name, Existing(bool(found[0]), same, str(found[10]))


CONSTRAINT = (
    "SELECT convalidated, contype, pg_get_constraintdef(oid, true) FROM pg_constraint "
    "WHERE conrelid = to_regclass(%s) AND conname = %s"
)


def constraint_leftover(connection: Any, table: str, sql: str) -> tuple[str, bool, Existing] | None:
    """(name, wanted NOT VALID, what exists) for an ``ADD CONSTRAINT`` whose name is taken."""
    match = ADD_CONSTRAINT.search(sql)
    if match is None:
        return None
    name, qt = unquote(match["name"]), quote_ident(table)
    with connection.cursor() as cursor:
        found = _rows(cursor, CONSTRAINT, [qt, name])
    if found is None:
        return None
    wanted = _wanted_constraint(connection, qt, match["body"], found[1])
    same = None if wanted is None else normalised(wanted) == normalised(found[2])
    return name, bool(match["nv"]), Existing(bool(found[0]), same, str(found[2]))


def _wanted_constraint(connection: Any, qt: str, body: str, kind: str) -> str | None:
    if kind == "f":  # a temporary table may not reference a permanent one
        return body
    add = f"ALTER TABLE pg_temp.{PROBE} ADD CONSTRAINT {PROBE}_c {body}"
    row = _probe(connection, [_temp_copy(qt), add], CONSTRAINT, [f"pg_temp.{PROBE}", f"{PROBE}_c"])
    return None if row is None else str(row[2])


def normalised(definition: str) -> str:
    """A constraint definition with quotes of plain names, spacing and case folded away."""
    text = re.sub(r'"([a-z_][a-z0-9_$]*)"', r"\1", definition)
    text = re.sub(r"\s+", " ", text).replace(" (", "(").replace("( ", "(").replace(" )", ")")
    return re.sub(r"\s+not valid$", "", text.strip().lower())


TRIGGER = (
    "SELECT t.tgtype, t.tgfoid, t.tgattr::text, encode(t.tgargs, 'hex'), t.tgqual IS NULL, "
    "pg_get_triggerdef(t.oid) FROM pg_trigger t "
    "WHERE t.tgrelid = to_regclass(%s) AND t.tgname = %s AND NOT t.tgisinternal"
)


def trigger_leftover(connection: Any, sql: str) -> tuple[str, Existing] | None:
    """(name, what exists) for a ``CREATE TRIGGER`` whose name is taken on its table."""
    match = CREATE_TRIGGER.match(sql)
    if match is None:
        return None
    name, table = unquote(match["name"]), _qualified(match["table"])
    with connection.cursor() as cursor:
        found = _rows(cursor, TRIGGER, [table, name])
    if found is None:
        return None
    create = f"CREATE TRIGGER {PROBE}_t {match['when']} ON pg_temp.{PROBE} {match['rest']}"
    wanted = _probe(
        connection, [_temp_copy(table), create], TRIGGER, [f"pg_temp.{PROBE}", f"{PROBE}_t"]
    )
    same = None if wanted is None else wanted[:5] == found[:5]
    return name, Existing(True, same, str(found[5]))


COLUMN = (
    "SELECT format_type(atttypid, atttypmod), attnotnull, attidentity, attgenerated "
    "FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s AND NOT attisdropped"
)


def column_leftover(connection: Any, sql: str, params: Any) -> tuple[str, Existing] | None:
    """(column, what exists) for an ``ADD COLUMN`` whose column is there already: the same
    when type, NOT NULL, identity and generation match (the inline foreign key of the same
    statement came with it)."""
    match = ADD_COLUMN.match(sql)
    if match is None:
        return None
    column, table = unquote(match["column"]), _qualified(match["table"])
    with connection.cursor() as cursor:
        found = _rows(cursor, COLUMN, [table, column])
    if found is None:
        return None
    rest = INLINE_REFERENCE.sub("", match["rest"])
    add = [f"ALTER TABLE pg_temp.{PROBE} DROP COLUMN {quote_ident(column)}"]
    wanted = _probe_with(
        connection,
        [_temp_copy(table), *add],
        f"ALTER TABLE pg_temp.{PROBE} ADD COLUMN {quote_ident(column)} {rest}",
        params,
        [f"pg_temp.{PROBE}", column],
    )
    same = None if wanted is None else tuple(wanted) == tuple(found)
    return column, Existing(True, same, f"{column} {found[0]}{' NOT NULL' * bool(found[1])}")


def _probe_with(
    connection: Any,
    setup: list[str],
    statement: str,
    params: Any,
    key: list[str],
    query: str = COLUMN,
) -> Any:
    """:func:`_probe` for a statement that takes parameters (a column's default)."""
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '5s'")
            for one in setup:
                cursor.execute(one)
            cursor.execute(statement, params or None)
            row = _rows(cursor, query, key)
            transaction.set_rollback(True, using=connection.alias)
            return row
    except DatabaseError:
        return None


COLUMNS = (
    "SELECT array_agg(ARRAY[attname::text, format_type(atttypid, atttypmod), "
    "attnotnull::text, attidentity::text, attgenerated::text] ORDER BY attnum) "
    "FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped"
)


def table_leftover(connection: Any, sql: str, params: Any) -> tuple[str, Existing] | None:
    """(table, what exists) for a ``CREATE TABLE`` whose table is there already: the same
    when its columns (names, types, NOT NULL, identity, generation, in order) match."""
    match = CREATE_TABLE.match(sql)
    if match is None:
        return None
    table = _qualified(match["table"])
    with connection.cursor() as cursor:
        found = _rows(cursor, COLUMNS, [table])
    if found is None or found[0] is None:
        return None
    create = f"CREATE TEMP TABLE {PROBE} ({match['body']}) ON COMMIT DROP"
    wanted = _probe_with(connection, [], create, params, [f"pg_temp.{PROBE}"], COLUMNS)
    same = None if wanted is None else wanted[0] == found[0]
    names = ", ".join(column[0] for column in found[0])
    return unquote(match["table"].split(".")[-1]), Existing(True, same, f"columns {names}")
