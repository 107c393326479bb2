"""Backfill speed and its effect on a live writer, against hand-written loops, in one run.

A table ``(id bigserial primary key, a int, b int)`` of ``--rows`` rows (default 500,000;
the issue's figure uses ``--rows 5000000``) is rebuilt before each case, which copies ``a``
into ``b`` (or into a renamed column):

- ``hand 1k`` / ``hand 10k``: a keyset loop (``SELECT id .. OFFSET n-1 LIMIT 1``, then
  ``UPDATE .. WHERE id > last AND id <= upper``), its own transaction per batch;
- ``BatchedBackfill``: the operation with its defaults, applied like a migration;
- ``hand 10k + trigger`` and ``DualWriteRename``: the same on a table carrying the
  dual-write trigger (the operation installs it itself);
- a concurrent single-row writer (one ``UPDATE .. WHERE id = random`` every 5 ms, autocommit)
  measured alone and during ``BatchedBackfill``: p99 and worst latency, ``--rounds`` pairs
  (alone, then during), the ratio of their medians; the batches' ``waiters`` (writers seen
  waiting on a batch's row locks) and the batch time they aimed at are printed too.

Prints rows/s, WAL bytes per row and the ratios of the acceptance criteria.
Usage: ``python benchmarks/backfill_speed.py [--rows N] [--rounds N] [--contended-ms MS]``
(``DATABASE_URL``; default database ``zdt_bench``).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/zdt_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, models, transaction  # noqa: E402
from django.db.migrations.operations import CreateModel  # noqa: E402
from django.db.migrations.state import ProjectState  # noqa: E402
from django.db.models import F  # noqa: E402
from django.test import override_settings  # noqa: E402

from django_zero_downtime import events  # noqa: E402
from django_zero_downtime.operations import BatchedBackfill, DualWriteRename  # noqa: E402
from django_zero_downtime.operations.triggers import DualWriteTrigger  # noqa: E402
from example_project.database import ensure_database  # noqa: E402

APP, TABLE = "zdtbench", "zdtbench_item"
WRITER_EVERY_S = 0.005


def rebuild(rows: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(f"CREATE TABLE {TABLE} (id bigserial PRIMARY KEY, a int NOT NULL, b int)")
        cursor.execute(f"INSERT INTO {TABLE} (a) SELECT g FROM generate_series(1, %s) g", [rows])
        cursor.execute(f"VACUUM ANALYZE {TABLE}")
        cursor.execute("DELETE FROM django_zero_downtime_backfillprogress")
        cursor.execute("DELETE FROM django_zero_downtime_deprecation")
        cursor.execute("CHECKPOINT")


def wal_lsn() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
        return int(cursor.fetchone()[0])


def hand_loop(size: int, target: str = "b") -> None:
    last = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {TABLE} WHERE id > %s ORDER BY id OFFSET %s LIMIT 1",
                [last, size - 1],
            )
            row = cursor.fetchone()
            upper = f"AND id <= {int(row[0])}" if row else ""
            cursor.execute(f"UPDATE {TABLE} SET {target} = a WHERE id > %s {upper}", [last])
        if row is None:
            return
        last = int(row[0])


def state() -> ProjectState:
    project = ProjectState()
    fields = [
        ("id", models.BigAutoField(primary_key=True)),
        ("a", models.IntegerField()),
        ("b", models.IntegerField(null=True)),
    ]
    CreateModel("Item", fields).state_forwards(APP, project)
    return project


def apply(operation: Any) -> None:
    before = state()
    after = before.clone()
    operation.state_forwards(APP, after)
    with connection.schema_editor(atomic=False) as editor:
        operation.database_forwards(APP, editor, before, after)


def batched_backfill() -> None:
    apply(BatchedBackfill("Item", {"b": F("a")}))


def dual_write_rename() -> None:
    apply(DualWriteRename("Item", "a", "c"))


def hand_loop_with_trigger() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} ADD COLUMN c int")
        cursor.execute(DualWriteTrigger(table=TABLE, old_column="a", new_column="c").install_sql)
    hand_loop(10_000, target="c")


class Writer(threading.Thread):
    """Single-row UPDATEs of random rows, one every WRITER_EVERY_S, autocommit."""

    def __init__(self, rows: int) -> None:
        super().__init__(daemon=True)
        self.rows, self.stop, self.latencies = rows, threading.Event(), []

    def run(self) -> None:
        conn = connections.create_connection("default")
        try:
            with conn.cursor() as cursor:
                while not self.stop.is_set():
                    began = time.perf_counter()
                    pk = random.randint(1, self.rows)
                    cursor.execute(f"UPDATE {TABLE} SET a = a WHERE id = %s", [pk])
                    self.latencies.append(time.perf_counter() - began)
                    time.sleep(WRITER_EVERY_S)
        finally:
            conn.close()

    def figures(self) -> tuple[float, float]:
        ordered = sorted(self.latencies)
        return ordered[int(len(ordered) * 0.99)], ordered[-1]


def timed(rows: int, work: Callable[[], None]) -> tuple[float, float]:
    """(rows/s, WAL bytes per row) of ``work`` on a fresh table."""
    rebuild(rows)
    wal, began = wal_lsn(), time.perf_counter()
    work()
    seconds = time.perf_counter() - began
    return rows / seconds, (wal_lsn() - wal) / rows


def with_writer(rows: int, work: Callable[[], None] | None, seconds: float) -> tuple[float, float]:
    rebuild(rows)
    writer = Writer(rows)
    writer.start()
    if work is None:
        time.sleep(seconds)
    else:
        work()
    writer.stop.set()
    writer.join()
    return writer.figures()


def writer_rounds(rows: int, rounds: int, seconds: float) -> tuple[list[Any], list[Any], list[Any]]:
    """``rounds`` pairs of (writer alone, writer during BatchedBackfill), and the batches."""
    alone, during, batches = [], [], []

    def listen(event: events.Event) -> None:
        if event.kind == "batch":
            batches.append(event.data)

    for _ in range(rounds):
        alone.append(with_writer(rows, None, seconds))
        with events.listening(listen):
            during.append(with_writer(rows, batched_backfill, seconds))
    return alone, during, batches


def medians(figures: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(f[0] for f in figures), statistics.median(f[1] for f in figures)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--rounds", type=int, default=1, help="writer alone/during pairs")
    parser.add_argument(
        "--contended-ms",
        type=int,
        help="ZDT_BACKFILL_CONTENDED_TARGET_MS for the whole run (at least the target: off)",
    )
    arguments = parser.parse_args()
    if arguments.contended_ms:
        override_settings(ZDT_BACKFILL_CONTENDED_TARGET_MS=arguments.contended_ms).enable()
    rows = arguments.rows
    ensure_database(connection.settings_dict)
    call_command("migrate", "django_zero_downtime", verbosity=0)
    quiet = io.StringIO()
    sys.stdout, real_stdout = quiet, sys.stdout  # the operations' progress lines
    try:
        results = {
            "hand 1k": timed(rows, lambda: hand_loop(1_000)),
            "hand 10k": timed(rows, lambda: hand_loop(10_000)),
            "BatchedBackfill": timed(rows, batched_backfill),
            "hand 10k + trigger": timed(rows, hand_loop_with_trigger),
            "DualWriteRename": timed(rows, dual_write_rename),
        }
        duration = rows / results["BatchedBackfill"][0]
        alone, during, batches = writer_rounds(rows, arguments.rounds, duration)
    finally:
        sys.stdout = real_stdout
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
    report(rows, results, medians(alone), medians(during))
    report_writer(alone, during, batches)
    return 0


def report(
    rows: int,
    results: dict[str, tuple[float, float]],
    alone: tuple[float, float],
    during: tuple[float, float],
) -> None:
    print(f"backfill of {rows:,} rows (copy one int column), PostgreSQL {connection.pg_version}")
    for name, (rate, wal) in results.items():
        print(f"  {name:<20} {rate:>10,.0f} rows/s   WAL {wal:6.0f} bytes/row")
    best = max(results["hand 1k"][0], results["hand 10k"][0])
    ratios = [
        ("BatchedBackfill / faster hand loop", results["BatchedBackfill"][0] / best, 0.8, ">="),
        (
            "DualWriteRename / hand 10k + trigger",
            results["DualWriteRename"][0] / results["hand 10k + trigger"][0],
            0.8,
            ">=",
        ),
        ("writer p99 during / alone", during[0] / alone[0], 2.0, "<="),
        ("writer worst / 3 x 200 ms target", during[1] / 0.6, 1.0, "<="),
    ]
    print(
        f"  writer alone: p99 {alone[0] * 1000:.1f} ms, worst {alone[1] * 1000:.1f} ms; "
        f"during BatchedBackfill: p99 {during[0] * 1000:.1f} ms, worst {during[1] * 1000:.1f} ms"
    )
    for label, value, target, sense in ratios:
        ok = value >= target if sense == ">=" else value <= target
        print(f"  {label:<38} {value:5.2f}  (target {sense} {target}): {'OK' if ok else 'MISSED'}")


def report_writer(alone: list[Any], during: list[Any], batches: list[dict[str, Any]]) -> None:
    """Each round's p99s, and what the batches saw of the writer."""
    rounds = ", ".join(
        f"{a[0] * 1000:.1f}/{d[0] * 1000:.1f}" for a, d in zip(alone, during, strict=True)
    )
    waited = [batch for batch in batches if batch.get("waiters")]
    aims = sorted({batch.get("target_ms") for batch in batches} - {None})
    print(
        f"  writer p99 alone/during per round (ms): {rounds}; {len(batches)} batches, "
        f"{len(waited)} ended with writers waiting, aimed at {aims} ms"
    )


if __name__ == "__main__":
    sys.exit(main())
