"""Rename of an indexed field on a big table: time, longest write-blocking lock, writer latency.

    python benchmarks/rename_indexed.py                 # 2,000,000 rows
    python benchmarks/rename_indexed.py --rows 200000   # quicker

Uses DATABASE_URL (default .../zdt_bench_rename; the database is created if missing). A table
``zdtbench_person`` with ``name varchar(100) NOT NULL`` and Django's two indexes on it (plain
and ``varchar_pattern_ops``) gets ``DualWriteRename`` (expand: column, trigger, batched copy,
twins of both indexes built concurrently) and ``CompleteDualWriteRename`` (contract: NOT NULL
proved by a CHECK, trigger and old column dropped), while a writer on its own connection does
single-row UPDATEs and INSERTs through the column the serving release uses (the old one
during the expand, the new one during the contract). In one run it prints:

- total time of expand and of contract;
- the longest statement of the migration that holds a lock blocking writes (SHARE or
  stronger, classified by ``sql.classify``), i.e. how long writes could have queued;
- the writer's p50/p99/max per phase against the same writer with no migration running.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BLOCKS_WRITES = {"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"}


def setup_django() -> None:
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/zdt_bench_rename")
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django
    from django.conf import settings

    from example_project.database import ensure_database

    ensure_database(settings.DATABASES["default"])
    django.setup()
    from django.core.management import call_command

    call_command("migrate", "django_zero_downtime", verbosity=0)


class Writer(threading.Thread):
    """Single-row writes through ``column`` on its own autocommit connection; latencies kept."""

    def __init__(self, rows: int, column: str) -> None:
        super().__init__(daemon=True)
        self.rows, self.column = rows, column
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        import psycopg
        from django.db import connection

        from django_zero_downtime.runner.locks import connect_kwargs

        rng = random.Random(7)
        with psycopg.connect(**connect_kwargs(connection), autocommit=True) as conn:
            while not self.stop.is_set():
                started = time.perf_counter()
                try:
                    self.write(conn, rng)
                except psycopg.Error as exc:
                    self.errors.append(str(exc).splitlines()[0])
                self.latencies.append(time.perf_counter() - started)

    def write(self, conn: Any, rng: random.Random) -> None:
        c = self.column
        if rng.random() < 0.2:
            conn.execute(f'INSERT INTO zdtbench_person ("{c}", n) VALUES (%s, 0)', ["new"])
        else:
            pk = rng.randint(1, self.rows)
            conn.execute(f'UPDATE zdtbench_person SET "{c}" = %s WHERE id = %s', ["w", pk])


def latency_line(label: str, values: list[float], baseline: list[float]) -> str:
    p = statistics.quantiles(values, n=100, method="inclusive")
    b = statistics.quantiles(baseline, n=100, method="inclusive")
    return (
        f"  {label:<9} writes {len(values):>6}  p50 {p[49] * 1000:7.2f} ms  "
        f"p99 {p[98] * 1000:7.2f} ms ({p[98] / b[98]:5.2f}x)  "
        f"max {max(values) * 1000:8.2f} ms ({max(values) / max(baseline):5.2f}x)"
    )


@contextmanager
def writing(rows: int, column: str) -> Iterator[Writer]:
    writer = Writer(rows, column)
    writer.start()
    try:
        yield writer
    finally:
        writer.stop.set()
        writer.join()


class BlockingClock:
    """Times each statement the migration runs that holds a lock blocking writes."""

    def __init__(self) -> None:
        self.longest: tuple[float, str] = (0.0, "")

    def wrap(self, execute: Callable[..., Any]) -> Callable[..., Any]:
        from django_zero_downtime.sql.classify import classify_sql

        def timed(sql: Any, params: Any = None) -> Any:
            locks = {impact.lock for impact in classify_sql(str(sql))}
            started = time.perf_counter()
            try:
                return execute(sql, params)
            finally:
                seconds = time.perf_counter() - started
                if locks & BLOCKS_WRITES and seconds > self.longest[0]:
                    self.longest = (seconds, " ".join(str(sql).split())[:90])

        return timed


def apply(lab: Any, operation: Any, clock: BlockingClock) -> float:
    from django.db import connection

    new = lab.state.clone()
    operation.state_forwards("zdtlab", new)
    started = time.perf_counter()
    with connection.schema_editor(atomic=False) as editor:
        editor.execute = clock.wrap(editor.execute)  # type: ignore[method-assign]
        operation.database_forwards("zdtlab", editor, lab.state, new)
    lab.state = new
    return time.perf_counter() - started


def build(rows: int) -> Any:
    from django.db import models

    from tests.operations.conftest import Lab

    lab = Lab()
    lab.sql("DROP TABLE IF EXISTS zdtbench_person CASCADE")
    lab.sql("DELETE FROM django_zero_downtime_deprecation WHERE \"table\" = 'zdtbench_person'")
    lab.sql("DELETE FROM django_zero_downtime_backfillprogress")
    fields = [
        ("id", models.BigAutoField(primary_key=True)),
        ("name", models.CharField(max_length=100, db_index=True)),
        ("n", models.IntegerField()),
    ]
    lab.create("Person", fields, db_table="zdtbench_person")
    lab.sql(
        "INSERT INTO zdtbench_person (name, n) "
        "SELECT 'person ' || g, g FROM generate_series(1, %s) g",
        [rows],
    )
    lab.sql("VACUUM ANALYZE zdtbench_person")
    return lab


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--baseline-s", type=float, default=5.0)
    args = parser.parse_args()
    setup_django()
    from django.test.utils import override_settings

    from django_zero_downtime.operations import CompleteDualWriteRename, DualWriteRename

    lab = build(args.rows)
    with writing(args.rows, "name") as baseline:
        time.sleep(args.baseline_s)  # the measurement window of the baseline writer
    clock = BlockingClock()
    with writing(args.rows, "name") as during_expand:
        expand_s = apply(lab, DualWriteRename("Person", "name", "full_name"), clock)
    with override_settings(ZDT_DEPRECATION_CYCLES=0), writing(args.rows, "full_name") as during:
        contract_s = apply(lab, CompleteDualWriteRename("Person", "name", "full_name"), clock)
    errors = baseline.errors + during_expand.errors + during.errors
    print(f"rename of an indexed varchar field, {args.rows:,} rows (PostgreSQL, one run)")
    total = expand_s + contract_s
    print(f"  expand {expand_s:7.1f} s   contract {contract_s:6.1f} s   total {total:.1f} s")
    seconds, statement = clock.longest
    print(f"  longest write-blocking statement: {seconds * 1000:.1f} ms  ({statement})")
    print(latency_line("baseline", baseline.latencies, baseline.latencies))
    print(latency_line("expand", during_expand.latencies, baseline.latencies))
    print(latency_line("contract", during.latencies, baseline.latencies))
    print(f"  writer errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    lab.sql("DROP TABLE IF EXISTS zdtbench_person CASCADE")


if __name__ == "__main__":
    main()
