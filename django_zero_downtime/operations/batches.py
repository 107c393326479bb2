"""Batched backfill: primary-key keyset batches, each in its own short transaction.

The engine behind :class:`~django_zero_downtime.operations.BatchedBackfill` and the copy step
of :class:`~django_zero_downtime.operations.DualWriteRename`.

- Bounded: the highest primary key is read once, when the backfill first starts, and kept in
  the ledger (``BackfillProgress.max_pk``); rows inserted later are not visited, so the loop
  always terminates (new rows are the writers' or the trigger's business).
- Resumable: each batch commits its rows *and* its progress row in one transaction, so after
  a crash (even SIGKILL) a rerun starts after the last committed batch; no batch is lost and
  none is half-recorded.
- Gentle: ``ZDT_BACKFILL_BATCH_SIZE`` rows per batch, ``ZDT_BACKFILL_PAUSE_S`` between batches.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from django.db import OperationalError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.functions import Now

from django_zero_downtime import conf, events
from django_zero_downtime.exceptions import LockTimeoutExhausted, UnsafeOperationError
from django_zero_downtime.models import BackfillProgress
from django_zero_downtime.sql.identifiers import quote_ident

# update_batch(cursor, after_pk, upto_pk) -> rows updated; rows with after < pk <= upto.
BatchUpdater = Callable[[Any, Any, Any], int]


@dataclass(frozen=True)
class BackfillPlan:
    """What to backfill (a stable key for the progress row, the table and its key column)
    and how gently (batch size, pause, lock timeout and retry delays of one batch)."""

    key: str
    table: str
    pk_column: str
    batch_size: int
    pause_s: float
    lock_timeout_ms: int = 500
    retry_delays_s: tuple[float, ...] = ()
    label: str = ""
    """Readable name for people ("shop.Order: copy amount → total"); the key if empty."""

    @property
    def name(self) -> str:
        return self.label or self.key


def make_plan(
    key: str,
    table: str,
    pk_column: str,
    batch_size: int | None,
    pause_s: float | None,
    label: str = "",
) -> BackfillPlan:
    settings = conf.get_settings()
    return BackfillPlan(
        key=key,
        table=table,
        pk_column=pk_column,
        batch_size=batch_size if batch_size is not None else settings.BACKFILL_BATCH_SIZE,
        pause_s=pause_s if pause_s is not None else settings.BACKFILL_PAUSE_S,
        lock_timeout_ms=settings.LOCK_TIMEOUT_MS,
        retry_delays_s=retry_delays(settings),
        label=label,
    )


def retry_delays(settings: conf.ZdtSettings) -> tuple[float, ...]:
    """Exponential backoff from ZDT_RETRY_BACKOFF_MS, capped, ZDT_MAX_RETRIES of them."""
    first, cap = settings.RETRY_BACKOFF_MS, settings.RETRY_MAX_DELAY_MS
    return tuple(min(first * 2**n, cap) / 1000 for n in range(settings.MAX_RETRIES))


def refuse_in_atomic_block(connection: BaseDatabaseWrapper, what: str) -> None:
    """Batches must commit one by one: refuse inside a transaction (an atomic migration)."""
    if connection.in_atomic_block:
        raise UnsafeOperationError(
            f"{what} backfills in batches that each commit on their own, so it cannot run "
            "inside a transaction. Set `atomic = False` on the migration class that contains "
            "it (and keep other schema changes in a separate, atomic migration)."
        )


def _start(connection: BaseDatabaseWrapper, plan: BackfillPlan) -> BackfillProgress:
    """Fetch the progress row, creating it with the current highest key on first start."""
    table, pk = quote_ident(plan.table), quote_ident(plan.pk_column)
    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {pk} FROM {table} ORDER BY {pk} DESC LIMIT 1")
            row = cursor.fetchone()
            max_pk = jsonable(row[0]) if row else None
        progress, _ = BackfillProgress.objects.using(connection.alias).get_or_create(
            key=plan.key, defaults={"table": plan.table, "max_pk": max_pk}
        )
    return progress


def jsonable(key: Any) -> Any:
    """A primary key as kept in the ledger's JSON: integers as is, anything else as text
    (UUIDs, strings), which PostgreSQL casts back when it is compared with the column."""
    return key if key is None or isinstance(key, int) else str(key)


def _next_upper(cursor: Any, plan: BackfillPlan, after: Any, max_pk: Any) -> Any:
    """Primary key closing the next batch: the batch_size-th key after ``after``."""
    table, pk = quote_ident(plan.table), quote_ident(plan.pk_column)
    where, params = range_condition(plan.pk_column, after, max_pk)
    cursor.execute(
        f"SELECT {pk} FROM {table} WHERE {where} ORDER BY {pk} OFFSET %s LIMIT 1",
        [*params, plan.batch_size - 1],
    )
    row = cursor.fetchone()
    return jsonable(row[0]) if row else max_pk


def _run_batch(
    connection: BaseDatabaseWrapper,
    plan: BackfillPlan,
    progress: BackfillProgress,
    update_batch: BatchUpdater,
) -> int:
    """Update one batch and record it, in one transaction. Returns rows updated.

    ``SET LOCAL lock_timeout``: a batch that meets rows locked by a long transaction gives
    up quickly instead of holding its own row locks (and the writers queued on them).
    """
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{plan.lock_timeout_ms}ms"])
        upper = _next_upper(cursor, plan, progress.last_pk, progress.max_pk)
        count = update_batch(cursor, progress.last_pk, upper)
        BackfillProgress.objects.using(connection.alias).filter(pk=progress.pk).update(
            last_pk=upper, rows_done=progress.rows_done + count, updated_at=Now()
        )
    progress.last_pk, progress.rows_done = upper, progress.rows_done + count
    return count


def _is_lock_timeout(exc: BaseException) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) == "55P03"


def _run_batch_retrying(
    connection: BaseDatabaseWrapper,
    plan: BackfillPlan,
    progress: BackfillProgress,
    update_batch: BatchUpdater,
    out: TextIO,
) -> int:
    """One batch; on a lock timeout, wait and retry it (it rolled back, nothing is lost)."""
    for number, delay in enumerate([*plan.retry_delays_s, None], start=1):
        try:
            return _run_batch(connection, plan, progress, update_batch)
        except OperationalError as exc:
            if not _is_lock_timeout(exc):
                raise
            if delay is None:
                raise LockTimeoutExhausted(_gave_up(plan, progress, number)) from exc
            out.write(
                f"  backfill {plan.name}: rows locked by another transaction, "
                f"retry {number}/{len(plan.retry_delays_s)} in {delay:.2f}s\n"
            )
            out.flush()
            time.sleep(delay * random.uniform(0.5, 1.0))
    raise AssertionError("unreachable")


def _gave_up(plan: BackfillPlan, progress: BackfillProgress, attempts: int) -> str:
    return (
        f"Backfill {plan.key} gave up on the batch after {plan.pk_column}={progress.last_pk} "
        f"of table {plan.table}: its rows stayed locked by another transaction for "
        f"{attempts} attempts (lock_timeout {plan.lock_timeout_ms} ms, ZDT_MAX_RETRIES). "
        "Run the migration again when the long transaction has ended; the backfill resumes "
        "from this batch."
    )


def _finish(connection: BaseDatabaseWrapper, progress: BackfillProgress) -> None:
    BackfillProgress.objects.using(connection.alias).filter(pk=progress.pk).update(
        finished_at=Now(), updated_at=Now()
    )


def run_backfill(
    connection: BaseDatabaseWrapper,
    plan: BackfillPlan,
    update_batch: BatchUpdater,
    out: TextIO | None = None,
) -> int:
    """Run (or resume) the backfill ``plan``; returns the rows updated by this run.

    Each batch is told as a ``batch`` event (:mod:`~django_zero_downtime.events`): the
    runner's progress line and report timeline listen; only the start and end are printed.
    """
    out = out or sys.stdout
    progress = _start(connection, plan)
    if progress.finished_at is not None or progress.max_pk is None:
        _finish(connection, progress)
        out.write(f"  backfill {plan.name}: nothing to do\n")
        return 0
    if progress.last_pk is not None:
        out.write(f"  backfill {plan.name}: resuming after {plan.pk_column}={progress.last_pk}\n")
    visited = progress.rows_done  # rows before the resume point, approximately
    total = visited + _rows_left(connection, plan, progress)
    started, done = time.monotonic(), 0
    while progress.last_pk != progress.max_pk:  # equality: no Python ordering of keys
        batch_started = time.monotonic()
        rows = _run_batch_retrying(connection, plan, progress, update_batch, out)
        done, visited = done + rows, min(visited + plan.batch_size, total)
        _tell_batch(plan, rows, visited, total, time.monotonic() - batch_started)
        if plan.pause_s:
            time.sleep(plan.pause_s)
    _finish(connection, progress)
    out.write(f"  backfill {plan.name}: {done} rows in {time.monotonic() - started:.1f}s\n")
    out.flush()
    return done


def _tell_batch(plan: BackfillPlan, rows: int, visited: int, total: int, seconds: float) -> None:
    """``rows``: updated by this batch; ``done``: rows visited so far, of ``total``."""
    events.emit(
        "batch",
        key=plan.key,
        label=plan.name,
        table=plan.table,
        rows=rows,
        done=visited,
        total=total,
        seconds=round(seconds, 4),
        batch_size=plan.batch_size,
        pause_s=plan.pause_s,
    )


def _rows_left(
    connection: BaseDatabaseWrapper, plan: BackfillPlan, progress: BackfillProgress
) -> int:
    """Rows still to visit (``last_pk`` < pk <= ``max_pk``): an index-only count, once."""
    table = quote_ident(plan.table)
    where, params = range_condition(plan.pk_column, progress.last_pk, progress.max_pk)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table} WHERE {where}", params)
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def forget(connection: BaseDatabaseWrapper, key: str) -> None:
    """Delete the progress row of ``key`` (when the operation is unapplied)."""
    BackfillProgress.objects.using(connection.alias).filter(key=key).delete()


def range_condition(pk_column: str, after: Any, upto: Any) -> tuple[str, list[Any]]:
    """SQL condition ``after < pk <= upto`` (``after`` None: from the start)."""
    pk = quote_ident(pk_column)
    if after is None:
        return f"{pk} <= %s", [upto]
    return f"{pk} > %s AND {pk} <= %s", [after, upto]
