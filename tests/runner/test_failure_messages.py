"""Failures as messages (runner/failures.py) and re-entry decisions (operations/reentry.py):
the pure functions, a table name holding a double quote through the size rule, and a
monitor whose connection is killed mid-run."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from django_zero_downtime.exceptions import UnsafeOperationError
from django_zero_downtime.operations import reentry
from django_zero_downtime.operations.leftovers import Existing, normalised, unquote
from django_zero_downtime.runner import failures
from django_zero_downtime.runner.monitor import APPLICATION_NAME
from tests.runner.conftest import (
    MigrationsPackage,
    connect,
    migration,
    safemigrate,
    start_safemigrate,
)
from tests.runner.test_processes import wait_for


def test_check_exit_code_is_1_only_for_rule_findings() -> None:
    assert failures.check_exit_code("?: (zdt.E010) rapp.0002: ZDT301 ...") == 1
    assert failures.check_exit_code("(zdt.E010) a\n(zdt.E011) b") == 3
    assert failures.check_exit_code("(zdt.E001) ZDT_LOCK_TIMEOUT_MS") == 3


def test_unwritable_report_paths(tmp_path: Path) -> None:
    assert failures.unwritable(str(tmp_path / "r.json")) is None
    assert failures.unwritable(str(tmp_path)) == "it is a directory"
    assert "does not exist" in (failures.unwritable(str(tmp_path / "no" / "r.json")) or "")
    (tmp_path / "file").write_text("")
    assert "is not a directory" in (failures.unwritable(str(tmp_path / "file" / "r")) or "")


def test_what_stayed_applied() -> None:
    assert "rolled back entirely" in failures.applied_part(True, [])
    partial = failures.applied_part(False, ['ALTER TABLE "t" ADD COLUMN "c" int'])
    assert 'ADD COLUMN "c" int' in partial and "the rerun continues" in partial
    assert "No statement" in failures.applied_part(False, [])


def test_syntax_error_names_the_file() -> None:
    try:
        compile("class Migration(:\n", "/app/shop/migrations/0002_x.py", "exec")
    except SyntaxError as exc:
        message = failures.load_message(exc) or ""
    assert "/app/shop/migrations/0002_x.py, line 1" in message and "Nothing was applied" in message


def test_index_decisions() -> None:
    same = reentry.index_decision("ix", Existing(True, True, "CREATE INDEX ix ..."), "")
    assert not same.run and same.note.startswith("adopted existing valid index ix")
    invalid = reentry.index_decision("ix", Existing(False, False, ""), "")
    assert invalid.run and invalid.before == ('DROP INDEX CONCURRENTLY IF EXISTS "ix"',)
    with pytest.raises(UnsafeOperationError, match="ix already exists with another definition"):
        reentry.index_decision("ix", Existing(True, False, "CREATE INDEX ix ON t (a)"), "x")


def test_constraint_decisions() -> None:
    left = Existing(False, True, "CHECK (n > 0) NOT VALID")
    validate = reentry.constraint_decision("t", "c", False, left, "")
    assert validate.instead == ('ALTER TABLE "t" VALIDATE CONSTRAINT "c"',) and not validate.run
    assert not reentry.constraint_decision("t", "c", True, left, "").instead  # NOT VALID wanted
    assert normalised('CHECK ("n" > 0) NOT VALID') == normalised("CHECK (n > 0)")
    assert unquote('"a""b"') == 'a"b' and unquote("Abc") == "abc"


CHECK_WEIRD = 'ALTER TABLE "rapp_we""ird" ADD CONSTRAINT ck CHECK (id > 0)'
ADD_TO_WEIRD = migration([], f"        migrations.RunSQL({CHECK_WEIRD!r}),")


@pytest.mark.django_db(transaction=True)
def test_table_name_with_a_double_quote(rapp: MigrationsPackage) -> None:
    """The size rule looks the table up with the product's escaping (quote_ident); Django's
    ``quote_name`` would have made ``"rapp_we"ird"`` of it."""
    with connection.cursor() as cursor:
        cursor.execute('CREATE TABLE "rapp_we""ird" (id bigint PRIMARY KEY)')
    rapp.write(**{"0001_note": ADD_TO_WEIRD})
    try:
        result = safemigrate("rapp")
        assert result.code == 0, result.err
        assert "0001_note" in result.out
    finally:
        with connection.cursor() as cursor:
            cursor.execute('DROP TABLE IF EXISTS "rapp_we""ird"')


SLOW_STEPS = migration(
    [],
    "        migrations.RunSQL('SELECT pg_sleep(1.5)'),\n"
    "        migrations.RunSQL('SELECT pg_sleep(1.5)'),",
    atomic=False,
)


def monitor_pid(conn: object) -> int | None:
    row = conn.execute(  # type: ignore[attr-defined]
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s "
        "AND datname = current_database()",
        [APPLICATION_NAME],
    ).fetchone()
    return row[0] if row else None


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_killed_monitor_connection_is_noticed_and_restored(rapp: MigrationsPackage) -> None:
    rapp.write(**{"0001_slow": SLOW_STEPS})
    run = start_safemigrate(rapp, "rapp")
    pid = wait_for(monitor_pid, "the monitor to connect")
    with connect() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    out, err = run.communicate(timeout=60)
    assert run.returncode == 0, out + err
    assert "monitor connection lost" in out
    assert "monitor reconnected: the blocking budget is enforced again" in out
