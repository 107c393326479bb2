"""Fixtures for the runner tests: a test app whose migrations each test writes, a way to run
``safemigrate`` in-process or as real subprocesses, and raw extra database sessions."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import override_settings

from django_zero_downtime.runner.locks import connect_kwargs
from tests.conftest import scratch_url

REPO = Path(__file__).resolve().parents[2]

HEADER = "from django.db import migrations, models\n\n\n"


def migration(deps: list[str], operations: str, *, atomic: bool = True, extra: str = "") -> str:
    """Source of a migration of the test app ``rapp``."""
    dependencies = ", ".join(f"('rapp', '{d}')" for d in deps)
    return (
        f"{HEADER}class Migration(migrations.Migration):\n"
        f"    atomic = {atomic}\n{extra}"
        f"    dependencies = [{dependencies}]\n"
        f"    operations = [\n{operations}\n    ]\n"
    )


CREATE_ITEM = migration(
    [],
    """        migrations.CreateModel(
            name="Item",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("n", models.IntegerField(default=0)),
            ],
        ),""",
)

ADD_NOTE = migration(
    ["0001_item"],
    '        migrations.AddField("item", "note", models.TextField(null=True)),',
)


@dataclass
class Result:
    code: int
    out: str
    err: str


class MigrationsPackage:
    """A package of migrations for the app ``rapp`` in a temporary directory."""

    def __init__(self, root: Path) -> None:
        self.name = f"zdt_mig_{uuid.uuid4().hex[:10]}"
        self.path = root / self.name
        self.path.mkdir()
        (self.path / "__init__.py").write_text("")

    def write(self, **files: str) -> None:
        for name, source in files.items():
            (self.path / f"{name}.py").write_text(source)
        importlib.invalidate_caches()

    def remove(self, name: str) -> None:
        (self.path / f"{name}.py").unlink()
        importlib.invalidate_caches()


@pytest.fixture
def rapp(tmp_path: Path) -> Iterator[MigrationsPackage]:
    """The test app installed with an empty migrations package; its tables dropped after."""
    package = MigrationsPackage(tmp_path)
    sys.path.insert(0, str(tmp_path))
    apps = [*settings.INSTALLED_APPS, "tests.runner.rapp"]
    with override_settings(INSTALLED_APPS=apps, MIGRATION_MODULES={"rapp": package.name}):
        try:
            yield package
        finally:
            _drop_rapp_tables()
            sys.path.remove(str(tmp_path))


def _drop_rapp_tables() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'rapp\\_%%'")
        for (table,) in cursor.fetchall():
            cursor.execute(f'DROP TABLE IF EXISTS "{table}" CASCADE')
        cursor.execute("DELETE FROM django_migrations WHERE app = 'rapp'")
        cursor.execute("DROP FUNCTION IF EXISTS rapp_slow(integer)")


def safemigrate(*args: str, **options: Any) -> Result:
    """Run ``safemigrate`` in this process; returns its exit code and output."""
    out, err = StringIO(), StringIO()
    try:
        call_command("safemigrate", *args, stdout=out, stderr=err, **options)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return Result(code, out.getvalue(), err.getvalue())


def database_url() -> str:
    return scratch_url(connection.settings_dict, connection.settings_dict["NAME"])


def start_safemigrate(
    package: MigrationsPackage, *args: str, url: str | None = None, **env_vars: str
) -> subprocess.Popen[str]:
    """``safemigrate`` as a real subprocess against the test database (or ``url``)."""
    env = {
        **os.environ,
        **env_vars,
        "DATABASE_URL": url or database_url(),
        "ZDT_TEST_MIGRATIONS": package.name,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(package.path.parent)]),
        "DJANGO_SETTINGS_MODULE": "tests.runner.proc_settings",
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "django", "safemigrate", "--no-input", *args]
    return subprocess.Popen(
        command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def connect(application_name: str = "zdt-test") -> psycopg.Connection[Any]:
    """A raw extra session on the test database (not Django's connection)."""
    params = connect_kwargs(connection)
    return psycopg.connect(**params, autocommit=True, application_name=application_name)


def applied() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM django_migrations WHERE app = 'rapp' ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def fill(table: str, rows: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (n) SELECT g FROM generate_series(1, %s) g", [rows])
        cursor.execute(f"ANALYZE {table}")
