"""One harness for the acceptance tests of makemigrations' zero-downtime paths.

A scratch project (app ``shop``) on its own database, a table filled fast with
``generate_series``, and a writer thread on its own connection that inserts and updates
single rows through the previous release's columns while the migrations apply. Each test
is then: models before, rows, writer, models after, ``makemigrations``, ``--check``, one
``safemigrate --release`` per release, and the checks of :meth:`Edit.verify`.

Rows: ``ZDT_ACCEPT_ROWS`` (default 200,000, as the acceptance of issue 12 asks; twice the
size rule's 100,000 so the rule is exercised).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from example_project.database import connect_kwargs, ensure_database, parse_database_url
from tests.dbnames import test_database_name

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ROWS = 200_000
ROWS = int(os.environ.get("ZDT_ACCEPT_ROWS") or DEFAULT_ROWS)
SIZE_RULE = 100_000
SETTINGS = """\
from example_project.database import parse_database_url
SECRET_KEY = "x"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "pgtrigger",
                  "django_zero_downtime", "shop"]
DATABASES = {{"default": parse_database_url({url!r})}}
DEFAULT_AUTO_FIELD = {auto!r}
USE_TZ = True
ZDT_LARGE_TABLE_ROWS = {size}
ZDT_BACKFILL_BATCH_SIZE = 5000
ZDT_DEPRECATION_CYCLES = 1
"""


@dataclass
class Project:
    root: Path
    config: dict[str, Any]

    def write_models(self, text: str) -> None:
        (self.root / "shop" / "models.py").write_text(text)

    def django(self, *args: str, answers: str = "") -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": f"{ROOT}:{self.root}",
            "DJANGO_SETTINGS_MODULE": "settings",
        }
        return subprocess.run(
            [sys.executable, "-m", "django", *args],
            cwd=self.root,
            env=env,
            input=answers,
            capture_output=True,
            text=True,
            timeout=600,
        )

    def ok(self, *args: str, answers: str = "") -> str:
        done = self.django(*args, answers=answers)
        assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(**connect_kwargs(self.config, self.config["NAME"]), autocommit=True)

    def one(self, sql: str, params: Any = None) -> Any:
        with self.connect() as conn:
            row = conn.execute(sql, params).fetchone()
        return row[0] if row and len(row) == 1 else row

    def migrations(self) -> list[str]:
        return sorted(p.name for p in (self.root / "shop" / "migrations").glob("0*.py"))

    def migration_text(self, prefix: str) -> str:
        found = list((self.root / "shop" / "migrations").glob(f"{prefix}*.py"))
        assert len(found) == 1, found
        return found[0].read_text()


def make_project(
    tmp_path: Path, kind: str, auto: str = "django.db.models.AutoField"
) -> Iterator[Project]:
    name = test_database_name(kind)
    config = parse_database_url(f"postgres://postgres@127.0.0.1:5432/{name}")
    from django.conf import settings

    default = settings.DATABASES["default"]
    config |= {k: default[k] for k in ("HOST", "PORT", "USER", "PASSWORD")}
    url = f"postgres://{config['USER']}:{config['PASSWORD']}@{config['HOST'] or '127.0.0.1'}:"
    url += f"{config['PORT'] or 5432}/{name}"
    drop_database(config)
    ensure_database(config)
    (tmp_path / "shop" / "migrations").mkdir(parents=True)
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "migrations" / "__init__.py").write_text("")
    (tmp_path / "settings.py").write_text(SETTINGS.format(url=url, auto=auto, size=SIZE_RULE))
    try:
        yield Project(tmp_path, config)
    finally:
        drop_database(config)


def drop_database(config: dict[str, Any]) -> None:
    with psycopg.connect(**connect_kwargs(config, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}" WITH (FORCE)')


@dataclass
class Writer:
    """Single-row INSERTs and UPDATEs on its own connection, timed, errors kept."""

    project: Project
    insert_sql: str
    update_sql: str
    """Takes one parameter: a primary key of an existing row."""
    max_id: int
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    inserts: int = 0
    updates: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Writer:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        with self.project.connect() as conn:
            conn.execute("SET application_name = 'zdt-acceptance-writer'")
            number = 0
            while not self._stop.is_set():
                number += 1
                self._timed(conn, self.insert_sql, None, insert=True)
                self._timed(
                    conn, self.update_sql, [1 + (number * 7919) % self.max_id], insert=False
                )
                time.sleep(0.002)

    def _timed(self, conn: Any, sql: str, params: Any, insert: bool) -> None:
        started = time.monotonic()
        try:
            conn.execute(sql, params)
        except psycopg.Error as exc:
            self.errors.append(f"{sql}: {exc}")
            return
        finally:
            self.latencies.append(time.monotonic() - started)
        if insert:
            self.inserts += 1
        else:
            self.updates += 1

    def stop(self) -> Writer:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=30)
        return self

    def assert_unharmed(self) -> None:
        assert self.errors == [], self.errors[:5]
        assert self.inserts > 0 and self.updates > 0
        assert max(self.latencies) < 2.0, f"a write waited {max(self.latencies):.2f}s"


BASE_MODEL = """\
from django.db import models


class Item(models.Model):
    name = models.CharField(max_length=100)
    qty = models.IntegerField(default=0)
{extra}
"""


def models(extra: str = "", tail: str = "") -> str:
    return BASE_MODEL.format(extra=extra) + tail


def fill(project: Project, sql: str) -> None:
    """Bulk rows (``sql`` uses generate_series(1, ROWS) as g), then ANALYZE for the size rule."""
    with project.connect() as conn:
        conn.execute(sql.replace("ROWS", str(ROWS)))
        conn.execute("ANALYZE")


def relfilenode(project: Project, table: str) -> int:
    return int(project.one("SELECT relfilenode FROM pg_class WHERE oid = %s::regclass", [table]))


def checksum(project: Project, table: str, columns: str, upto: int) -> str:
    return str(
        project.one(
            f"SELECT md5(string_agg(concat_ws(':', {columns}), ',' ORDER BY id)) "
            f"FROM {table} WHERE id <= %s",
            [upto],
        )
    )


@dataclass
class Edit:
    """One model edit applied to a full table under traffic, then verified."""

    project: Project
    before: str
    after: str
    insert_sql: str = "INSERT INTO shop_item (name, qty) VALUES ('w', 0)"
    update_sql: str = "UPDATE shop_item SET qty = qty + 1 WHERE id = %s"
    fill_sql: str = (
        "INSERT INTO shop_item (name, qty) SELECT 'n' || g, g % 100 FROM generate_series(1, ROWS) g"
    )
    table: str = "shop_item"
    checked_columns: str = "id, name"
    releases: int = 1
    outputs: list[str] = field(default_factory=list)
    answers: str = ""
    """What makemigrations reads from its prompt (e.g. a one-off default)."""

    def prepare(self) -> None:
        self.project.write_models(self.before)
        self.project.ok("makemigrations", "shop")
        self.project.ok("safemigrate", "--release", "r1")
        fill(self.project, self.fill_sql)

    def run(self) -> Writer:
        """makemigrations, --check, then one safemigrate per release, under the writer."""
        project = self.project
        node = relfilenode(project, self.table)
        total = project.one(f"SELECT sum(qty) FROM {self.table}")
        sums = checksum(project, self.table, self.checked_columns, ROWS)
        project.write_models(self.after)
        self.outputs.append(project.ok("makemigrations", "shop", answers=self.answers))
        self.outputs.append(project.ok("safemigrate", "--check"))
        writer = Writer(project, self.insert_sql, self.update_sql, ROWS).start()
        try:
            for number in range(self.releases):
                self.outputs.append(project.ok("safemigrate", "--release", f"r{number + 2}"))
            time.sleep(0.2)
        finally:
            writer.stop()
        writer.assert_unharmed()
        assert relfilenode(project, self.table) == node, "the table was rewritten"
        assert project.one(f"SELECT count(*) FROM {self.table}") == ROWS + writer.inserts
        assert project.one(f"SELECT sum(qty) FROM {self.table}") == total + writer.updates
        assert checksum(project, self.table, self.checked_columns, ROWS) == sums
        project.ok("makemigrations", "--check", "--dry-run", "shop")
        return writer


LONG = bool(os.environ.get("ZDT_LONG"))
"""Run every edit on its own table (ZDT_LONG=1); by default one test applies them together."""
