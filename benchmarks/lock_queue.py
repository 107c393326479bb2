"""Lock queue: how long do 1-row SELECTs wait while a migration adds a column behind a
transaction that stays open for 5 s? Plain ``migrate`` versus ``safemigrate``, one run.

    python benchmarks/lock_queue.py            # uses DATABASE_URL or .../zdt_runner

With plain ``migrate`` the ALTER waits for the 5 s transaction and every SELECT queues behind
it (docs/postgres-facts.md); with ``safemigrate`` the ALTER gives up after ``lock_timeout``
and retries, so no SELECT waits much longer than the lock timeout. Prints both maxima and
their ratio.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOLD_S = 5.0
LOCK_TIMEOUT_MS = 500
ROWS = 10_000


def setup_django(package_root: Path, package: str) -> None:
    sys.path.insert(0, str(package_root))
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/zdt_runner")
    os.environ["ZDT_TEST_MIGRATIONS"] = package
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.runner.proc_settings"
    import django
    from django.conf import settings

    from example_project.database import ensure_database

    ensure_database(settings.DATABASES["default"])
    django.setup()


def write_migrations(root: Path) -> str:
    sys.path.insert(0, str(REPO))
    from tests.runner.conftest import ADD_NOTE, CREATE_ITEM  # the test suite's migrations

    package = root / "zdt_bench_lock_queue"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "0001_item.py").write_text(CREATE_ITEM)
    (package / "0002_note.py").write_text(ADD_NOTE)
    return package.name


def reset() -> None:
    from django.core.management import call_command
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS rapp_item")
        cursor.execute("DELETE FROM django_migrations WHERE app = 'rapp'")
    call_command("migrate", "rapp", "0001", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO rapp_item (n) SELECT g FROM generate_series(1, %s) g", [ROWS])
        cursor.execute("ANALYZE rapp_item")


def scenario(command: str, *args: str) -> tuple[float, float]:
    """(longest SELECT wait, seconds from the long transaction's end to the migration's)."""
    import psycopg
    from django.core.management import call_command
    from django.db import connection

    from django_zero_downtime.runner.locks import connect_kwargs
    from tests.runner.traffic import Holder, Reader

    def connect(name: str) -> psycopg.Connection:
        return psycopg.connect(**connect_kwargs(connection), autocommit=True, application_name=name)

    reset()
    sql = "SELECT n FROM rapp_item WHERE id = 1"
    with Reader(connect, sql) as reader, Holder(connect, "rapp_item", HOLD_S) as holder:
        call_command(command, "rapp", "0002", *args, verbosity=0)
        done = time.perf_counter()
    assert holder.committed_at is not None
    return reader.longest, done - holder.committed_at


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        package = write_migrations(Path(tmp))
        setup_django(Path(tmp), package)
        from django.core.management import call_command

        call_command("migrate", "django_zero_downtime", verbosity=0)
        plain, plain_after = scenario("migrate")
        safe, safe_after = scenario(
            "safemigrate", "--lock-timeout", str(LOCK_TIMEOUT_MS), "--max-retries", "30"
        )
        reset()
    print(f"lock queue: 1-row SELECT every 20 ms, a {HOLD_S:.0f} s transaction, ADD COLUMN")
    print(f"  plain migrate: longest SELECT wait {plain:.3f} s "
          f"(migration done {plain_after:+.2f} s after the transaction ended)")  # fmt: skip
    print(f"  safemigrate:   longest SELECT wait {safe:.3f} s "
          f"(lock_timeout {LOCK_TIMEOUT_MS} ms; done {safe_after:+.2f} s after)")  # fmt: skip
    print(f"  ratio (migrate / safemigrate): {plain / safe:.1f}x")


if __name__ == "__main__":
    main()
