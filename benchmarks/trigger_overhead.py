"""Write overhead of the dual-write trigger, against the same table without it, in one run.

Two identical tables (id, first_name, last_name, surname); one carries the DualWriteRename
trigger. The workload writes single rows the way the previous release would (only
``last_name``): INSERTs, then UPDATEs by primary key. Statements alternate between the
tables one by one so drift on a shared machine hits both; median times are compared. The
session commits with ``synchronous_commit = off``: the disk flush costs both tables the same
and is mostly noise on a shared machine (with it, the ratio only gets smaller).

- ``autocommit``: every statement its own transaction (a web request's write). Target <= 15%.
- ``one transaction``: statements without commits, i.e. the trigger's CPU cost alone,
  an upper bound that commits and network hide in real traffic.
- ``bulk UPDATE``: one ``UPDATE`` of every row of a table, the trigger's cost per row (the
  time above the same table without a trigger, divided by the rows) against a minimal
  one-assignment PL/pgSQL trigger (``NEW.surname := NEW.last_name``) on a third table, in
  the same run, rounds interleaved, server CPU time (the backend's own
  ``log_statement_stats``; needs a superuser); the median of the per-round paired ratios.
  Target: <= 1.3x the minimal trigger.

Usage: ``python benchmarks/trigger_overhead.py [statements_per_table [bulk_rows]]``
(``DATABASE_URL`` selects the server; default database ``zdt_bench``.)
"""

from __future__ import annotations

import contextlib
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/zdt_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

import django

django.setup()

import pgtrigger.core  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from pgtrigger import compiler  # noqa: E402

from django_zero_downtime.operations.triggers import DualWriteTrigger  # noqa: E402
from example_project.database import ensure_database  # noqa: E402

TABLES = {
    "plain": "zdt_bench_plain",
    "trigger": "zdt_bench_trigger",
    "stock": "zdt_bench_stock",  # the same function in pgtrigger's stock template, for reference
}
TARGET = 1.15
BULK_TARGET = 1.3
PRELOADED = 2000
MINIMAL = "zdt_bench_minimal"
MINIMAL_SQL = f"""
CREATE FUNCTION {MINIMAL}_f() RETURNS trigger AS $$
BEGIN NEW.surname := NEW.last_name; RETURN NEW; END; $$ LANGUAGE plpgsql;
CREATE TRIGGER {MINIMAL}_t BEFORE INSERT OR UPDATE ON {MINIMAL}
FOR EACH ROW EXECUTE FUNCTION {MINIMAL}_f();
"""


def setup() -> None:
    with connection.cursor() as cursor:
        for table in TABLES.values():
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(
                f"CREATE TABLE {table} (id bigserial PRIMARY KEY, first_name varchar(100) "
                "NOT NULL, last_name varchar(100) NOT NULL, surname varchar(100))"
            )
        cursor.execute(bench_trigger("trigger").install_sql)
        cursor.execute(stock_template_sql(bench_trigger("stock")))


def bench_trigger(name: str) -> DualWriteTrigger:
    return DualWriteTrigger(table=TABLES[name], old_column="last_name", new_column="surname")


def stock_template_sql(trigger: DualWriteTrigger) -> str:
    """pgtrigger's own template, whose ignore check opens a subtransaction per row."""
    sql = compiler.UpsertTriggerSql(
        ignore_func_name=pgtrigger.core._ignore_func_name(),
        pgid=trigger.get_pgid(),
        func=trigger.get_func(),
        table=trigger.table,
        when=trigger.when,
        operation=trigger.operation,
    )
    return str(sql)


def teardown() -> None:
    with connection.cursor() as cursor:
        for table in [MINIMAL, *TABLES.values()]:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"DROP FUNCTION IF EXISTS {MINIMAL}_f()")
        for name in ("trigger", "stock"):
            cursor.execute(f"DROP FUNCTION IF EXISTS {bench_trigger(name).get_pgid()}()")


def insert(cursor: Any, table: str, i: int) -> None:
    cursor.execute(f"INSERT INTO {table} (first_name, last_name) VALUES (%s, %s)", ["f", f"l{i}"])


def update(cursor: Any, table: str, i: int) -> None:
    cursor.execute(f"UPDATE {table} SET last_name = %s WHERE id = %s", [f"u{i}", i % PRELOADED + 1])


Statement = Callable[[Any, str, int], None]


def measure(statement: Statement, count: int, atomic: bool) -> dict[str, float]:
    """Median seconds per statement per table.

    Statements alternate between the tables one by one (the order flips every step), so
    both see the same load at the same moment: paired samples that a busy machine shifts
    together.
    """
    samples: dict[str, list[float]] = {name: [] for name in TABLES}
    names = list(TABLES)
    scope = transaction.atomic() if atomic else contextlib.nullcontext()
    with scope, connection.cursor() as cursor:
        for i in range(count):
            for name in names if i % 2 else reversed(names):
                start = time.perf_counter()
                statement(cursor, TABLES[name], i)
                samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def report(label: str, medians: dict[str, float]) -> float:
    ratio = medians["trigger"] / medians["plain"]
    stock = medians["stock"] / medians["plain"]
    print(
        f"{label:<34} plain {medians['plain'] * 1e6:6.1f} us  zdt trigger "
        f"{medians['trigger'] * 1e6:6.1f} us  ratio {ratio:5.3f} ({(ratio - 1) * 100:+5.1f}%)"
        f"  [pgtrigger stock template: {stock:5.3f}]"
    )
    return ratio


def bulk_setup(rows: int) -> dict[str, str]:
    """Four tables of ``rows`` rows: no trigger, minimal trigger, ours, pgtrigger's stock."""
    tables = {**TABLES, "minimal": MINIMAL}
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {MINIMAL}")
        cursor.execute(f"DROP FUNCTION IF EXISTS {MINIMAL}_f()")
        cursor.execute(f"CREATE TABLE {MINIMAL} (LIKE {TABLES['plain']} INCLUDING ALL)")
        cursor.execute(MINIMAL_SQL)
        for table in tables.values():
            cursor.execute(f"TRUNCATE {table}")
            cursor.execute(
                f"INSERT INTO {table} (first_name, last_name, surname) SELECT 'f', 'l' || i, "
                f"'l' || i FROM generate_series(1, {rows}) i"
            )
            cursor.execute(f"VACUUM ANALYZE {table}")
    return tables


def bulk_update(tables: dict[str, str], rows: int, rounds: int) -> list[dict[str, float]]:
    """Server CPU seconds (``log_statement_stats``: the backend's own user + system time,
    which the other work on a shared machine shifts far less than wall time) of ``UPDATE t
    SET last_name = last_name`` per table and round (the previous release's write of the old
    column); the tables' order rotates each round, a VACUUM after each statement."""
    samples: list[dict[str, float]] = []
    names = list(tables)
    with server_cpu() as cpu, connection.cursor() as cursor:
        for round_ in range(rounds):
            sample = {}
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                cursor.execute("SET log_statement_stats = on")
                cursor.execute(f"UPDATE {tables[name]} SET last_name = last_name")
                sample[name] = cpu[-1]
                cursor.execute("SET log_statement_stats = off")
                cursor.execute(f"VACUUM {tables[name]}")
            samples.append(sample)
    return samples


@contextlib.contextmanager
def server_cpu() -> Any:
    """The backend's CPU seconds of each statement, from its ``QUERY STATISTICS`` notices."""
    seconds: list[float] = []

    def notice(diagnostic: Any) -> None:
        found = re.search(r"([0-9.]+) s user, ([0-9.]+) s system", diagnostic.message_detail or "")
        if found:
            seconds.append(float(found.group(1)) + float(found.group(2)))

    connection.ensure_connection()
    raw = connection.connection
    with connection.cursor() as cursor:
        cursor.execute("SET client_min_messages = log")
    raw.add_notice_handler(notice)
    try:
        yield seconds
    finally:
        raw.remove_notice_handler(notice)
        with connection.cursor() as cursor:
            cursor.execute("RESET client_min_messages")


def bulk_report(samples: list[dict[str, float]], rows: int) -> float:
    """Each trigger's cost per row (its table's time minus the plain table's, per row) in
    every round, and the ratio ours / minimal per round: the median of those paired ratios
    (a round's tables ran back to back, so load that shifts a round shifts all of them)."""
    cost = [{n: (t - s["plain"]) / rows * 1e6 for n, t in s.items()} for s in samples]
    ratios = [c["trigger"] / c["minimal"] for c in cost if c["minimal"] > 0]
    ratio = statistics.median(ratios)
    median = {n: statistics.median(c[n] for c in cost) for n in samples[0]}
    plain = statistics.median(s["plain"] for s in samples) / rows * 1e6
    print(
        f"bulk UPDATE of {rows:,} rows, {len(samples)} rounds: no trigger {plain:.2f} us/row; "
        f"trigger cost per row (medians): minimal {median['minimal']:.2f} us, zdt "
        f"{median['trigger']:.2f} us [pgtrigger stock template {median['stock']:.2f} us]; "
        f"paired ratio zdt/minimal median {ratio:.2f}x (quartiles "
        f"{_quartiles(ratios)}), target <= {BULK_TARGET}: "
        f"{'OK' if ratio <= BULK_TARGET else 'ABOVE TARGET'}"
    )
    return ratio


def _quartiles(values: list[float]) -> str:
    low, _, high = statistics.quantiles(values, n=4)
    return f"{low:.2f}-{high:.2f}"


def main(count: int = 3000, bulk_rows: int = 100_000, rounds: int = 21) -> int:
    ensure_database(connection.settings_dict)
    setup()
    try:
        with connection.cursor() as cursor:
            # Commits without waiting for the disk flush: the flush is the same for both
            # tables and, on a shared machine, mostly noise. With it, ratios are lower.
            cursor.execute("SET synchronous_commit = off")
        with connection.cursor() as cursor:
            for table in TABLES.values():
                for i in range(PRELOADED):
                    insert(cursor, table, i)
        ratios = []
        for atomic, mode in ((False, "autocommit"), (True, "one transaction")):
            for verb, statement in (("INSERT", insert), ("UPDATE", update)):
                label = f"{verb} single row, {mode}"
                ratios.append(report(label, measure(statement, count, atomic)))
        tables = bulk_setup(bulk_rows)
        bulk_report(bulk_update(tables, bulk_rows, rounds), bulk_rows)
    finally:
        teardown()
    worst = max(ratios[:2])
    verdict = "OK" if worst <= TARGET else "ABOVE TARGET"
    print(f"single-row writes (autocommit): worst ratio {worst:.3f}, target <= {TARGET}: {verdict}")
    return 0


if __name__ == "__main__":
    args = [int(arg) for arg in sys.argv[1:3]]
    sys.exit(main(*args))
