"""On SQLite every operation is the plain Django operation it stands for; safemigrate says
"PostgreSQL only". A real SQLite database, in a subprocess with SQLite settings."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAY = "is sqlite, not PostgreSQL: its operations run as the plain Django operations"


def manage(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "tests.operations.sqlite_settings",
        "ZDT_SQLITE_FILE": str(db),
    }
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def columns(db: Path, table: str) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}


def test_every_operation_runs_as_plain_django_on_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "test.sqlite3"
    first = manage(db, "migrate", "portableapp", "0001")
    assert first.returncode == 0, first.stderr
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO portableapp_person (last_name) VALUES ('Lovelace')")
    expand = manage(db, "migrate", "portableapp", "0002")
    assert expand.returncode == 0, expand.stderr
    assert expand.stderr.count(SAY) == 1  # one line, not one per operation
    assert sorted(columns(db, "portableapp_person")) == ["id", "nickname", "surname"]
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT surname, nickname FROM portableapp_person").fetchone()
    assert row == ("Lovelace", "filled")  # renamed in place; backfill as one UPDATE
    rest = manage(db, "migrate")  # the whole history, the example app's dual-write included
    assert rest.returncode == 0, rest.stderr
    assert "Traceback" not in rest.stderr
    assert columns(db, "portableapp_person") == ["id", "surname"]
    assert "portableapp_legacy" not in tables(db)
    assert "last_name" not in columns(db, "people_person")  # people's 0003 dropped it
    back = manage(db, "migrate", "portableapp", "0001")
    assert back.returncode == 0, back.stderr
    assert columns(db, "portableapp_person") == ["id", "last_name"]
    assert "portableapp_legacy" in tables(db)


def test_safemigrate_says_postgresql_only_and_exits_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "test.sqlite3"
    for args in ([], ["--check"], ["--plan"], ["--rehearse"]):
        done = manage(db, "safemigrate", *args)
        assert done.returncode == 0, done.stderr
        assert "works on PostgreSQL only; database 'default' is sqlite" in done.stdout
        assert "Traceback" not in done.stderr
    assert not db.exists() or "people_person" not in tables(db)  # nothing applied
