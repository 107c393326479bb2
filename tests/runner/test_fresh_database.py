"""A new environment: the whole history, expand and contract steps, applies in one run.

No release can be serving from a database where nothing is applied yet, so ``safemigrate``
opens the deploy-cycle gates of drops for that run (and says so). On a database that has
migrations applied the gates stay closed (tests/runner/test_rules.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.runner.conftest import connect, database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def scratch_database() -> Iterator[str]:
    name = f"zdt_fresh_{uuid.uuid4().hex[:8]}"
    with connect() as admin:
        admin.autocommit = True
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with connect() as admin:
            admin.autocommit = True
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def _columns(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'people_person'"
        )
        return {row[0] for row in rows}


def _safemigrate(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "RELEASE": "4"}
    command = [sys.executable, "manage.py", "safemigrate", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.django_db
def test_whole_history_applies_on_a_fresh_database(scratch_database: str) -> None:
    url = database_url().rsplit("/", 1)[0] + "/" + scratch_database
    result = _safemigrate(url, "--release", "r1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no release can be serving from it" in result.stdout
    assert _columns(url) == {"id", "first_name", "surname"}  # release 4's drop ran
    again = _safemigrate(url, "--release", "r2")
    assert again.returncode == 0, again.stderr
    assert "no release can be serving" not in again.stdout
