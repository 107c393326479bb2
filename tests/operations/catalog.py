"""What the catalog says about one column, in a form two databases' tables can be compared by.

Object names are left out (a fresh ``CreateModel`` names a unique constraint ``…_key``
where an ``AddField`` names it ``…_uniq``); table names are replaced by a placeholder, so
a model under app label ``zdtlab`` compares equal to the same model under ``zdtfresh``.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import connection

from django_zero_downtime.sql.identifiers import quote_ident

ATTRIBUTE = """
SELECT format_type(a.atttypid, a.atttypmod), a.attnotnull, coalesce(co.collname, ''),
       coalesce(pg_get_expr(d.adbin, d.adrelid), '')
  FROM pg_attribute a
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 100
 WHERE a.attrelid = to_regclass(%(t)s) AND a.attname = %(c)s AND NOT a.attisdropped
"""
INDEXES = """
SELECT pg_get_indexdef(i.indexrelid), i.indisvalid FROM pg_index i
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attname = %(c)s
 WHERE i.indrelid = to_regclass(%(t)s)
   AND (a.attnum = ANY(i.indkey::int2[]) OR EXISTS (SELECT FROM pg_depend d
        WHERE d.objid = i.indexrelid AND d.refobjid = i.indrelid AND d.refobjsubid = a.attnum))
"""
CONSTRAINTS = """
SELECT c.contype::text, pg_get_constraintdef(c.oid), c.convalidated, c.condeferrable
  FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attname = %(c)s
 WHERE c.conrelid = to_regclass(%(t)s) AND a.attnum = ANY(c.conkey)
"""
INCOMING = """
SELECT pg_get_constraintdef(c.oid), c.convalidated
  FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attname = %(c)s
 WHERE c.contype = 'f' AND c.confrelid = to_regclass(%(t)s) AND a.attnum = ANY(c.confkey)
"""
TRIGGERS = "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(%(t)s) AND NOT tgisinternal"


def _rows(sql: str, table: str, column: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, {"t": quote_ident(table), "c": column})
        return [tuple(row) for row in cursor.fetchall()]


def normal(text: Any, app: str) -> Any:
    """``text`` with the app's table prefix and index names replaced by placeholders."""
    if not isinstance(text, str):
        return text
    text = re.sub(r"^CREATE (UNIQUE )?INDEX \S+ ON", r"CREATE \1INDEX <name> ON", text)
    return text.replace("public.", "").replace(f"{app}_", "<app>_")


def column_catalog(table: str, column: str, app: str) -> dict[str, Any]:
    """The column's type, nullability, collation, default, indexes, constraints, incoming
    foreign keys and the table's triggers, names left out."""

    def snap(sql: str) -> list[tuple[Any, ...]]:
        return sorted(tuple(normal(v, app) for v in row) for row in _rows(sql, table, column))

    return {
        "attribute": snap(ATTRIBUTE),
        "indexes": snap(INDEXES),
        "constraints": snap(CONSTRAINTS),
        "incoming": snap(INCOMING),
        "triggers": snap(TRIGGERS),
    }
