"""Acceptance: two PostgreSQL databases and a router, end to end with real commands.

``tests/multidb`` is a project whose router keeps ``shop`` on ``default`` and ``audit`` on
``other`` (the ledger on both). ``safemigrate`` runs as a subprocess, once per database
(``--database other`` and ``ZDT_MIGRATION_DATABASE``), with rows to backfill on each; then
each database must hold exactly its own app's tables, dual-write triggers, backfilled rows
and ledger rows, and nothing of the other's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from django_zero_downtime.runner.locks import connect_kwargs
from tests.conftest import scratch_url
from tests.dbnames import scratch_database_name

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.django_db


@pytest.fixture
def two_databases() -> Iterator[dict[str, str]]:
    names = {"default": scratch_database_name(), "other": scratch_database_name()}
    params = connect_kwargs(connection)
    with psycopg.connect(**params, autocommit=True) as admin:
        for name in names.values():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield {alias: scratch_url(connection.settings_dict, name) for alias, name in names.items()}
    finally:
        with psycopg.connect(**params, autocommit=True) as admin:
            for name in names.values():
                admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def manage(urls: dict[str, str], *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.multidb.settings",
        "PYTHONPATH": str(ROOT),
        "ZDT_MULTIDB_DEFAULT_URL": urls["default"],
        "ZDT_MULTIDB_OTHER_URL": urls["other"],
        **env,
    }
    command = [sys.executable, "-m", "django", *args]
    result = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def query(url: str, statement: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(statement).fetchall()


def tables(url: str) -> set[str]:
    rows = query(url, "SELECT tablename FROM pg_tables WHERE tablename ~ '^(shop|audit)_'")
    return {row[0] for row in rows}


def triggers(url: str) -> set[str]:
    rows = query(
        url, "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE 'zdt\\_dw\\_%'"
    )
    return {row[0] for row in rows}


def ledger(url: str) -> tuple[set[str], set[str]]:
    progress = {
        row[0] for row in query(url, 'SELECT "table" FROM django_zero_downtime_backfillprogress')
    }
    deprecated = {
        row[0] for row in query(url, 'SELECT "table" FROM django_zero_downtime_deprecation')
    }
    return progress, deprecated


def test_each_database_gets_only_what_the_router_allows(two_databases: dict[str, str]) -> None:
    urls = two_databases
    manage(urls, "safemigrate", "shop", "0001", "--no-input")
    manage(urls, "safemigrate", "audit", "0001", "--database", "other", "--no-input")
    with psycopg.connect(urls["default"], autocommit=True) as conn:
        conn.execute("INSERT INTO shop_order (amount) SELECT g FROM generate_series(1, 3000) g")
    with psycopg.connect(urls["other"], autocommit=True) as conn:
        conn.execute(
            "INSERT INTO audit_entry (who) SELECT 'w' || g FROM generate_series(1, 2000) g"
        )
    manage(urls, "safemigrate", "--no-input", "--release", "r1")
    manage(urls, "safemigrate", "--no-input", "--release", "r1",
           ZDT_MULTIDB_MIGRATION_DATABASE="other")  # fmt: skip

    assert tables(urls["default"]) == {"shop_order"}
    assert tables(urls["other"]) == {"audit_entry"}
    assert triggers(urls["default"]) == {"shop_order"}
    assert triggers(urls["other"]) == {"audit_entry"}
    assert ledger(urls["default"]) == ({"shop_order"}, {"shop_order"})
    assert ledger(urls["other"]) == ({"audit_entry"}, {"audit_entry"})
    assert query(urls["default"], "SELECT count(*) FROM shop_order WHERE total = amount "
                 "AND price = amount") == [(3000,)]  # fmt: skip
    assert query(urls["other"], "SELECT count(*) FROM audit_entry WHERE copy = who "
                 "AND author = who") == [(2000,)]  # fmt: skip
    for url in urls.values():
        assert query(url, "SELECT release FROM django_zero_downtime_deploycycle") == [("r1",)]


def mixed(urls: dict[str, str], sqlite: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``manage.py`` on the project with a third, SQLite alias ``local``; any exit code."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.multidb.mixed_settings",
        "PYTHONPATH": str(ROOT),
        "ZDT_MULTIDB_DEFAULT_URL": urls["default"],
        "ZDT_MULTIDB_OTHER_URL": urls["other"],
        "ZDT_SQLITE_FILE": str(sqlite),
    }
    command = [sys.executable, "-m", "django", *args]
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True)


def test_a_sqlite_alias_and_an_unknown_alias(two_databases: dict[str, str], tmp_path: Path) -> None:
    """``--database`` on the SQLite alias: says PostgreSQL only, exits 0, applies nothing
    there; on an alias that does not exist: says which ones do, exits 3; and the
    PostgreSQL aliases are migrated as usual beside the SQLite one. ``manage.py backfill``
    on an unknown alias or one whose ledger is not migrated: a message, no traceback."""
    sqlite = tmp_path / "local.sqlite3"
    done = mixed(two_databases, sqlite, "safemigrate", "--no-input", "--database", "local")
    assert (done.returncode, done.stderr) == (0, "")
    assert "works on PostgreSQL only; database 'local' is sqlite" in done.stdout
    assert not sqlite.exists() or sqlite.stat().st_size == 0
    done = mixed(two_databases, sqlite, "safemigrate", "--no-input", "--database", "nosuch")
    assert done.returncode == 3 and "Traceback" not in done.stderr
    assert "--database 'nosuch' is not one of the DATABASES aliases (default, local, other)" in (
        done.stderr
    )
    done = mixed(two_databases, sqlite, "safemigrate", "--no-input", "--database", "other")
    assert done.returncode == 0, done.stdout + done.stderr
    assert tables(two_databases["other"]) == {"audit_entry"}
    status = mixed(two_databases, sqlite, "backfill", "status", "--database", "other")
    assert status.returncode == 0 and "audit.entry" in status.stdout, status.stderr
    for alias, says in [
        ("nosuch", "--database 'nosuch' is not one of the DATABASES aliases"),
        ("default", "Database 'default' has no ledger (no table django_zero_downtime_"),
    ]:
        done = mixed(two_databases, sqlite, "backfill", "pause", "k", "--database", alias)
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert says in done.stderr
