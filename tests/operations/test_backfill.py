"""Batched backfill: batches commit one by one, resume after SIGKILL, stop at the start's max."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.test import override_settings

from django_zero_downtime import events
from django_zero_downtime.exceptions import LockTimeoutExhausted, UnsafeOperationError
from django_zero_downtime.models import BackfillProgress
from django_zero_downtime.operations import BatchedBackfill
from django_zero_downtime.operations import batches as backfill
from tests.operations.conftest import Lab, person_fields

ROOT = Path(__file__).resolve().parents[2]
TABLE = "zdtlab_counter"


@pytest.fixture
def counters(lab: Lab) -> Iterator[Lab]:
    lab.create(
        "Counter",
        [
            ("id", models.BigAutoField(primary_key=True)),
            ("val", models.IntegerField(null=True)),
            ("touched", models.IntegerField(default=0)),
        ],
    )
    lab.sql(f"INSERT INTO {TABLE} (touched) SELECT 0 FROM generate_series(1, 200)")
    yield lab


def worker_env() -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}


@pytest.mark.slow
def test_sigkill_mid_batch_then_rerun_finishes_every_row_exactly_once(counters: Lab) -> None:
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.operations.backfill_worker", TABLE, "kill-test", "7"],
        cwd=ROOT,
        env=worker_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    for line in worker.stdout:
        if line.strip() == "holding":
            break
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    progress = BackfillProgress.objects.get(key="kill-test")
    assert (progress.last_pk, progress.rows_done, progress.finished_at) == (60, 60, None)
    counters.sql(f"INSERT INTO {TABLE} (touched) SELECT 0 FROM generate_series(1, 5)")

    rerun = backfill.make_plan("kill-test", TABLE, "id", batch_size=10, pause_s=0)
    out = io.StringIO()
    done = backfill.run_backfill(connection, rerun, set_double, out)

    assert done == 140
    assert "resuming after id=60" in out.getvalue()
    assert counters.sql(f"SELECT count(*) FROM {TABLE} WHERE id <= 200 AND touched = 1") == [(200,)]
    assert counters.sql(f"SELECT count(*) FROM {TABLE} WHERE val = id * 2") == [(200,)]
    assert counters.sql(f"SELECT count(*) FROM {TABLE} WHERE id > 200 AND touched = 0") == [(5,)]
    assert BackfillProgress.objects.get(key="kill-test").finished_at is not None


def set_double(cursor: Any, after: Any, upto: Any) -> int:
    where, params = backfill.range_condition("id", after, upto)
    cursor.execute(f"UPDATE {TABLE} SET val = id * 2, touched = touched + 1 WHERE {where}", params)
    return int(cursor.rowcount)


def test_rows_inserted_while_running_are_not_visited(counters: Lab) -> None:
    def insert_then_update(cursor: Any, after: Any, upto: Any) -> int:
        cursor.execute(f"INSERT INTO {TABLE} (touched) VALUES (0)")
        return set_double(cursor, after, upto)

    plan = backfill.make_plan("growing", TABLE, "id", batch_size=50, pause_s=0)
    assert backfill.run_backfill(connection, plan, insert_then_update, io.StringIO()) == 200
    assert counters.sql(f"SELECT count(*) FROM {TABLE} WHERE touched = 0") == [(4,)]


def test_batched_backfill_operation_with_expressions(counters: Lab) -> None:
    counters.sql(f"UPDATE {TABLE} SET val = 5 WHERE id % 2 = 0")
    operation = BatchedBackfill(
        "Counter",
        {"val": F("id") + 1000, "touched": F("touched") + 1},
        where=Q(val__isnull=True),
        batch_size=30,
    )
    counters.apply(operation, atomic=False)
    assert counters.sql(f"SELECT count(*) FROM {TABLE} WHERE val = id + 1000") == [(100,)]
    assert counters.sql(f"SELECT count(*) FROM {TABLE} WHERE val = 5 AND touched = 0") == [(100,)]
    progress = BackfillProgress.objects.get(key=operation.progress_key("zdtlab"))
    assert progress.rows_done == 100 and progress.max_pk == 200


@override_settings(ZDT_BACKFILL_BATCH_SIZE=40, ZDT_BACKFILL_PAUSE_S=0)
def test_batch_size_comes_from_settings(counters: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    batches: list[events.Event] = []
    with events.listening(lambda event: batches.append(event) if event.kind == "batch" else None):
        counters.apply(BatchedBackfill("Counter", {"touched": 1}), atomic=False)
    assert [event.data["rows"] for event in batches] == [40] * 5
    assert [event.data["done"] for event in batches] == [40, 80, 120, 160, 200]
    assert {event.data["total"] for event in batches} == {200}
    assert "done, 200 rows updated" in capsys.readouterr().out


def test_refused_inside_an_atomic_migration(counters: Lab) -> None:
    with pytest.raises(UnsafeOperationError, match="atomic = False"):
        counters.apply(BatchedBackfill("Counter", {"touched": 9}), atomic=True)
    assert counters.sql(f"SELECT count(*) FROM {TABLE} WHERE touched = 9") == [(0,)]


def test_unapply_forgets_progress_so_reapply_runs_again(lab: Lab) -> None:
    Person = lab.create("Person", person_fields())
    Person.objects.create(first_name="a", last_name="b")
    operation = BatchedBackfill("Person", {"first_name": F("last_name")})
    lab.apply(operation, atomic=False)
    lab.unapply(operation)
    assert not BackfillProgress.objects.exists()
    lab.sql("UPDATE zdtlab_person SET first_name = 'again'")
    lab.apply(operation, atomic=False)
    assert lab.sql("SELECT first_name FROM zdtlab_person") == [("b",)]


def test_empty_table_finishes_at_once(lab: Lab) -> None:
    lab.create("Person", person_fields())
    lab.apply(BatchedBackfill("Person", {"first_name": "x"}), atomic=False)
    assert BackfillProgress.objects.get().finished_at is not None


def test_uuid_primary_keys(lab: Lab) -> None:
    Token = lab.create(
        "Token",
        [
            ("id", models.UUIDField(primary_key=True, default=uuid.uuid4)),
            ("n", models.IntegerField(null=True)),
        ],
    )
    Token.objects.bulk_create(Token() for _ in range(23))
    lab.apply(BatchedBackfill("Token", {"n": 1}, batch_size=5), atomic=False)
    assert lab.sql("SELECT count(*) FROM zdtlab_token WHERE n = 1") == [(23,)]
    assert BackfillProgress.objects.get().rows_done == 23


class RowLockHolder(threading.Thread):
    """Holds a row lock in its own connection until ``release`` is set."""

    def __init__(self, pk: int) -> None:
        super().__init__()
        self.pk, self.locked, self.release = pk, threading.Event(), threading.Event()

    def run(self) -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SELECT id FROM {TABLE} WHERE id = %s FOR UPDATE", [self.pk])
                self.locked.set()
                self.release.wait(timeout=60)
        finally:
            self.locked.set()
            connection.close()


class ReleaseOnRetry(io.StringIO):
    """Output stream that ends the lock holder's transaction when the backfill announces
    its first retry (and waits for it, so the retry finds the row free)."""

    def __init__(self, holder: RowLockHolder) -> None:
        super().__init__()
        self.holder = holder

    def write(self, text: str) -> int:
        if "retry 1/" in text:
            self.holder.release.set()
            self.holder.join()
        return super().write(text)


@override_settings(ZDT_LOCK_TIMEOUT_MS=50, ZDT_MAX_RETRIES=0)
def test_locked_rows_make_the_batch_give_up_with_a_message(counters: Lab) -> None:
    holder = RowLockHolder(pk=35)
    holder.start()
    holder.locked.wait()
    plan = backfill.make_plan("locked", TABLE, "id", batch_size=30, pause_s=0)
    try:
        with pytest.raises(LockTimeoutExhausted, match=r"after id=30 of table zdtlab_counter"):
            backfill.run_backfill(connection, plan, set_double, io.StringIO())
    finally:
        holder.release.set()
        holder.join()
    progress = BackfillProgress.objects.get(key="locked")
    assert (progress.last_pk, progress.rows_done) == (30, 30)
    assert counters.sql(f"SELECT count(*) FROM {TABLE} WHERE touched = 1") == [(30,)]


@override_settings(ZDT_LOCK_TIMEOUT_MS=50, ZDT_MAX_RETRIES=3, ZDT_RETRY_BACKOFF_MS=10)
def test_a_batch_retries_after_a_lock_timeout_and_finishes(counters: Lab) -> None:
    holder = RowLockHolder(pk=35)
    holder.start()
    holder.locked.wait()
    out = ReleaseOnRetry(holder)
    plan = backfill.make_plan("retried", TABLE, "id", batch_size=30, pause_s=0)
    try:
        assert backfill.run_backfill(connection, plan, set_double, out) == 200
    finally:
        holder.release.set()
        holder.join()
    assert "rows locked by another transaction, retry 1/3" in out.getvalue()
    assert counters.sql(f"SELECT count(*) FROM {TABLE} WHERE touched = 1") == [(200,)]


class DeadlockPartner(threading.Thread):
    """Locks row ``held``, waits until the backfill's batch waits for it, then updates
    ``wanted`` (a row the batch has already updated): a real deadlock, which PostgreSQL
    resolves by cancelling the batch (it checks first: its ``deadlock_timeout`` is shorter)."""

    def __init__(self, held: int, wanted: int) -> None:
        super().__init__()
        self.held, self.wanted, self.locked = held, wanted, threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL deadlock_timeout = '60s'")
                cursor.execute(f"UPDATE {TABLE} SET touched = touched WHERE id = %s", [self.held])
                self.locked.set()
                self._wait_for_the_batch(cursor)
                cursor.execute(f"UPDATE {TABLE} SET touched = touched WHERE id = %s", [self.wanted])
        except BaseException as exc:
            self.error = exc
        finally:
            self.locked.set()
            connection.close()

    def _wait_for_the_batch(self, cursor: Any) -> None:
        """Until another session waits for a lock we hold (a state we cannot subscribe to)."""
        for _ in range(2000):
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()"
                " AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.005)
        raise AssertionError("the batch never waited for the partner's row")


@override_settings(ZDT_LOCK_TIMEOUT_MS=20_000, ZDT_MAX_RETRIES=3, ZDT_RETRY_BACKOFF_MS=10)
def test_a_batch_chosen_as_deadlock_victim_is_retried_and_finishes(counters: Lab) -> None:
    """SQLSTATE 40P01 is a lock failure for the batch engine too (the shared retry module)."""
    partner = DeadlockPartner(held=35, wanted=31)
    partner.start()
    partner.locked.wait()
    out = io.StringIO()
    plan = backfill.make_plan("deadlocked", TABLE, "id", batch_size=30, pause_s=0)
    with connection.cursor() as cursor:
        cursor.execute("SET deadlock_timeout = '300ms'")
    try:
        assert backfill.run_backfill(connection, plan, set_double, out) == 200
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET deadlock_timeout")
        partner.join()
    assert partner.error is None
    assert "deadlock with another transaction, retry 1/3" in out.getvalue()
    assert counters.sql(f"SELECT count(*) FROM {TABLE} WHERE touched = 1") == [(200,)]
