"""Batched backfill: primary-key keyset batches, each in its own short transaction.

The engine behind :class:`~django_zero_downtime.operations.BatchedBackfill`, the copy step
of :class:`~django_zero_downtime.operations.DualWriteRename` and the type-change and
NOT NULL paths.

- Bounded: the highest primary key is read once, when the backfill first starts, and kept in
  the ledger (``BackfillProgress.max_pk``); rows inserted later are not visited, so the loop
  always terminates (new rows are the writers' or the trigger's business).
- Resumable: each batch commits its rows *and* its progress in one transaction (one ledger
  statement per batch, which also reads the controls), so after a crash (even SIGKILL) a
  rerun starts after the last committed batch; no batch is lost and none is half-recorded.
- Fast: batch sizes adapt to a target batch time (``ZDT_BACKFILL_TARGET_MS``, 200 ms),
  between ``MIN_BATCH`` and ``ZDT_BACKFILL_MAX_BATCH_SIZE`` rows, unless a fixed size is
  given (``batch_size=`` or ``ZDT_BACKFILL_BATCH_SIZE``). The UPDATE is prepared once
  (:mod:`batch_sql`) and may bypass dual-write triggers it makes no difference to.
- Gentle: ``lock_timeout`` and ``statement_timeout`` (the blocking budget) per batch; a
  batch over budget is rolled back, halved and retried; between batches the
  :mod:`throttle` pauses for lagging replicas, the project's check or a pause request.
- Said: progress, rate and ETA from a real count of the rows to do, on the terminal (at most
  every ``SAY_EVERY_S``) and as ``batch`` / ``pause`` / ``resume`` events.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from django.db import OperationalError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from django_zero_downtime import events, retry
from django_zero_downtime.exceptions import LockTimeoutExhausted, UnsafeOperationError
from django_zero_downtime.operations import backfill_ledger as ledger
from django_zero_downtime.operations import batch_messages as messages
from django_zero_downtime.operations import throttle
from django_zero_downtime.operations.batch_plan import (
    CONTENDED_HOLD_S,
    batch_aim_ms,
    contended_until,
)
from django_zero_downtime.operations.batch_plan import START_BATCH as START_BATCH
from django_zero_downtime.operations.batch_plan import BackfillPlan as BackfillPlan
from django_zero_downtime.operations.batch_plan import make_plan as make_plan
from django_zero_downtime.operations.batch_plan import pk_column as pk_column
from django_zero_downtime.operations.batch_plan import retry_delays as retry_delays
from django_zero_downtime.operations.batch_sql import BatchSql
from django_zero_downtime.sql.identifiers import quote_ident

# update_batch(cursor, after_pk, upto_pk) -> rows updated; rows with after < pk <= upto.
BatchUpdater = Callable[[Any, Any, Any], int]
Update = BatchUpdater | BatchSql

MIN_BATCH = 100
SAY_EVERY_S = 2.0
PLAN_CHECK_ROWS = 100_000
"""Check the UPDATE's plan only when there are this many rows (small tables seq-scan)."""

forget = ledger.forget


def refuse_in_atomic_block(connection: BaseDatabaseWrapper, what: str) -> None:
    """Batches must commit one by one: refuse inside a transaction (an atomic migration)."""
    if connection.in_atomic_block:
        raise UnsafeOperationError(
            f"{what} backfills in batches that each commit on their own, so it cannot run "
            "inside a transaction. Set `atomic = False` on the migration class that contains "
            "it (and keep other schema changes in a separate, atomic migration)."
        )


def next_batch_size(size: int, rows: int, seconds: float, target_s: float, most: int) -> int:
    """The next batch's size: aim at ``target_s`` from the last batch's rate, at most
    doubling or halving at once, within [MIN_BATCH, most]. A short last batch says nothing."""
    if rows < size:
        return size
    ideal = size * target_s / seconds if seconds > 0 else size * 2
    bounded = min(max(ideal, size / 2), size * 2)
    return int(min(max(bounded, min(MIN_BATCH, most)), most))


@dataclass
class Run:
    """One run of a backfill: the ledger row, the sizes, what it did and when it said so."""

    plan: BackfillPlan
    progress: ledger.Progress
    size: int
    target_ms: int
    total: int | None = None
    aim_ms: int = 0
    """The batch time the current batch was sized for (``target_ms`` unless contended)."""
    contended_until: float = 0.0
    """Until when batches aim at the contended target (monotonic clock)."""
    waiters: int = 0
    """Sessions that were waiting on the last batch's row locks when it ended."""
    visited: int = 0
    updated: int = 0
    plan_checked: bool = False
    controls: ledger.Controls = field(default_factory=ledger.Controls)
    started: float = field(default_factory=time.monotonic)
    paused_s: float = 0.0
    said_at: float = 0.0

    def rate(self) -> float:
        busy = time.monotonic() - self.started - self.paused_s
        return self.visited / busy if busy > 0 else 0.0


def jsonable(key: Any) -> Any:
    """A primary key as kept in the ledger's JSON: integers as is, anything else as text
    (UUIDs, strings), which PostgreSQL casts back when it is compared with the column."""
    return key if key is None or isinstance(key, int) else str(key)


def range_condition(pk_column: str, after: Any, upto: Any) -> tuple[str, list[Any]]:
    """SQL condition ``after < pk <= upto`` (``after`` None: from the start)."""
    pk = quote_ident(pk_column)
    if after is None:
        return f"{pk} <= %s", [upto]
    return f"{pk} > %s AND {pk} <= %s", [after, upto]


def _start(connection: BaseDatabaseWrapper, plan: BackfillPlan) -> ledger.Progress:
    """Fetch the progress row, creating it with the current highest key on first start."""
    table, pk = quote_ident(plan.table), quote_ident(plan.pk_column)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(f"SELECT {pk} FROM {table} ORDER BY {pk} DESC LIMIT 1")
        row = cursor.fetchone()
        return ledger.fetch_or_create(
            cursor, plan.key, plan.table, jsonable(row[0]) if row else None
        )


def _count(connection: BaseDatabaseWrapper, run: Run) -> int:
    """The real number of rows left to visit (for progress and the ETA)."""
    plan, progress = run.plan, run.progress
    where, params = range_condition(plan.pk_column, progress.last_pk, progress.max_pk)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {quote_ident(plan.table)} WHERE {where}", params)
        total = int(cursor.fetchone()[0])
        ledger.set_total(cursor, progress, total)
    return total


def _settings_sql(update: Update) -> tuple[str, list[Any]]:
    """The batch's first statement: its timeouts, the triggers it skips, and whether this
    backend has the UPDATE prepared."""
    sql = "SELECT set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true)"
    params: list[Any] = []
    if isinstance(update, BatchSql):
        if update.skip_triggers:
            sql += (
                ", set_config('pgtrigger.ignore', (coalesce(nullif(current_setting("
                "'pgtrigger.ignore', true), ''), '{}')::text[] || %s::text[])::text, true)"
            )
            params.append(list(update.skip_triggers))
        sql += ", " + update.is_prepared_sql()
    return sql, params


def _bounds(cursor: Any, run: Run) -> tuple[Any, Any, int]:
    """(first key, last key, keys) of the next batch; (None, max, 0) when none is left.
    Two index probes (no min()/max(): PostgreSQL has none for uuid); the last, short batch
    also counts its keys. The last key's probe has only a lower bound (the upper one is
    checked on the one key found): with a closed range a never-analysed table is planned as
    a bitmap scan and sort of the whole rest of the range (0.5% of the rows expected);
    with a lower bound only (a third expected) it is an index scan in key order that stops
    after the batch's keys, whatever the statistics (docs/architecture.md)."""
    plan, progress = run.plan, run.progress
    table, pk = quote_ident(plan.table), quote_ident(plan.pk_column)
    where, params = range_condition(plan.pk_column, progress.last_pk, progress.max_pk)
    keys = f"SELECT {pk} FROM {table} WHERE {where} ORDER BY {pk}"
    after = "" if progress.last_pk is None else f" WHERE {pk} > %s"
    nth = f"SELECT {pk} FROM {table}{after} ORDER BY {pk} OFFSET %s LIMIT 1"
    cursor.execute(
        f"SELECT ({keys} LIMIT 1), (SELECT k FROM ({nth}) b(k) WHERE k <= %s)",
        [*params, *([progress.last_pk] if after else []), run.size - 1, progress.max_pk],
    )
    lo, hi = cursor.fetchone()
    if hi is not None:
        return jsonable(lo), jsonable(hi), run.size
    cursor.execute(f"SELECT count(*) FROM ({keys}) rest", params)
    return jsonable(lo), progress.max_pk, int(cursor.fetchone()[0])


def _run_batch(connection: BaseDatabaseWrapper, run: Run, update: Update, out: TextIO) -> int:
    """Update one batch and record it, in one transaction. Returns the keys it visited.

    ``lock_timeout``: a batch that meets rows locked by a long transaction gives up quickly
    instead of holding its own row locks (and the writers queued on them);
    ``statement_timeout``: no writer waits on this batch longer than the blocking budget.
    """
    plan = run.plan
    settings_sql, params = _settings_sql(update)
    budget = f"{plan.budget_ms}ms"
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(settings_sql, [f"{plan.lock_timeout_ms}ms", budget, *params])
        prepared = bool(cursor.fetchone()[-1])
        lo, hi, keys = _bounds(cursor, run)
        if isinstance(update, BatchSql):
            update.prepare(cursor, prepared)
            _check_plan(connection, cursor, run, update, lo, hi, out)
            updated = update.execute(connection, cursor, lo, hi) if keys else 0
        else:
            updated = update(cursor, run.progress.last_pk, hi)
        run.controls, run.waiters = ledger.record_batch(cursor, run.progress, hi, updated)
    run.progress.last_pk, run.progress.rows_done = hi, run.progress.rows_done + updated
    run.updated += updated
    run.visited += keys
    return keys


def _check_plan(
    connection: BaseDatabaseWrapper,
    cursor: Any,
    run: Run,
    update: BatchSql,
    lo: Any,
    hi: Any,
    out: TextIO,
) -> None:
    """Once per run, on a table big enough for it to matter: warn of a sequential scan."""
    if run.plan_checked or lo is None or (run.total or 0) < PLAN_CHECK_ROWS:
        return
    run.plan_checked = True
    problem = update.plan_problem(connection, cursor, lo, hi)
    if problem:
        throttle.say(out, f"backfill {run.plan.label}: warning: {problem}")


def _run_batch_retrying(
    connection: BaseDatabaseWrapper, run: Run, update: Update, out: TextIO
) -> tuple[int, float]:
    """One batch; on a lock timeout, a deadlock or a cancel (over the blocking budget), wait
    and retry it (it rolled back, nothing is lost), a cancelled one at half the size.
    Returns (keys visited, seconds of the successful attempt)."""
    for number, delay in enumerate([*run.plan.retry_delays_s, None], start=1):
        began = time.monotonic()
        try:
            return _run_batch(connection, run, update, out), time.monotonic() - began
        except OperationalError as exc:
            state = retry.sqlstate(exc)
            if not (retry.is_lock_failure(exc) or retry.is_cancel(exc)):
                raise
            if delay is None:
                raise LockTimeoutExhausted(
                    messages.gave_up(run.plan, run.progress.last_pk, number, state)
                ) from exc
            why = messages.retry_reason(run.plan, run.size, state, time.monotonic() - began)
            if state == retry.QUERY_CANCELED:
                run.size = max(run.size // 2, 1)
            throttle.say(
                out,
                f"backfill {run.plan.label}: {why}, retry {number}/"
                f"{len(run.plan.retry_delays_s)} in {delay:.2f}s",
            )
            _pause(run, why, delay)
    raise AssertionError("unreachable")


def _pause(run: Run, why: str, seconds: float) -> None:
    events.emit("pause", key=run.plan.key, reason=why)
    time.sleep(seconds)
    run.paused_s += seconds
    events.emit("resume", key=run.plan.key, reason=why, seconds=seconds)


def _throttle(connection: BaseDatabaseWrapper, run: Run, out: TextIO) -> None:
    """Wait while a throttle says so; take a new batch target asked for meanwhile. The
    first question uses the controls the last batch read; later ones read the ledger."""
    asked: list[bool] = []

    def ask() -> str | None:
        with connection.cursor() as cursor:
            if asked:
                run.controls = ledger.read_controls(cursor, run.progress)
            asked.append(True)
            return throttle.reason(cursor, run.plan.throttle, run.controls.pause)

    run.paused_s += throttle.wait_while(ask, run.plan.key, out, time.sleep)
    target = run.controls.target_ms
    if target and target != run.target_ms:
        throttle.say(out, f"backfill {run.plan.label}: batch target now {target} ms")
        run.target_ms = target


def _aim(run: Run, out: TextIO) -> int:
    """The next batch's time target: shorter while live sessions wait on batches (they wait
    until the batch commits, and its commit flushes less WAL ahead of theirs)."""
    plan, now = run.plan, time.monotonic()
    if run.waiters and now >= run.contended_until:
        throttle.say(
            out,
            f"backfill {plan.label}: {run.waiters} live session(s) waited on a batch's row "
            f"locks: batches aim at {min(plan.contended_ms, run.target_ms)} ms "
            f"(ZDT_BACKFILL_CONTENDED_TARGET_MS) until none has for {CONTENDED_HOLD_S:.0f} s",
        )
    run.contended_until = contended_until(now, run.waiters, run.contended_until)
    return batch_aim_ms(now, run.contended_until, run.target_ms, plan.contended_ms)


def _said(run: Run, keys: int, seconds: float, out: TextIO) -> None:
    """The ``batch`` event, and a progress line at most every SAY_EVERY_S."""
    plan, total = run.plan, run.total
    events.emit(
        "batch",
        key=plan.key,
        label=plan.label,
        rows=keys,
        done=run.visited,
        total=total,
        seconds=seconds,
        batch_size=run.size,
        updated=run.updated,
        waiters=run.waiters,
        target_ms=run.aim_ms if plan.adaptive else None,
    )
    now = time.monotonic()
    if events.messages_printed():  # safemigrate's progress line shows it
        return
    if now - run.said_at < SAY_EVERY_S and run.progress.last_pk != run.progress.max_pk:
        return
    run.said_at = now
    rate = run.rate()
    left = f", ETA {max((total or 0) - run.visited, 0) / rate:.0f} s" if rate and total else ""
    share = f" of {total:,}" if total is not None else ""
    throttle.say(
        out,
        f"backfill {plan.label}: {run.visited:,}{share} rows, {rate:,.0f} rows/s, "
        f"batch {run.size:,}{left} ({plan.pk_column} up to {run.progress.last_pk})",
    )


def run_backfill(
    connection: BaseDatabaseWrapper,
    plan: BackfillPlan,
    update_batch: Update,
    out: TextIO | None = None,
) -> int:
    """Run (or resume) the backfill ``plan``; returns the rows updated by this run."""
    out = out or sys.stdout
    progress = _start(connection, plan)
    run = Run(plan, progress, plan.batch_size, plan.target_ms, aim_ms=plan.target_ms)
    if progress.finished or progress.max_pk is None:
        _finish(connection, run, update_batch)
        throttle.say(out, f"backfill {plan.label}: nothing to do")
        return 0
    if progress.last_pk is not None:
        throttle.say(
            out, f"backfill {plan.label}: resuming after {plan.pk_column}={progress.last_pk}"
        )
    run.total = _count(connection, run)
    run.started = run.said_at = time.monotonic()
    while progress.last_pk != progress.max_pk:  # equality: no Python ordering of keys
        _throttle(connection, run, out)
        keys, seconds = _run_batch_retrying(connection, run, update_batch, out)
        _said(run, keys, seconds, out)
        if plan.adaptive:
            run.aim_ms = _aim(run, out)
            run.size = next_batch_size(run.size, keys, seconds, run.aim_ms / 1000, plan.max_batch)
        if plan.pause_s:
            time.sleep(plan.pause_s)
    _finish(connection, run, update_batch)
    throttle.say(
        out,
        f"backfill {plan.label}: done, {run.updated:,} rows updated in "
        f"{time.monotonic() - run.started:.1f} s",
    )
    return run.updated


def _finish(connection: BaseDatabaseWrapper, run: Run, update: Update) -> None:
    with connection.cursor() as cursor:
        ledger.finish(cursor, run.progress)
        if isinstance(update, BatchSql):
            update.deallocate(cursor)
