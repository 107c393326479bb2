"""SIGKILL of ``safemigrate`` at random points of a plan with atomic and non-atomic
migrations (Django's concurrent index, a field with a batched backfill, a dual-write rename
with its backfill, this product's concurrent index), then a rerun: it finishes (exit 0),
leaves no INVALID index and no half-applied step, and no row is lost or changed.

Each trial runs on its own copy of a prepared database (``CREATE DATABASE .. TEMPLATE``).
Default: 5 trials on 50,000 rows; ``ZDT_LONG=1``: 20 trials on 500,000 rows.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from django_zero_downtime.runner.locks import connect_kwargs
from tests.conftest import scratch_url
from tests.dbnames import scratch_database_name
from tests.runner.conftest import CREATE_ITEM, MigrationsPackage, migration, start_safemigrate

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LONG = os.environ.get("ZDT_LONG") == "1"
ROWS = 500_000 if LONG else 50_000
TRIALS = 20 if LONG else 5
BATCH = ROWS // 10
HEAD = (
    "from django.contrib.postgres.operations import AddIndexConcurrently\n"
    "from django.db.models import F\n"
    "import django_zero_downtime.operations as zdt\n"
)


def later(deps: str, body: str, *, atomic: bool) -> str:
    return migration([deps], body, atomic=atomic).replace("\n\n\n", f"\n{HEAD}\n\n", 1)


PLAN = {
    "0002_note": later(
        "0001_item", '        migrations.AddField("item", "note", models.TextField(null=True)),',
        atomic=True,
    ),
    "0003_index": later(
        "0002_note",
        '        AddIndexConcurrently("item", models.Index(fields=["n"], name="rapp_item_n_idx")),',
        atomic=False,
    ),
    "0004_copy": later(
        "0003_index",
        '        migrations.AddField("item", "copy", models.IntegerField(null=True)),\n'
        f'        zdt.BatchedBackfill("item", {{"copy": F("n")}}, batch_size={BATCH}),',
        atomic=False,
    ),
    "0005_rename": later(
        "0004_copy", f'        zdt.DualWriteRename("item", "n", "amount", batch_size={BATCH}),',
        atomic=False,
    ),
    "0006_copy_index": later(
        "0005_rename",
        '        zdt.AddIndexInSteps("item", models.Index(fields=["copy"], name="rapp_copy_idx")),',
        atomic=False,
    ),
}  # fmt: skip


def admin() -> psycopg.Connection[Any]:
    return psycopg.connect(**connect_kwargs(connection), autocommit=True)


def url(name: str) -> str:
    return scratch_url(connection.settings_dict, name)


def create(name: str, template: str | None = None) -> None:
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with admin() as conn:
        conn.execute(statement)


def drop(name: str) -> None:
    with admin() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def template(rapp: MigrationsPackage) -> Iterator[str]:
    """A database with everything up to ``rapp.0001_item`` applied and ROWS rows."""
    name = scratch_database_name()
    create(name)
    try:
        rapp.write(**{"0001_item": CREATE_ITEM})
        first = start_safemigrate(rapp, url=url(name))  # every app: the ledger too
        assert first.wait(timeout=120) == 0, first.communicate()
        with psycopg.connect(url(name), autocommit=True) as conn:
            conn.execute("INSERT INTO rapp_item (n) SELECT g FROM generate_series(1, %s) g", [ROWS])
            conn.execute("VACUUM ANALYZE rapp_item")
        rapp.write(**PLAN)
        yield name
    finally:
        drop(name)


def fingerprint(conn: psycopg.Connection[Any]) -> tuple[Any, ...]:
    row = conn.execute(
        "SELECT count(*), md5(string_agg(id || ':' || n, ',' ORDER BY id)) FROM rapp_item"
    ).fetchone()
    return tuple(row or ())


def sessions_gone(database: str) -> None:
    """Wait until the killed run's server sessions have ended (PostgreSQL notices the dead
    client within ``client_connection_check_interval``)."""
    with admin() as conn:
        end = time.monotonic() + 60
        while time.monotonic() < end:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND application_name LIKE 'zdt-safemigrate%%'", [database]
            ).fetchone()  # fmt: skip
            if row and row[0] == 0:
                return
            time.sleep(0.1)
    raise AssertionError("the killed run's sessions did not end")


def run_to_end(package: MigrationsPackage, database: str) -> tuple[int, str]:
    process = start_safemigrate(package, "rapp", url=url(database))
    out, err = process.communicate(timeout=300)
    return process.returncode, out + err


def kill_after(package: MigrationsPackage, database: str, lines: int, pause: float) -> str:
    """Start a run, SIGKILL it ``pause`` seconds after its ``lines``-th line of output (a
    point of the plan, whatever the machine's speed); returns what it printed."""
    process = start_safemigrate(package, "rapp", url=url(database))
    assert process.stdout is not None
    seen = [process.stdout.readline() for _ in range(lines)]
    time.sleep(pause)  # a random point inside the step that follows: the kill is the event
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    return "".join(seen)


def check(database: str, before: tuple[Any, ...], what: str) -> None:
    with psycopg.connect(url(database), autocommit=True) as conn:
        invalid = conn.execute(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid"
        ).fetchall()
        assert invalid == [], what
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM django_migrations WHERE app = 'rapp' ORDER BY name"
            ).fetchall()
        ]
        assert names == ["0001_item", *PLAN], what  # every step applied, each once
        assert fingerprint(conn) == before, what  # no row lost or changed
        off = conn.execute(
            "SELECT count(*) FROM rapp_item WHERE copy IS DISTINCT FROM n "
            "OR amount IS DISTINCT FROM n"
        ).fetchone()
        assert off == (0,), what  # both backfills complete
        for index in ("rapp_item_n_idx", "rapp_copy_idx"):
            assert conn.execute("SELECT to_regclass(%s)", [index]).fetchone() != (None,), what


def trial(package: MigrationsPackage, template: str, lines: int, pause: float) -> None:
    name = scratch_database_name()
    create(name, template)
    try:
        with psycopg.connect(url(name), autocommit=True) as conn:
            before = fingerprint(conn)
        killed = kill_after(package, name, lines, pause)
        sessions_gone(name)
        code, output = run_to_end(package, name)
        what = f"killed {pause:.2f}s after line {lines}:\n{killed}\n--- rerun:\n{output}"
        assert code == 0, what
        assert "Traceback" not in output, what
        check(name, before, what)
        if os.environ.get("ZDT_SHOW"):  # what each kill hit and what the rerun found
            print(what)
    finally:
        drop(name)


def test_sigkill_at_random_points_then_rerun(rapp: MigrationsPackage, template: str) -> None:
    calibration = scratch_database_name()
    create(calibration, template)
    try:
        code, output = run_to_end(rapp, calibration)
        assert code == 0, output
    finally:
        drop(calibration)
    steps = output.split("safemigrate: applied")[0].count("\n")  # lines before the summary
    chance = random.Random(int(os.environ.get("ZDT_SEED", "15")))
    for _ in range(TRIALS):
        trial(rapp, template, chance.randint(1, steps), chance.uniform(0.0, 0.4))
