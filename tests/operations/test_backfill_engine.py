"""The backfill engine: adaptive sizes, the prepared UPDATE and its plan, throttling and
the controls another shell sets (``manage.py backfill``), on a real PostgreSQL."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, connections, models
from django.db.models import F
from django.test import override_settings

from django_zero_downtime import events
from django_zero_downtime.models import BackfillProgress
from django_zero_downtime.operations import BatchedBackfill
from django_zero_downtime.operations import batches as backfill
from django_zero_downtime.operations.batch_sql import BatchSql, skippable_dual_writes
from django_zero_downtime.operations.triggers import DualWriteTrigger
from tests.operations.conftest import Lab

TABLE = "zdtlab_counter"
DOUBLE = f'UPDATE {TABLE} SET val = id * 2, touched = touched + 1 WHERE "id" BETWEEN $1 AND $2'


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
    lab.sql(f"INSERT INTO {TABLE} (touched) SELECT 0 FROM generate_series(1, 2000)")
    yield lab


class Recorder:
    """Collects events; ``on`` runs a callback once for the first event of a kind."""

    def __init__(self) -> None:
        self.events: list[events.Event] = []
        self.hooks: dict[str, Any] = {}

    def __call__(self, event: events.Event) -> None:
        self.events.append(event)
        hook = self.hooks.pop(event.kind, None)
        if hook:
            hook(event)

    def kinds(self, kind: str) -> list[events.Event]:
        return [event for event in self.events if event.kind == kind]


def in_other_thread(work: Any) -> threading.Thread:
    """Run ``work`` on another thread (its own database connection), as another shell would."""

    def run() -> None:
        try:
            work()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def exactly_once(lab: Lab) -> None:
    assert lab.sql(f"SELECT count(*) FROM {TABLE} WHERE touched = 1 AND val = id * 2") == [(2000,)]


@pytest.mark.parametrize(
    ("size", "rows", "seconds", "expected"),
    [
        (1000, 1000, 0.05, 2000),  # fast: at most doubles
        (1000, 1000, 0.16, 1250),  # close to target: aims at it
        (1000, 1000, 2.0, 500),  # slow: at most halves
        (1000, 400, 0.01, 1000),  # a short last batch says nothing
        (80_000, 80_000, 0.01, 100_000),  # bounded above
        (150, 150, 10.0, 100),  # bounded below
    ],
)
def test_next_batch_size(size: int, rows: int, seconds: float, expected: int) -> None:
    assert backfill.next_batch_size(size, rows, seconds, 0.2, 100_000) == expected


def test_defaults_adapt_the_batch_size_and_report_progress(counters: Lab) -> None:
    recorder = Recorder()
    with events.listening(recorder):
        counters.apply(BatchedBackfill("Counter", {"val": F("id") * 2, "touched": 1}), False)
    batches = recorder.kinds("batch")
    assert batches[0].data["batch_size"] == 1000 and batches[0].data["total"] == 2000
    assert batches[-1].data["done"] == 2000
    assert sum(event.data["rows"] for event in batches) == 2000
    exactly_once(counters)


def test_the_prepared_update_survives_a_lost_session_statement(counters: Lab) -> None:
    """Behind a pooler the next batch may land on a backend without the statement."""
    recorder = Recorder()
    recorder.hooks["batch"] = lambda event: counters.sql("DEALLOCATE ALL")
    plan = backfill.make_plan("lost", TABLE, "id", batch_size=300, pause_s=0)
    with events.listening(recorder):
        assert backfill.run_backfill(connection, plan, BatchSql(DOUBLE), io.StringIO()) == 2000
    exactly_once(counters)


def test_plan_check_warns_of_a_sequential_scan(lab: Lab, monkeypatch: Any) -> None:
    monkeypatch.setattr(backfill, "PLAN_CHECK_ROWS", 1000)
    lab.sql("CREATE TABLE zdtlab_noindex (id int NOT NULL, val int)")
    lab.tables.add("zdtlab_noindex")
    lab.sql("INSERT INTO zdtlab_noindex SELECT g, 0 FROM generate_series(1, 20000) g")
    lab.sql("ANALYZE zdtlab_noindex")
    update = BatchSql('UPDATE zdtlab_noindex SET val = 1 WHERE "id" BETWEEN $1 AND $2')
    out = io.StringIO()
    plan = backfill.make_plan("noindex", "zdtlab_noindex", "id", batch_size=10_000, pause_s=0)
    backfill.run_backfill(connection, plan, update, out)
    assert "warning: each batch's UPDATE reads all of zdtlab_noindex" in out.getvalue()


def test_plan_check_is_quiet_when_the_primary_key_is_used(counters: Lab, monkeypatch: Any) -> None:
    monkeypatch.setattr(backfill, "PLAN_CHECK_ROWS", 1000)
    counters.sql(f"ANALYZE {TABLE}")
    out = io.StringIO()
    plan = backfill.make_plan("indexed", TABLE, "id", batch_size=100, pause_s=0)
    backfill.run_backfill(connection, plan, BatchSql(DOUBLE), out)
    assert "warning" not in out.getvalue()


def test_pause_and_resume_from_another_shell(counters: Lab) -> None:
    recorder, resumer = Recorder(), []
    key = "steered"

    def pause(event: events.Event) -> None:
        call_command("backfill", "pause", key, stdout=io.StringIO())

    def resume() -> None:
        time.sleep(0.3)  # the run stays paused meanwhile; nothing waits on this sleep
        call_command("backfill", "resume", key, stdout=io.StringIO())

    def resume_later(event: events.Event) -> None:
        resumer.append(in_other_thread(resume))

    recorder.hooks.update(batch=pause, pause=resume_later)
    out = io.StringIO()
    plan = backfill.make_plan(key, TABLE, "id", batch_size=200, pause_s=0)
    with events.listening(recorder):
        backfill.run_backfill(connection, plan, BatchSql(DOUBLE), out)
    resumer[0].join()
    (paused,) = recorder.kinds("pause")
    (resumed,) = recorder.kinds("resume")
    assert "manage.py backfill pause" in paused.data["reason"]
    assert resumed.data["seconds"] >= 0.3
    assert "paused: paused with `manage.py backfill pause`" in out.getvalue()
    assert "resumed after" in out.getvalue()
    exactly_once(counters)
    assert not BackfillProgress.objects.get(key=key).pause_requested


def test_batch_target_changed_from_another_shell(counters: Lab) -> None:
    recorder = Recorder()
    recorder.hooks["batch"] = lambda event: call_command(
        "backfill", "target", "retarget", "50", stdout=io.StringIO()
    )
    out = io.StringIO()
    with override_settings(ZDT_BACKFILL_MAX_BATCH_SIZE=300):
        plan = backfill.make_plan("retarget", TABLE, "id", batch_size=None, pause_s=0)
    with events.listening(recorder):
        backfill.run_backfill(connection, plan, BatchSql(DOUBLE), out)
    assert "batch target now 50 ms" in out.getvalue()
    status = io.StringIO()
    call_command("backfill", "status", stdout=status)
    assert "retarget: done, 2,000 rows updated of 2,000" in status.getvalue()
    assert "target 50 ms" in status.getvalue()


def test_unknown_key_is_refused_with_the_known_ones(counters: Lab) -> None:
    from django.core.management.base import CommandError

    BackfillProgress.objects.create(key="real", table=TABLE)
    with pytest.raises(CommandError, match=r"No backfill with key 'typo'.*known: real"):
        call_command("backfill", "pause", "typo")


def test_the_projects_throttle_query_pauses_until_it_turns_false(counters: Lab) -> None:
    counters.sql("CREATE TABLE zdtlab_busy (busy boolean)")
    counters.tables.add("zdtlab_busy")
    counters.sql("INSERT INTO zdtlab_busy VALUES (false)")
    recorder = Recorder()
    recorder.hooks["batch"] = lambda event: counters.sql("UPDATE zdtlab_busy SET busy = true")
    threads: list[threading.Thread] = []

    def calm() -> None:
        time.sleep(0.3)  # the run stays paused meanwhile; nothing waits on this sleep
        counters.sql("UPDATE zdtlab_busy SET busy = false")

    def calm_down(event: events.Event) -> None:
        threads.append(in_other_thread(calm))

    recorder.hooks["pause"] = calm_down
    with override_settings(ZDT_BACKFILL_THROTTLE_SQL="SELECT busy FROM zdtlab_busy"):
        plan = backfill.make_plan("throttled", TABLE, "id", batch_size=500, pause_s=0)
    out = io.StringIO()
    with events.listening(recorder):
        backfill.run_backfill(connection, plan, BatchSql(DOUBLE), out)
    threads[0].join()
    (resumed,) = recorder.kinds("resume")
    assert resumed.data["reason"] == "ZDT_BACKFILL_THROTTLE_SQL returned true"
    assert resumed.data["seconds"] >= 0.3
    exactly_once(counters)


@override_settings(ZDT_MAX_BLOCKING_MS=100, ZDT_MAX_RETRIES=3, ZDT_RETRY_BACKOFF_MS=10)
def test_a_batch_over_the_blocking_budget_is_rolled_back_halved_and_retried(
    counters: Lab,
) -> None:
    calls: list[int] = []

    def slow_first(cursor: Any, after: Any, upto: Any) -> int:
        calls.append(upto)
        if len(calls) == 1:
            cursor.execute("SELECT pg_sleep(1)")  # holds the batch's row locks too long
        where, params = backfill.range_condition("id", after, upto)
        cursor.execute(
            f"UPDATE {TABLE} SET val = id * 2, touched = touched + 1 WHERE {where}", params
        )
        return int(cursor.rowcount)

    recorder, out = Recorder(), io.StringIO()
    plan = backfill.make_plan("budget", TABLE, "id", batch_size=400, pause_s=0)
    with events.listening(recorder):
        backfill.run_backfill(connection, plan, slow_first, out)
    assert calls[:2] == [400, 200]
    assert "batch cancelled after" in out.getvalue() and "next batch 200 rows" in out.getvalue()
    assert "over the blocking budget" in recorder.kinds("pause")[0].data["reason"]
    exactly_once(counters)


def test_unrelated_dual_write_triggers_may_be_skipped(lab: Lab) -> None:
    lab.sql("CREATE TABLE zdtlab_dw (id bigserial PRIMARY KEY, a int, c int, other int)")
    lab.tables.add("zdtlab_dw")
    trigger = DualWriteTrigger(table="zdtlab_dw", old_column="a", new_column="c")
    lab.sql(trigger.install_sql)
    assert skippable_dual_writes(connection, "zdtlab_dw", ["other"]) == (trigger.get_pgid(),)
    assert skippable_dual_writes(connection, "zdtlab_dw", ["other", "c"]) == ()
    assert skippable_dual_writes(connection, "zdtlab_dw", ["a"]) == ()


class Capture:
    """A cursor that keeps the statements it runs (for EXPLAIN)."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.statements: list[tuple[str, list[Any]]] = []

    def execute(self, sql: str, params: list[Any]) -> None:
        self.statements.append((sql, params))
        self.cursor.execute(sql, params)

    def fetchone(self) -> Any:
        return self.cursor.fetchone()


@pytest.mark.parametrize("after", [None, 400])
def test_the_bounds_query_is_an_index_scan_on_a_never_analysed_table(
    counters: Lab, after: int | None
) -> None:
    counters.sql(f"ALTER TABLE {TABLE} SET (autovacuum_enabled = false)")
    counters.sql(f"INSERT INTO {TABLE} (touched) SELECT 0 FROM generate_series(1, 98000)")
    plan = backfill.make_plan("k", TABLE, "id", 50_000, 0)
    progress = backfill.ledger.Progress(0, after, 100_000, 0, False, False)
    run = backfill.Run(plan, progress, 50_000, 200)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [TABLE])
        assert cursor.fetchone()[0] < 0  # never analysed
        capture = Capture(cursor)
        first = after + 1 if after else 1
        assert backfill._bounds(capture, run) == (first, first + 49_999, 50_000)
        sql, params = capture.statements[0]
        cursor.execute("EXPLAIN " + sql, params)
        shown = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan" in shown or "Index Scan" in shown, shown
    assert "Sort" not in shown and "Bitmap" not in shown, shown


@pytest.mark.parametrize(
    ("now", "waiters", "until", "expected_until", "aim"),
    [
        (100.0, 0, 0.0, 0.0, 200),  # nobody waits: the full target
        (100.0, 2, 0.0, 130.0, 50),  # sessions wait: short batches for the hold time
        (120.0, 0, 130.0, 130.0, 50),  # within the hold: still short
        (131.0, 0, 130.0, 130.0, 200),  # the hold is over: back to the target
        (120.0, 1, 130.0, 150.0, 50),  # seen again: the hold starts over
    ],
)
def test_batches_stay_short_while_live_sessions_wait_on_them(
    now: float, waiters: int, until: float, expected_until: float, aim: int
) -> None:
    assert backfill.contended_until(now, waiters, until) == expected_until
    assert backfill.batch_aim_ms(now, expected_until, 200, 50) == aim


def test_the_contended_target_never_exceeds_the_target() -> None:
    assert backfill.batch_aim_ms(1.0, 2.0, 30, 50) == 30


@override_settings(ZDT_BACKFILL_MAX_BATCH_SIZE=300)
def test_a_session_waiting_on_a_batch_shortens_the_next_batches(counters: Lab) -> None:
    """A real writer blocks on a row of the second batch; the batch sees it waiting when it
    records itself, and the batches after it aim at the contended target."""
    calls: list[int] = []

    def blocking_second(cursor: Any, after: Any, upto: Any) -> int:
        where, params = backfill.range_condition("id", after, upto)
        cursor.execute(
            f"UPDATE {TABLE} SET val = id * 2, touched = touched + 1 WHERE {where}", params
        )
        calls.append(cursor.rowcount)
        if len(calls) == 2:
            writer = in_other_thread(
                lambda: counters.sql(f"UPDATE {TABLE} SET val = val WHERE id = %s", [upto])
            )
            wait_until_blocked(cursor)
            writers.append(writer)
        return int(cursor.rowcount)

    writers: list[threading.Thread] = []
    recorder, out = Recorder(), io.StringIO()
    plan = backfill.make_plan("contended", TABLE, "id", batch_size=None, pause_s=0)
    with events.listening(recorder):
        backfill.run_backfill(connection, plan, blocking_second, out)
    writers[0].join(timeout=10)
    first, second, *rest = recorder.kinds("batch")
    assert (first.data["waiters"], second.data["waiters"]) == (0, 1)
    assert second.data["target_ms"] == 200 and rest and rest[0].data["target_ms"] == 50
    assert "1 live session(s) waited on a batch's row locks: batches aim at 50 ms" in (
        out.getvalue()
    )
    assert counters.sql(f"SELECT count(*) FROM {TABLE} WHERE touched = 1") == [(2000,)]


def wait_until_blocked(cursor: Any) -> None:
    """Until another session waits on this transaction (a lock wait, not a sleep)."""
    for _ in range(500):
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted "
            "AND transactionid = pg_current_xact_id()::xid"
        )
        if cursor.fetchone()[0]:
            return
        cursor.execute("SELECT pg_sleep(0.01)")
    raise AssertionError("the writer never waited on the batch")
