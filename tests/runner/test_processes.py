"""Acceptance with real safemigrate subprocesses: one run at a time; SIGKILL during a
concurrent index build, then a rerun."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from tests.runner.conftest import (
    ADD_NOTE,
    CREATE_ITEM,
    MigrationsPackage,
    applied,
    connect,
    fill,
    migration,
    safemigrate,
    start_safemigrate,
)
from tests.runner.traffic import Holder

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def wait_for(condition: Callable[[Any], Any], what: str, deadline_s: float = 30.0) -> Any:
    """Wait until the database shows ``condition`` (a state change we cannot subscribe to)."""
    monitor = connect("zdt-test-observer")
    try:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            value = condition(monitor)
            if value:
                return value
            time.sleep(0.05)
    finally:
        monitor.close()
    raise AssertionError(f"timed out waiting for {what}")


def advisory_lock_sessions(granted: bool) -> Callable[[Any], int]:
    def count(conn: Any) -> int:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.granted = %s "
            "AND a.application_name = 'zdt-safemigrate-lock' AND a.datname = current_database()",
            [granted],
        ).fetchone()
        return int(row[0])

    return count


def lock_sessions(count: int) -> Callable[[Any], bool]:
    """``count`` run-lock sessions exist (the holder and runs polling for the lock)."""

    def seen(conn: Any) -> bool:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
            "'zdt-safemigrate-lock' AND datname = current_database()"
        ).fetchone()
        return int(row[0]) == count

    return seen


def test_two_runs_at_once_exactly_one_applies(rapp: MigrationsPackage) -> None:
    rapp.write(**{"0001_item": CREATE_ITEM})
    assert safemigrate("rapp").code == 0
    fill("rapp_item", 10)
    rapp.write(**{"0002_note": ADD_NOTE})
    with Holder(connect, "rapp_item") as holder:  # keeps the first run retrying
        first = start_safemigrate(rapp, "rapp", "--lock-timeout", "100", "--max-retries", "100")
        wait_for(advisory_lock_sessions(granted=True), "the first run to take the run lock")
        refused = start_safemigrate(rapp, "rapp", "--no-wait")
        _, refused_err = refused.communicate(timeout=60)
        waiting = start_safemigrate(rapp, "rapp")
        wait_for(lock_sessions(2), "the third run to poll for the lock")
        holder.commit()
        first_out, first_err = first.communicate(timeout=60)
        waiting_out, waiting_err = waiting.communicate(timeout=60)
    assert refused.returncode == 3
    assert "Another safemigrate run is applying migrations" in refused_err
    assert "--no-wait" in refused_err
    assert first.returncode == 0, first_err
    assert "Applying rapp.0002_note" in first_out
    assert waiting.returncode == 0, waiting_err
    assert "Waiting for another safemigrate run" in waiting_out
    assert "No migrations to apply." in waiting_out
    assert "Applying" not in waiting_out
    assert applied() == ["0001_item", "0002_note"]  # each recorded exactly once


SLOW_FUNCTION = """
CREATE FUNCTION rapp_slow(i integer) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN PERFORM pg_sleep(0.005); RETURN i; END $$;
"""

CREATE_ITEM_AND_SLOW_FUNCTION = CREATE_ITEM.replace(
    "    ]\n", f"        migrations.RunSQL({SLOW_FUNCTION!r}, 'DROP FUNCTION rapp_slow'),\n    ]\n"
)

SLOW_INDEX = migration(
    ["0001_item"],
    """        AddIndexConcurrently(
            "item",
            models.Index(
                models.Func(models.F("n"), function="rapp_slow",
                            output_field=models.IntegerField()),
                name="rapp_item_slow_idx",
            ),
        ),""",
    atomic=False,
).replace("\n\n\n", "\nfrom django.contrib.postgres.operations import AddIndexConcurrently\n\n\n")


def building_index(conn: Any) -> int | None:
    row = conn.execute(
        "SELECT p.pid FROM pg_stat_progress_create_index p JOIN pg_stat_activity a USING (pid) "
        "WHERE a.application_name = 'zdt-safemigrate' AND p.phase LIKE 'building index%%' "
        "AND a.datname = current_database()"  # the server is shared: not another suite's run
    ).fetchone()
    return row[0] if row else None


def invalid_indexes() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text FROM pg_index "
            "WHERE indrelid = 'rapp_item'::regclass AND NOT indisvalid"
        )
        return [row[0] for row in cursor.fetchall()]


def test_sigkill_during_concurrent_index_build_then_rerun(rapp: MigrationsPackage) -> None:
    rapp.write(**{"0001_item": CREATE_ITEM_AND_SLOW_FUNCTION})
    assert safemigrate("rapp").code == 0
    fill("rapp_item", 400)  # 400 rows x 5 ms: a build of about 2 s
    rapp.write(**{"0002_slow_index": SLOW_INDEX})
    runner = start_safemigrate(rapp, "rapp")
    backend = wait_for(building_index, "the concurrent index build to start")
    runner.send_signal(signal.SIGKILL)
    runner.wait(timeout=30)

    def backend_gone(conn: Any) -> bool:
        return conn.execute("SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s)",
                            [backend]).fetchone()[0]  # fmt: skip

    wait_for(backend_gone, "PostgreSQL to stop the killed run's statement")
    assert invalid_indexes() == ["rapp_item_slow_idx"]  # what the killed build left
    assert applied() == ["0001_item"]

    result = safemigrate("rapp")
    assert result.code == 0, result.err
    assert "dropping INVALID index rapp_item_slow_idx" in result.out
    assert invalid_indexes() == []
    assert applied() == ["0001_item", "0002_slow_index"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('rapp_item_slow_idx') IS NOT NULL")
        assert cursor.fetchone()[0]
