"""Acceptance: safemigrate against live traffic, with real concurrent PostgreSQL sessions."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from django_zero_downtime.runner import monitor
from tests.runner.conftest import (
    ADD_NOTE,
    CREATE_ITEM,
    MigrationsPackage,
    applied,
    connect,
    fill,
    migration,
    safemigrate,
)
from tests.runner.traffic import Holder, Reader

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LOCK_TIMEOUT_MS = 500
SELECT_ONE = "SELECT n FROM rapp_item WHERE id = 1"


@pytest.fixture
def items(rapp: MigrationsPackage) -> MigrationsPackage:
    rapp.write(**{"0001_item": CREATE_ITEM})
    assert safemigrate("rapp").code == 0
    fill("rapp_item", 1_000)
    return rapp


def test_lock_queue_selects_never_wait_longer_than_the_lock_timeout(
    items: MigrationsPackage, tmp_path: Path
) -> None:
    """A 5 s transaction holds the table; SELECTs every 20 ms; safemigrate adds a column."""
    items.write(**{"0002_note": ADD_NOTE})
    report = tmp_path / "report.json"
    with Reader(connect, SELECT_ONE) as reader, Holder(connect, "rapp_item", 5.0) as holder:
        result = safemigrate(
            "rapp", "--lock-timeout", str(LOCK_TIMEOUT_MS), "--max-retries", "30",
            "--report", str(report),
        )  # fmt: skip
        finished_at = time.perf_counter()
    assert result.code == 0, result.err
    assert applied() == ["0001_item", "0002_note"]
    assert holder.committed_at is not None and finished_at > holder.committed_at
    # Bound: the lock timeout plus 100 ms for a loaded 2-core machine (measured ~0.51 s).
    assert reader.longest < (LOCK_TIMEOUT_MS + 100) / 1000, reader.longest
    step = _step(report, "0002_note", 0)
    assert step["lock_timeouts"] >= 3 and step["retries"] == step["lock_timeouts"]
    assert step["blocked_sessions"] >= 1 and step["lock_wait_s"] > 1.0


def _step(report: Path, name: str, index: int | None) -> dict[str, Any]:
    steps = json.loads(report.read_text())["steps"]
    return next(s for s in steps if s["migration"] == name and s["operation_index"] == index)


def test_gives_up_naming_the_blocking_session(items: MigrationsPackage, tmp_path: Path) -> None:
    items.write(**{"0002_note": ADD_NOTE})
    report = tmp_path / "report.json"
    with Holder(connect, "rapp_item") as holder:
        result = safemigrate(
            "rapp", "--lock-timeout", "100", "--max-retries", "2", "--report", str(report)
        )
        assert result.code == 2
        assert f"pid {holder.pid} [zdt-test-holder] idle in transaction" in result.err
        assert "long report query" in result.err
        assert "after 2 retries" in result.err
    assert applied() == ["0001_item"]
    data = json.loads(report.read_text())
    assert data["outcome"] == "gave-up-on-locks" and data["exit_code"] == 2
    assert _step(report, "0002_note", 0)["lock_timeouts"] == 3


HOLD_LOCK = migration(
    ["0001_item"],
    """        migrations.RunSQL(
            "LOCK TABLE rapp_item IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4);",
        ),""",
)


def test_blocking_budget_cancels_the_statement_that_blocks_live_sessions(
    items: MigrationsPackage, tmp_path: Path
) -> None:
    """The migration holds ACCESS EXCLUSIVE for 4 s; the budget (300 ms) cancels it."""
    items.write(**{"0002_hold": HOLD_LOCK})
    report = tmp_path / "report.json"
    with Reader(connect, SELECT_ONE) as reader:
        result = safemigrate(
            "rapp", "--max-blocking", "300", "--max-retries", "1", "--report", str(report)
        )
    assert result.code == 2
    assert "live sessions waited longer than 300 ms" in result.err
    assert applied() == ["0001_item"]
    step = _step(report, "0002_hold", 0)
    assert step["budget_cancels"] == 2 and step["blocked_sessions"] >= 1
    assert 300 <= step["longest_block_ms"] < 1_500
    assert reader.longest < 1.5, reader.longest  # not the 4 s the migration wanted


NON_ATOMIC_NOTE = migration(
    ["0001_item"],
    '        migrations.AddField("item", "note", models.TextField(null=True)),',
    atomic=False,
)


def test_non_atomic_migration_retries_the_statement_and_reports_progress(
    items: MigrationsPackage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(monitor, "PROGRESS_EVERY_S", 0.3)
    items.write(**{"0002_note": NON_ATOMIC_NOTE})
    with Holder(connect, "rapp_item", 1.5) as holder:
        result = safemigrate("rapp", "--lock-timeout", "100", "--max-retries", "30")
        finished_at = time.perf_counter()
    assert result.code == 0, result.err
    assert holder.committed_at is not None and finished_at > holder.committed_at
    assert "lock not available within 100 ms; retry 1/30" in result.out
    assert "rapp.0002_note:0 running for" in result.out
    assert applied() == ["0001_item", "0002_note"]


SLOW_STATEMENT = migration(["0001_item"], '        migrations.RunSQL("SELECT pg_sleep(3)"),')


def test_statement_timeout_is_an_error_not_a_retry(items: MigrationsPackage) -> None:
    items.write(**{"0002_slow": SLOW_STATEMENT})
    result = safemigrate("rapp", "--statement-timeout", "200")
    assert result.code == 3
    assert "database error in rapp.0002_slow:0" in result.err
    assert "statement timeout" in result.err
    assert "retry" not in result.out
    assert applied() == ["0001_item"]


def test_timeouts_do_not_leak_into_the_session(items: MigrationsPackage) -> None:
    """SET LOCAL only: a pooled server connection handed to the next client is unchanged."""
    items.write(**{"0002_note": ADD_NOTE})
    assert safemigrate("rapp", "--lock-timeout", "123").code == 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')"
        )
        assert cursor.fetchone() == ("0", "0")
