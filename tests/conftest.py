"""Suite-wide set-up: refuse to run without PostgreSQL, with a message that says how."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.dbnames import scratch_database_name

ROOT = Path(__file__).resolve().parents[1]


def pytest_sessionstart(session: pytest.Session) -> None:
    from django.conf import settings

    from example_project.database import ensure_database

    try:
        ensure_database(settings.DATABASES["default"])
    except SystemExit as exc:
        pytest.exit(str(exc), returncode=3)


@pytest.fixture
def scratch_database_url() -> Iterator[str]:
    """URL of a new, empty database on the test server, dropped afterwards (a new environment)."""
    import psycopg
    from django.db import connection
    from psycopg import sql

    from django_zero_downtime.runner.locks import connect_kwargs

    name = scratch_database_name()
    params = connect_kwargs(connection)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield scratch_url(connection.settings_dict, name)
    finally:
        with psycopg.connect(**params, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def scratch_url(config: dict[str, Any], name: str) -> str:
    auth = quote(config["USER"] or "postgres")
    if config["PASSWORD"]:
        auth += ":" + quote(config["PASSWORD"])
    return f"postgres://{auth}@{config['HOST'] or '127.0.0.1'}:{config['PORT'] or 5432}/{name}"


def manage(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``manage.py`` of the example project (release 4) as a subprocess on database ``url``."""
    env = {**os.environ, "DATABASE_URL": url, "RELEASE": "4"}
    command = [sys.executable, "manage.py", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
