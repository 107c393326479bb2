"""One run at a time, for real (issue 15): real safemigrate subprocesses, concurrent runs,
a waiting run beside a concurrent index build, lock sessions that die, idle-session timeouts,
and a real PgBouncer in transaction and session mode."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.runner.conftest import (
    CREATE_ITEM,
    MigrationsPackage,
    applied,
    connect,
    database_url,
    fill,
    migration,
    safemigrate,
    start_safemigrate,
)
from tests.runner.servers import Cluster, PgBouncer, have_pgbouncer
from tests.runner.test_processes import (
    CREATE_ITEM_AND_SLOW_FUNCTION,
    SLOW_INDEX,
    building_index,
    lock_sessions,
    wait_for,
)
from tests.runner.traffic import Holder

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ADD_FLAG = migration(
    ["0002_slow_index"],
    '        migrations.AddField("item", "flag", models.BooleanField(null=True)),',
)
needs_pgbouncer = pytest.mark.skipif(not have_pgbouncer(), reason="pgbouncer is not installed")
LONG = os.environ.get("ZDT_LONG") == "1"
SHORT_MATRIX = [(2, False), (5, True)]
"""Runs x --no-wait through PgBouncer by default; ZDT_LONG=1 runs all four."""
POOLED_MATRIX = [(c, w) for c in (2, 5) for w in (False, True)] if LONG else SHORT_MATRIX


def finish(runs: list[subprocess.Popen[str]], timeout: float = 120) -> list[tuple[int, str, str]]:
    """Every run's (exit code, stdout, stderr); a run still going after ``timeout`` froze."""
    results = []
    for run in runs:
        out, err = run.communicate(timeout=timeout)
        results.append((run.returncode, out, err))
    return results


def assert_clear(results: list[tuple[int, str, str]]) -> None:
    for code, out, err in results:
        assert "Traceback" not in out + err, err
        assert code in (0, 3), (code, out, err)


@pytest.fixture
def slow_plan(rapp: MigrationsPackage) -> MigrationsPackage:
    """0001 applied with 300 rows; 0002 a concurrent index of ~1.5 s, 0003 atomic, pending."""
    rapp.write(**{"0001_item": CREATE_ITEM_AND_SLOW_FUNCTION})
    assert safemigrate("rapp").code == 0
    fill("rapp_item", 300)
    rapp.write(**{"0002_slow_index": SLOW_INDEX, "0003_flag": ADD_FLAG})
    return rapp


GATE_KEY = 715_015
GATED_FUNCTION = f"""
CREATE FUNCTION rapp_gated(i integer) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN PERFORM pg_advisory_lock_shared({GATE_KEY}); PERFORM pg_advisory_unlock_shared({GATE_KEY});
RETURN i; END $$;
"""
GATED_INDEX = SLOW_INDEX.replace("rapp_slow", "rapp_gated").replace("slow_idx", "gated_idx")


@pytest.fixture
def gated_plan(rapp: MigrationsPackage) -> Iterator[MigrationsPackage]:
    """0002 builds an index concurrently whose build waits while the test holds the gate."""
    create = CREATE_ITEM.replace(
        "    ]\n",
        f"        migrations.RunSQL({GATED_FUNCTION!r}, 'DROP FUNCTION rapp_gated'),\n    ]\n",
    )
    rapp.write(**{"0001_item": create})
    assert safemigrate("rapp").code == 0
    fill("rapp_item", 10)
    rapp.write(**{"0002_slow_index": GATED_INDEX, "0003_flag": ADD_FLAG})
    yield rapp
    with connect() as conn:
        conn.execute("DROP TABLE IF EXISTS rapp_item; DROP FUNCTION IF EXISTS rapp_gated")


def test_waiting_run_does_not_freeze_a_concurrent_index_build(
    gated_plan: MigrationsPackage,
) -> None:
    with connect("zdt-test-gate") as gate:
        gate.execute("SELECT pg_advisory_lock(%s)", [GATE_KEY])
        first = start_safemigrate(gated_plan, "rapp")
        wait_for(building_index, "the first run's concurrent index build")
        second = start_safemigrate(gated_plan, "rapp")
        wait_for(lock_sessions(2), "the second run to poll for the run lock")
        gate.execute("SELECT pg_advisory_unlock(%s)", [GATE_KEY])
        released = time.monotonic()
        (code1, _, err1), (code2, out2, err2) = finish([first, second], timeout=60)
    assert code1 == 0, err1
    assert time.monotonic() - released < 30  # a frozen build sat until statement_timeout
    assert "Waiting for another safemigrate run" in out2
    assert code2 == 0, err2
    assert "No migrations to apply." in out2
    assert applied() == ["0001_item", "0002_slow_index", "0003_flag"]


@pytest.mark.parametrize("count", [2, 5])
@pytest.mark.parametrize("no_wait", [False, True], ids=["wait", "no-wait"])
def test_concurrent_runs_apply_each_migration_once(
    slow_plan: MigrationsPackage, count: int, no_wait: bool
) -> None:
    flags = ["--no-wait"] if no_wait else []
    results = finish([start_safemigrate(slow_plan, "rapp", *flags) for _ in range(count)])
    assert_clear(results)
    winners = [out for code, out, _ in results if code == 0 and "Applying rapp.0002" in out]
    assert len(winners) == 1
    for code, out, err in results:
        if code == 3:
            assert no_wait and "Another safemigrate run is applying" in err, err
        elif out not in winners:
            assert "No migrations to apply." in out
    assert applied() == ["0001_item", "0002_slow_index", "0003_flag"]


def _lock_pid(conn: Any) -> int | None:
    row = conn.execute(
        "SELECT pid FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
        "WHERE l.locktype = 'advisory' AND l.granted "
        "AND a.application_name = 'zdt-safemigrate-lock' AND a.datname = current_database()"
    ).fetchone()
    return row[0] if row else None


@pytest.fixture
def blocked_plan(rapp: MigrationsPackage) -> Iterator[tuple[MigrationsPackage, Holder]]:
    """0002 (atomic AddField) pending while a long transaction makes it retry."""
    rapp.write(**{"0001_item": CREATE_ITEM})
    assert safemigrate("rapp").code == 0
    rapp.write(
        **{"0002_flag": ADD_FLAG.replace("0002_slow_index", "0001_item")},
    )
    with Holder(connect, "rapp_item") as holder:
        yield rapp, holder


RETRY_FLAGS = ("--lock-timeout", "100", "--max-retries", "200")


def test_lock_session_terminated_mid_run_the_run_keeps_its_lock(
    blocked_plan: tuple[MigrationsPackage, Holder],
) -> None:
    package, holder = blocked_plan
    run = start_safemigrate(package, "rapp", *RETRY_FLAGS)
    pid = wait_for(_lock_pid, "the run to take the run lock")
    with connect() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    wait_for(lambda conn: (_lock_pid(conn) or pid) != pid, "the run lock to be taken again")
    holder.commit()
    [(code, out, err)] = finish([run])
    assert code == 0, err
    assert "took the run lock again (no other run had it)" in out
    assert applied() == ["0001_item", "0002_flag"]


def test_lock_session_terminated_while_another_run_waits_never_two_apply(
    blocked_plan: tuple[MigrationsPackage, Holder],
) -> None:
    package, holder = blocked_plan
    first = start_safemigrate(package, "rapp", *RETRY_FLAGS)
    pid = wait_for(_lock_pid, "the first run to take the run lock")
    second = start_safemigrate(package, "rapp", *RETRY_FLAGS)
    wait_for(lock_sessions(2), "the second run to poll for the run lock")
    with connect() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    wait_for(lambda conn: (_lock_pid(conn) or pid) != pid, "someone to take the run lock")
    holder.commit()
    results = finish([first, second])
    assert_clear(results)
    (code1, out1, err1), (code2, out2, err2) = results
    if code1 == 0:  # the first run took its lock again: the second found nothing to do
        assert "took the run lock again" in out1
        assert "No migrations to apply." in out2
    else:  # the second run took the lock: the first stopped cleanly, the second applied
        assert "another run took the run lock" in err1
        assert "run safemigrate again" in err1
        assert code2 == 0 and "Applying rapp.0002_flag" in out2, err2
    assert applied() == ["0001_item", "0002_flag"]


def test_idle_session_timeout_does_not_end_a_run_or_a_waiting_run(
    rapp: MigrationsPackage,
) -> None:
    with Cluster(idle_session_timeout="3s") as cluster:
        url = cluster.create_database("zdt")
        rapp.write(**{"0001_item": CREATE_ITEM})
        assert start_safemigrate(rapp, "rapp", url=url).wait(timeout=120) == 0
        rapp.write(**{"0002_flag": ADD_FLAG.replace("0002_slow_index", "0001_item")})

        with Holder(lambda name: psycopg.connect(url, autocommit=True), "rapp_item") as holder:
            first = start_safemigrate(rapp, "rapp", *RETRY_FLAGS, url=url)
            second = start_safemigrate(rapp, "rapp", *RETRY_FLAGS, url=url)
            with psycopg.connect(url, autocommit=True) as watcher:
                _wait_lock_sessions(watcher, 2)
            time.sleep(5)  # the scenario itself: both runs sit idle longer than the timeout
            holder.commit()
            results = finish([first, second])
        assert [code for code, _, _ in results] == [0, 0], results
        outs = [out for _, out, _ in results]
        assert sum("Applying rapp.0002_flag" in out for out in outs) == 1
        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT name FROM django_migrations WHERE app = 'rapp'")
            assert sorted(r[0] for r in rows) == ["0001_item", "0002_flag"]


def _wait_lock_sessions(conn: Any, count: int) -> None:
    end = time.monotonic() + 60
    while time.monotonic() < end:
        if lock_sessions(count)(conn):
            return
        time.sleep(0.05)
    raise AssertionError("the runs did not start")


def _advisory_locks_held(conn: Any) -> int:
    return int(
        conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchone()[0]
    )


@needs_pgbouncer
@pytest.mark.parametrize(("count", "no_wait"), POOLED_MATRIX)
def test_transaction_pooler_is_refused_before_anything_is_locked(
    slow_plan: MigrationsPackage, count: int, no_wait: bool
) -> None:
    database = database_url().rsplit("/", 1)[1]
    with PgBouncer("127.0.0.1", 5432, "transaction") as bouncer:
        flags = ["--no-wait"] if no_wait else []
        url = bouncer.url(database)
        results = finish(
            [start_safemigrate(slow_plan, "rapp", *flags, url=url) for _ in range(count)]
        )
        with connect() as direct:
            named = direct.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = 'zdt-safemigrate'"  # set only once the lock is held
            ).fetchone()
            leaked = named[0] if named else None
            assert _advisory_locks_held(direct) == 0
    for code, out, err in results:
        assert code == 3, (out, err)
        assert "Traceback" not in err
        assert "pool_mode=transaction" in err and "pool_mode=session" in err
        assert "Nothing was locked or applied" in err
    assert leaked == 0
    assert applied() == ["0001_item"]


@needs_pgbouncer
def test_session_pooler_works_one_run_at_a_time(slow_plan: MigrationsPackage) -> None:
    database = database_url().rsplit("/", 1)[1]
    with PgBouncer("127.0.0.1", 5432, "session") as bouncer:
        url = bouncer.url(database)
        results = finish([start_safemigrate(slow_plan, "rapp", url=url) for _ in range(3)])
    assert [code for code, _, _ in results] == [0, 0, 0], results
    assert sum("Applying rapp.0002_slow_index" in out for _, out, _ in results) == 1
    assert applied() == ["0001_item", "0002_slow_index", "0003_flag"]
