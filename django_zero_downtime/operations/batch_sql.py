"""A backfill's UPDATE, prepared once per run and checked to use the primary key.

The statement is written with ``$1`` and ``$2`` for the first and last primary key of a
batch (both inclusive). ``PREPARE`` plans it once; each batch runs ``EXECUTE name(lo, hi)``.
Before the first batch, ``EXPLAIN EXECUTE`` checks the plan reaches the rows through an
index (the primary key's) rather than a sequential scan of the whole table per batch.

Behind a pooler that moves sessions (PgBouncer in transaction mode) a prepared statement
may be missing on the backend a batch lands on: every batch asks, in its first statement,
and prepares it again inside its own transaction when missing (the statement is named
after a hash of its text, so a copy left on another backend is the same statement).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from django_zero_downtime.sql.identifiers import quote_ident


@dataclass
class BatchSql:
    """``sql``: an UPDATE whose batch is ``pk BETWEEN $1 AND $2`` (already composed: no
    client-side parameters left); ``skip_triggers``: triggers it may bypass, by name."""

    sql: str
    skip_triggers: tuple[str, ...] = ()
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = "zdt_bf_" + hashlib.sha1(self.sql.encode()).hexdigest()[:16]

    def prepare(self, cursor: Any, prepared: bool) -> None:
        """Prepare the statement unless this backend has it (``prepared``, as asked by
        :meth:`is_prepared_sql` in the batch's first statement)."""
        if not prepared:
            cursor.execute(f"PREPARE {self.name} AS {self.sql}")

    def is_prepared_sql(self) -> str:
        """A select-list expression: does this backend have the statement prepared?"""
        return f"EXISTS (SELECT 1 FROM pg_prepared_statements WHERE name = '{self.name}')"

    def execute(self, connection: BaseDatabaseWrapper, cursor: Any, lo: Any, hi: Any) -> int:
        cursor.execute(compose(connection, f"EXECUTE {self.name}(%s, %s)", [lo, hi]))
        return int(cursor.rowcount)

    def plan_problem(
        self, connection: BaseDatabaseWrapper, cursor: Any, lo: Any, hi: Any
    ) -> str | None:
        """A sentence when the planned UPDATE scans the whole table, else None."""
        explain = compose(
            connection, f"EXPLAIN (FORMAT JSON) EXECUTE {self.name}(%s, %s)", [lo, hi]
        )
        cursor.execute(explain)
        plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        scans = [
            node.get("Relation Name")
            for node in _nodes(plan[0]["Plan"])
            if node.get("Node Type") == "Seq Scan"
        ]
        if not scans:
            return None
        return (
            f"each batch's UPDATE reads all of {', '.join(map(str, scans))} (sequential scan): "
            "the table has no usable index on its primary key, so batches will be slow"
        )

    def deallocate(self, cursor: Any) -> None:
        cursor.execute(f"SELECT CASE WHEN {self.is_prepared_sql()} THEN 1 END")
        if cursor.fetchone()[0]:
            cursor.execute(f"DEALLOCATE {self.name}")


def compose(connection: BaseDatabaseWrapper, sql: str, params: list[Any]) -> str:
    """``sql`` with ``params`` quoted in (PostgreSQL's ops; utility statements take none)."""
    return str(connection.ops.compose_sql(sql, params))  # type: ignore[attr-defined]


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def skippable_dual_writes(
    connection: BaseDatabaseWrapper, table: str, columns: list[str]
) -> tuple[str, ...]:
    """Dual-write triggers (``zdt_dw_*``) on ``table`` whose function names none of
    ``columns``: a batch that writes only other columns changes nothing they keep equal,
    so it may bypass them (``pgtrigger.ignore``, this transaction only). Conservative: a
    column named anywhere in the function's text keeps its trigger on."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgname, p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgrelid = to_regclass(%s) AND t.tgname LIKE 'zdt\\_dw\\_%%'",
            [quote_ident(table)],
        )
        rows = cursor.fetchall()
    return tuple(
        name for name, source in rows if not any(quote_ident(c) in source for c in columns)
    )
