"""makemigrations for real: a scratch app, a rename/removal/NOT NULL add/index, migrate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from example_project.database import connect_kwargs, ensure_database, parse_database_url
from tests.dbnames import test_database_name

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = """\
from example_project.database import parse_database_url
SECRET_KEY = "x"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "pgtrigger",
                  "django_zero_downtime", "shop"]
DATABASES = {{"default": parse_database_url({url!r})}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
"""
MODELS_V1 = """\
from django.db import models

class Person(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    legacy = models.CharField(max_length=10, null=True)
"""
MODELS_V2 = """\
import pgtrigger
from django.db import models

class Person(models.Model):
    first_name = models.CharField(max_length=100)
    surname = models.CharField(max_length=100)
    nickname = models.CharField(max_length=20, default="none")

    class Meta:
        indexes = [models.Index(fields=["first_name"], name="person_first_idx")]
        triggers = [pgtrigger.Protect(name="protect_deletes", operation=pgtrigger.Delete)]
"""


@pytest.fixture
def project(tmp_path: Path) -> object:
    name = test_database_name("mm")
    config = parse_database_url(f"postgres://postgres@127.0.0.1:5432/{name}")
    from django.conf import settings

    default = settings.DATABASES["default"]
    config |= {k: default[k] for k in ("HOST", "PORT", "USER", "PASSWORD")}
    url = f"postgres://{config['USER']}:{config['PASSWORD']}@{config['HOST'] or '127.0.0.1'}:"
    url += f"{config['PORT'] or 5432}/{name}"
    _drop(config)
    ensure_database(config)
    (tmp_path / "shop" / "migrations").mkdir(parents=True)
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "migrations" / "__init__.py").write_text("")
    (tmp_path / "shop" / "models.py").write_text(MODELS_V1)
    (tmp_path / "settings.py").write_text(SETTINGS.format(url=url))
    yield tmp_path, config
    _drop(config)


def _drop(config: dict) -> None:
    with psycopg.connect(**connect_kwargs(config, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}" WITH (FORCE)')


def django(cwd: Path, *args: str, answers: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{ROOT}:{cwd}",
        "DJANGO_SETTINGS_MODULE": "settings",
        "ZDT_ALLOW_MIGRATE_IN_WEB_PROCESS": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        cwd=cwd,
        env=env,
        input=answers,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_makemigrations_writes_safe_operations_that_migrate(project: tuple) -> None:
    cwd, config = project
    assert django(cwd, "makemigrations", "shop").returncode == 0
    assert django(cwd, "migrate", "-v0").returncode == 0
    (cwd / "shop" / "models.py").write_text(MODELS_V2)

    unsafe = django(cwd, "makemigrations", "shop", "--check", "--no-zero-downtime", answers="y\n")
    assert unsafe.returncode == 1
    assert "ZDT102 rename-column" in unsafe.stdout and "ZDT101 drop-column" in unsafe.stdout

    done = django(cwd, "makemigrations", "shop", answers="y\n")
    assert done.returncode == 0, done.stderr
    written = sorted((cwd / "shop" / "migrations").glob("000[2-9]*.py"))
    texts = [path.read_text() for path in written]
    assert len(texts) == 4
    assert "DualWriteRename(" in texts[0] and "atomic = False" in texts[0]
    assert "('django_zero_downtime', '0001_initial')" in texts[0]
    assert "DeprecateColumn(" in texts[1] and "AddColumnWithDefault(" in texts[1]
    assert "atomic = False" not in texts[1]
    assert "AddIndexInSteps(" in texts[2] and "atomic = False" in texts[2]
    assert "pgtrigger.migrations.AddTrigger(" in texts[3]  # pgtrigger's autodetector still ran
    assert "atomic = False" not in texts[3]
    assert "error(s)" not in done.stdout or "0 error(s)" in done.stdout

    migrated = django(cwd, "migrate", "-v0")
    assert migrated.returncode == 0, migrated.stderr
    assert django(cwd, "makemigrations", "--check", "--dry-run").returncode == 0
    with psycopg.connect(**connect_kwargs(config, config["NAME"])) as conn:
        columns = {
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'shop_person'"
            )
        }
    assert {"last_name", "surname", "legacy", "nickname"} <= columns
