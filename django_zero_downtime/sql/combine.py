"""Several ``ALTER TABLE`` statements of one table as one statement (pure; seed 004).

Used by ``CombinedAlterTable``. Statements combine only when every one is an ``ALTER TABLE``
of the same table (as :mod:`.classify` reads them) and no column is named by two clauses:
PostgreSQL runs the clauses of one statement in passes of its own order (drops, type
changes, added columns, defaults, constraints), not in the written order, so two clauses on
one column (``ADD COLUMN c .. DEFAULT 0`` then ``ALTER COLUMN c DROP DEFAULT``) stay apart.
"""

from __future__ import annotations

import re

from django_zero_downtime.sql.classify import Impact, classify_sql
from django_zero_downtime.sql.lexing import split_commas

_NAME = r'(?:"(?:[^"]|"")+"|[\w$]+)'
_HEAD = re.compile(
    rf"^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?{_NAME}(?:\.{_NAME})?\s+",
    re.IGNORECASE,
)


def split_alter(sql: str) -> tuple[str, list[str]] | None:
    """``ALTER TABLE t a, b`` -> (``ALTER TABLE t``, [a, b]) as written; None otherwise."""
    head = _HEAD.match(sql)
    if head is None:
        return None
    return head.group(0).strip(), split_commas(sql[head.end() :].strip().removesuffix(";"))


def _combinable(impacts: list[Impact]) -> bool:
    if len(impacts) < 2 or len({i.table for i in impacts}) != 1 or impacts[0].table is None:
        return False
    if not all(i.kind.startswith("ALTER TABLE") and i.actions for i in impacts):
        return False
    columns = [a.column for i in impacts for a in i.actions if a.column]
    return len(columns) == len(set(columns))


def one_statement(statements: list[str]) -> str | None:
    """``statements`` as one ``ALTER TABLE t a, b, ...``; None when they are not all
    ``ALTER TABLE`` of one table, or a column is named by two of their clauses (pure)."""
    impacts = [i for s in statements for i in classify_sql(s)]
    if not _combinable(impacts):
        return None
    split = [split_alter(impact.sql) for impact in impacts]
    if any(part is None for part in split):
        return None
    parts = [clause for found in split if found for clause in found[1]]
    return f"{split[0][0]} " + ", ".join(parts) if split[0] else None
