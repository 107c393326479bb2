"""Concurrent runs through a real PgBouncer in session mode, with release labels (issue 15).

tests/runner/test_exclusion.py runs the same scenarios straight against PostgreSQL and the
transaction-mode refusal; here every run goes through a session pool: two and five runs,
with and without ``--no-wait``, a waiting run beside a concurrent index build, the lock
session terminated mid-run. Each migration is recorded exactly once, nobody freezes, every
run ends with a clear exit code, and parallel jobs count as one deploy cycle.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.db import connection

from django_zero_downtime import ledger
from tests.runner import test_exclusion
from tests.runner.conftest import (
    MigrationsPackage,
    applied,
    connect,
    database_url,
    start_safemigrate,
)
from tests.runner.servers import PgBouncer
from tests.runner.test_exclusion import (
    GATE_KEY,
    RETRY_FLAGS,
    _lock_pid,
    assert_clear,
    finish,
    needs_pgbouncer,
)
from tests.runner.test_processes import building_index, lock_sessions, wait_for
from tests.runner.traffic import Holder

slow_plan = test_exclusion.slow_plan  # the same plans as the direct runs
gated_plan = test_exclusion.gated_plan
blocked_plan = test_exclusion.blocked_plan

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, needs_pgbouncer]

ONE_MINUTE = {"ZDT_TEST_MIN_CYCLE_INTERVAL": "60"}


def duplicates() -> list[tuple[str, str, int]]:
    """Migrations recorded more than once (a second run applying beside the first)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT app, name, count(*) FROM django_migrations GROUP BY app, name "
            "HAVING count(*) > 1"
        )
        return list(cursor.fetchall())


@pytest.fixture
def session_pool() -> Iterator[str]:
    """The test database's URL through a PgBouncer of its own in session mode."""
    with PgBouncer("127.0.0.1", 5432, "session") as bouncer:
        yield bouncer.url(database_url().rsplit("/", 1)[1])


@pytest.mark.parametrize("count", [2, 5])
@pytest.mark.parametrize("no_wait", [False, True], ids=["wait", "no-wait"])
def test_concurrent_jobs_through_a_session_pool_apply_once_and_count_once(
    slow_plan: MigrationsPackage, session_pool: str, count: int, no_wait: bool
) -> None:
    flags = ["--no-wait"] if no_wait else []
    runs = [
        start_safemigrate(
            slow_plan, "rapp", "--release", f"job-{n}", *flags, url=session_pool, **ONE_MINUTE
        )
        for n in range(count)
    ]
    results = finish(runs, timeout=60)
    assert_clear(results)
    winners = [out for code, out, _ in results if code == 0 and "Applying rapp.0002" in out]
    assert len(winners) == 1
    for code, out, err in results:
        if code == 3:
            assert no_wait and "Another safemigrate run is applying" in err, err
        elif out not in winners:
            assert "No migrations to apply." in out
    assert applied() == ["0001_item", "0002_slow_index", "0003_flag"]
    assert duplicates() == []
    assert ledger.current_cycle("default") == 1  # parallel CI jobs are one deploy cycle


def test_a_waiting_run_through_a_session_pool_does_not_freeze_an_index_build(
    gated_plan: MigrationsPackage, session_pool: str
) -> None:
    with connect("zdt-test-gate") as gate:
        gate.execute("SELECT pg_advisory_lock(%s)", [GATE_KEY])
        first = start_safemigrate(gated_plan, "rapp", url=session_pool)
        wait_for(building_index, "the first run's concurrent index build")
        second = start_safemigrate(gated_plan, "rapp", url=session_pool)
        wait_for(lock_sessions(2), "the second run to poll for the run lock")
        gate.execute("SELECT pg_advisory_unlock(%s)", [GATE_KEY])
        released = time.monotonic()
        results = finish([first, second], timeout=60)
    assert time.monotonic() - released < 30
    assert [code for code, _, _ in results] == [0, 0], results
    assert "Waiting for another safemigrate run" in results[1][1]
    assert applied() == ["0001_item", "0002_slow_index", "0003_flag"]
    assert duplicates() == []


def test_lock_session_terminated_through_a_session_pool_never_two_apply(
    blocked_plan: tuple[MigrationsPackage, Holder], session_pool: str
) -> None:
    package, holder = blocked_plan
    first = start_safemigrate(package, "rapp", *RETRY_FLAGS, url=session_pool)
    pid = wait_for(_lock_pid, "the first run to take the run lock")
    second = start_safemigrate(package, "rapp", *RETRY_FLAGS, url=session_pool)
    wait_for(lock_sessions(2), "the second run to poll for the run lock")
    with connect() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    wait_for(lambda conn: (_lock_pid(conn) or pid) != pid, "someone to take the run lock")
    holder.commit()
    results = finish([first, second], timeout=60)
    assert_clear(results)
    (code1, out1, err1), (code2, out2, err2) = results
    if code1 == 0:
        assert "took the run lock again" in out1 and "No migrations to apply." in out2
    else:
        assert "another run took the run lock" in err1 and code2 == 0, (err1, err2)
    assert applied() == ["0001_item", "0002_flag"]
    assert duplicates() == []


def test_a_transaction_pool_refusal_records_no_release(slow_plan: MigrationsPackage) -> None:
    database = database_url().rsplit("/", 1)[1]
    with PgBouncer("127.0.0.1", 5432, "transaction") as bouncer:
        runs = [
            start_safemigrate(slow_plan, "rapp", "--release", f"job-{n}", url=bouncer.url(database))
            for n in range(2)
        ]
        results = finish(runs, timeout=60)
    assert [code for code, _, _ in results] == [3, 3], results
    assert all("pool_mode=session" in err for _, _, err in results)
    assert ledger.current_cycle("default") == 0 and applied() == ["0001_item"]
