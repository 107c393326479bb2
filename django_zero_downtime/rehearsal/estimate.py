"""What an operation the rehearsal cannot run will do, and how long it will take, measured.

Operations that cannot run in the rehearsal's transaction (concurrent index builds and
drops, batched backfills, the contract steps of non-atomic migrations) are described from
their own SQL (each statement's lock, as ``--plan`` classifies it) with an estimate from
rates measured on this server, inside the rolled-back transaction:

- a backfill: the engine's bounds query and one batch's UPDATE, timed
  (:mod:`django_zero_downtime.operations.estimate`), over the table's real row count
  (:func:`django_zero_downtime.sql.size.table_size`, the size rule's);
- a concurrent index build: the same index built plainly in a savepoint and rolled back,
  times :data:`CONCURRENT_FACTOR` (a concurrent build scans the table twice);
- a concurrent index drop: no scan, so no build estimate.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.operations import RemoveIndexConcurrently
from django.db import DatabaseError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.operations import RunSQL, SeparateDatabaseAndState
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

from django_zero_downtime import ledger, traits
from django_zero_downtime.operations import estimate as backfill
from django_zero_downtime.sql.classify import STRONG_LOCKS, Impact, classify_sql
from django_zero_downtime.sql.size import MB, TableSize, table_size
from django_zero_downtime.sql.state import Schema

CONCURRENT_FACTOR = 1.5
"""A concurrent build against a plain one of the same index (1.2x measured on 200,000 rows;
it scans the table twice and waits for running transactions)."""
CONCURRENTLY = re.compile(r"\bCONCURRENTLY\b", re.IGNORECASE)
NOTE = "-- django-zero-downtime: "
INDEX_TABLE = re.compile(
    r"\bON\s+(?:ONLY\s+)?((?:\"[^\"]+\"|[\w$]+)(?:\.(?:\"[^\"]+\"|[\w$]+))?)", re.IGNORECASE
)
DROP_INDEX = re.compile(r"^\s*DROP\s+INDEX\s+CONCURRENTLY\b", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Estimate:
    text: str
    seconds: float | None = None


@dataclass(frozen=True)
class Target:
    """The operation and where it runs: the rehearsal's connection and the states."""

    connection: BaseDatabaseWrapper
    app_label: str
    op: Operation
    before: ProjectState
    after: ProjectState

    def model(self) -> Any:
        name = getattr(self.op, "model_name", None) or getattr(self.op, "model_name_lower", None)
        try:
            return self.before.apps.get_model(self.app_label, str(name)) if name else None
        except LookupError:
            return None


def estimate(target: Target) -> Estimate:
    """What the operation will do (its locks) and its measured estimate."""
    locks = lock_text(target)
    found = _backfill(target) or _index(target) or Estimate("")
    parts = [p for p in (found.text, locks) if p]
    text = "; ".join(parts) or "no SQL to show"
    return Estimate(f"cannot run in a transaction: not rehearsed; {text}", found.seconds)


def _backfill(target: Target) -> Estimate | None:
    model = target.model()
    if not traits.backfills_rows(target.op) or model is None or not model._meta.pk.column:
        return None
    table, pk = model._meta.db_table, model._meta.pk.column
    plan = backfill.plan_of(target.op, table, pk)
    alias = target.connection.alias
    with transaction.atomic(using=alias), target.connection.cursor() as cursor:
        size = table_size(cursor, target.connection.ops.quote_name(table))
        collected = collected_sql(target)
        _prepare(cursor, statements(collected))
        rate = backfill.measure(cursor, plan, write=True, update=_batch_update(collected))
        transaction.set_rollback(True, using=alias)
    seconds = backfill.seconds(size.rows, plan, rate)
    what = backfill.describe(size.rows, plan, rate)
    return Estimate(f"backfills {table}{_how(size)}: {what}; short row locks per batch", seconds)


def _prepare(cursor: Any, sqls: list[str]) -> None:
    """The operation's own statements before its batches (a new column, the dual-write
    trigger), each in a savepoint, so the sample batch finds the table as the run will;
    one that fails or cannot run in a transaction is left out."""
    for sql in sqls:
        if CONCURRENTLY.search(sql):
            continue
        try:
            with transaction.atomic(using=cursor.db.alias):
                cursor.execute(sql)
        except DatabaseError:
            continue


def _batch_update(collected: list[str]) -> str:
    """The batch UPDATE an operation notes (``… in batches: UPDATE … <batch of primary
    keys> …``), or "" when it notes none."""
    for line in collected:
        text = line.strip().removeprefix(NOTE)
        _, found, update = text.partition(" in batches: ")
        if found and backfill.BATCH in update:
            return update.strip()
    return ""


def _how(size: TableSize) -> str:
    return "" if size.how in {"statistics", "counted"} else f" ({size.how})"


def _index(target: Target) -> Estimate | None:
    """A concurrent build timed as a plain one; a concurrent drop said to be no build."""
    sql = index_sql(target)
    if sql is None:
        return None
    if DROP_INDEX.search(sql):
        return Estimate("drops the index concurrently: no scan, it waits for running "
                        "transactions on the table, then takes ~0 s", 0.0)  # fmt: skip
    try:
        took = _timed_plain_build(target.connection, CONCURRENTLY.sub("", sql))
    except DatabaseError as exc:  # it needs what an operation that was not rehearsed builds
        first = (str(exc).strip().splitlines() or [repr(exc)])[0]
        return Estimate(
            f"builds the index concurrently (reads and writes go on); not timed: {first}"
        )
    seconds = took * CONCURRENT_FACTOR
    return Estimate(
        f"builds the index concurrently{_on(target.connection, sql)} (reads and writes go on): "
        f"built plainly here in {took:.2f} s, estimated ~{seconds:.1f} s concurrently",
        seconds,
    )


def _on(connection: BaseDatabaseWrapper, sql: str) -> str:
    """`` on t (200,000 rows, 12 MB)``: the table the index is on, at its real size."""
    match = INDEX_TABLE.search(sql)
    if match is None:
        return ""
    with connection.cursor() as cursor:
        size = table_size(cursor, match.group(1))
    table = match.group(1).replace('"', "")
    return f" on {table} ({size.rows:,} rows, {size.heap_bytes / MB:.1f} MB)"


def _timed_plain_build(connection: BaseDatabaseWrapper, sql: str) -> float:
    """Seconds of the build without CONCURRENTLY, in a savepoint that is rolled back."""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(sql)
        took = time.perf_counter() - started
        transaction.set_rollback(True, using=connection.alias)
    return took


def index_sql(target: Target) -> str | None:
    """The concurrent index statement of the operation (None when it has none)."""
    op = target.op
    if isinstance(op, SeparateDatabaseAndState):
        inner = [o for o in op.database_operations if traits.cannot_run_in_transaction(o)]
        return index_sql(Target(*_fields(target, inner[0]))) if inner else None
    if isinstance(op, RunSQL):
        text = _sql_text(op)
        return text if CONCURRENTLY.search(text) else None
    if isinstance(op, RemoveIndexConcurrently):
        return f"DROP INDEX CONCURRENTLY {target.connection.ops.quote_name(op.name)}"
    index, model = getattr(op, "index", None), target.model()
    if index is None or model is None or not hasattr(index, "create_sql"):
        return None
    with target.connection.schema_editor(atomic=False) as editor:
        return str(index.create_sql(model, editor))


def _fields(target: Target, op: Operation) -> tuple[Any, ...]:
    return target.connection, target.app_label, op, target.before, target.after


def _sql_text(op: RunSQL) -> str:
    """The forward SQL of a ``RunSQL`` as one string (it may be a list, or (sql, params))."""
    items = op.sql if isinstance(op.sql, list | tuple) else [op.sql]
    return "\n".join(str(item[0] if isinstance(item, list | tuple) else item) for item in items)


# --- what it locks ------------------------------------------------------------------------


def lock_text(target: Target) -> str:
    """``locks: ACCESS EXCLUSIVE on t for ALTER TABLE DROP COLUMN, … (brief, catalog only:
    reads and writes wait a moment); …``, classified in order like ``--plan`` does."""
    schema = Schema(version=_major(target.connection))
    impacts = [i for sql in statements(collected_sql(target)) for i in classify_sql(sql, schema)]
    groups: dict[tuple[str, str], list[str]] = {}
    for impact in impacts:
        if impact.lock != "NONE":
            where = f" on {impact.table}" if impact.table else ""
            kinds = groups.setdefault((f"{impact.lock}{where}", _effect(impact)), [])
            kinds += [] if impact.kind in kinds else [impact.kind]
    said = [f"{lock} for {', '.join(kinds)} ({effect})" for (lock, effect), kinds in groups.items()]
    return f"locks: {'; '.join(said)}" if said else ""


def _major(connection: BaseDatabaseWrapper) -> int:
    return int(getattr(connection, "pg_version", 150000)) // 10000


def _effect(impact: Impact) -> str:
    blocks = "reads and writes wait" if impact.lock == "ACCESS EXCLUSIVE" else "writes wait"
    if impact.lock not in STRONG_LOCKS:
        return "scans, reads and writes go on" if impact.scans else "reads and writes go on"
    if impact.rewrites or impact.strong_scan or impact.blocking_build:
        return f"{blocks} for the whole {'rewrite' if impact.rewrites else 'scan'}"
    return f"brief, catalog only: {blocks} a moment"


def collected_sql(target: Target) -> list[str]:
    """The operation's statements and notes, collected without running them (none when it
    cannot be collected inside a transaction, e.g. Django's concurrent index operations).
    The deploy-cycle gates are opened for it: nothing runs, and the gate is the run's."""
    connection = target.connection
    try:
        with (
            ledger.gates_open("collecting the SQL of an operation the rehearsal cannot run"),
            transaction.atomic(using=connection.alias),
            connection.schema_editor(collect_sql=True, atomic=False) as editor,
        ):
            target.op.database_forwards(target.app_label, editor, target.before, target.after)
            transaction.set_rollback(True, using=connection.alias)
    except Exception:  # needs to run outside a transaction, or what an earlier step builds
        return []
    return [sql for sql in editor.collected_sql if sql.strip()]


def statements(collected: list[str]) -> list[str]:
    return [sql for sql in collected if not sql.lstrip().startswith("--")]
