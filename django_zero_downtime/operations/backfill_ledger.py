"""The backfill's row in the ledger (``BackfillProgress``), read and written in raw SQL.

Raw SQL on purpose: one statement per batch that both records the batch and reads the
controls another shell may have set (``manage.py backfill pause`` / ``target``), and no
dependency on columns a database may not have yet. A migration that depends only on
``django_zero_downtime.0001_initial`` can run before ``0002_backfill_control`` is applied
(a fresh database applies apps in label order): the backfill then runs without the
controls instead of failing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from django_zero_downtime.models import BackfillProgress

TABLE = BackfillProgress._meta.db_table
CONTROL_COLUMNS = ("rows_total", "pause_requested", "target_ms")


@dataclass
class Progress:
    """Where a backfill got to (the ledger row, as this run knows it)."""

    id: int
    last_pk: Any
    max_pk: Any
    rows_done: int
    finished: bool
    controls: bool
    """The ledger has the control columns (migration 0002 applied)."""


@dataclass(frozen=True)
class Controls:
    """What another shell asked for: pause, a batch time target (ms) or nothing."""

    pause: bool = False
    target_ms: int | None = None


def has_controls(cursor: Any) -> bool:
    cursor.execute(
        "SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass(%s) "
        "AND attname = ANY(%s) AND NOT attisdropped",
        [TABLE, list(CONTROL_COLUMNS)],
    )
    return int(cursor.fetchone()[0]) == len(CONTROL_COLUMNS)


def fetch_or_create(cursor: Any, key: str, table: str, max_pk: Any) -> Progress:
    """The progress row of ``key``, created with ``max_pk`` on the first start."""
    cursor.execute(
        f'INSERT INTO {TABLE} (key, "table", max_pk, rows_done, started_at, updated_at) '
        "VALUES (%s, %s, %s::jsonb, 0, now(), now()) ON CONFLICT (key) DO NOTHING",
        [key, table, json.dumps(max_pk)],
    )
    cursor.execute(
        f"SELECT id, last_pk, max_pk, rows_done, finished_at IS NOT NULL FROM {TABLE} "
        "WHERE key = %s",
        [key],
    )
    row = cursor.fetchone()
    return Progress(row[0], _json(row[1]), _json(row[2]), row[3], row[4], has_controls(cursor))


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


WAITERS_SQL = (
    "(SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted "
    "AND transactionid = pg_current_xact_id()::xid)"
)
"""Sessions waiting on this transaction's row locks now, at its last statement: each waits
until the commit, so none is missed (PostgreSQL 13+: ``pg_current_xact_id``)."""


def record_batch(cursor: Any, progress: Progress, upper: Any, updated: int) -> tuple[Controls, int]:
    """Record one batch (in its transaction), read the controls and count the sessions
    waiting on the batch's row locks, in one statement."""
    returning = "pause_requested, target_ms" if progress.controls else "false, NULL"
    cursor.execute(
        f"UPDATE {TABLE} SET last_pk = %s::jsonb, rows_done = rows_done + %s, "
        f"updated_at = now() WHERE id = %s RETURNING {returning}, {WAITERS_SQL}",
        [json.dumps(upper), updated, progress.id],
    )
    pause, target, waiters = cursor.fetchone()
    return Controls(bool(pause), target), int(waiters)


def read_controls(cursor: Any, progress: Progress) -> Controls:
    if not progress.controls:
        return Controls()
    cursor.execute(f"SELECT pause_requested, target_ms FROM {TABLE} WHERE id = %s", [progress.id])
    row = cursor.fetchone()
    return Controls(bool(row[0]), row[1]) if row else Controls()


def set_total(cursor: Any, progress: Progress, total: int) -> None:
    if progress.controls:
        cursor.execute(f"UPDATE {TABLE} SET rows_total = %s WHERE id = %s", [total, progress.id])


def finish(cursor: Any, progress: Progress) -> None:
    cursor.execute(
        f"UPDATE {TABLE} SET finished_at = coalesce(finished_at, now()), updated_at = now() "
        "WHERE id = %s",
        [progress.id],
    )


HISTORY_SQL = f"""
    SELECT l."table", a.attname, extract(epoch FROM l.finished_at - l.started_at) / l.rows_done
      FROM {TABLE} l
      JOIN pg_index i ON i.indrelid = to_regclass(quote_ident(l."table")) AND i.indisprimary
       AND i.indnatts = 1
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
     WHERE l.finished_at > l.started_at AND l.rows_done >= %s
     ORDER BY l.finished_at DESC LIMIT %s"""


def finished_rates(cursor: Any, min_rows: int, runs: int) -> list[tuple[str, str, float]]:
    """(table, primary key column, seconds per row) of the last ``runs`` finished
    backfills of at least ``min_rows`` rows whose table is still there (none when the
    ledger is not migrated yet)."""
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [TABLE])
    if not cursor.fetchone()[0]:
        return []
    cursor.execute(HISTORY_SQL, [min_rows, runs])
    return [(str(t), str(pk), float(row_s)) for t, pk, row_s in cursor.fetchall()]


def forget(connection: BaseDatabaseWrapper, key: str) -> None:
    """Delete the progress row of ``key`` (when the operation is unapplied)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE key = %s", [key])
