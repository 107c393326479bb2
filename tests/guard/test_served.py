"""Acceptance: a real gunicorn whose request handler tries to migrate.

The request is refused (409 with the guard's message), the pending migration stays
unapplied (checked in the database), and the next request is still served. The project is
tests/projects/served, on a database of its own that this test creates and drops.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from example_project.database import connect_kwargs

REPO = Path(__file__).resolve().parents[2]
PROJECT = REPO / "tests" / "projects" / "served"
DB_NAME = "zdt_guard_served_" + hashlib.sha1(str(REPO).encode()).hexdigest()[:8]
READY_TIMEOUT_S = 30.0

pytestmark = pytest.mark.slow


def admin_connection() -> psycopg.Connection:
    config = settings.DATABASES["default"]
    return psycopg.connect(**connect_kwargs(config, "postgres"), autocommit=True)


def query(sql: str) -> list[tuple]:
    config = settings.DATABASES["default"]
    with psycopg.connect(**connect_kwargs(config, DB_NAME)) as conn:
        return conn.execute(sql).fetchall()


def project_env() -> dict[str, str]:
    config = settings.DATABASES["default"]
    env = {**os.environ, "ZDT_PROJECT_DB": DB_NAME, "ZDT_PROJECT_DB_PORT": config["PORT"] or "5432"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT), str(PROJECT.parent)])
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_listening(port: int, server: subprocess.Popen[bytes]) -> None:
    """Poll the port until gunicorn accepts connections (bounded; fails if it exits)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"gunicorn exited early with code {server.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"gunicorn did not listen on port {port} within {READY_TIMEOUT_S}s")


@pytest.fixture
def project_database() -> Iterator[None]:
    with admin_connection() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    try:
        migrate = [sys.executable, "manage.py", "migrate", "django_zero_downtime", "-v0"]
        subprocess.run(migrate, cwd=PROJECT, env=project_env(), check=True, timeout=60)
        yield
    finally:
        with admin_connection() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


@pytest.fixture
def gunicorn(project_database: None) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "site_conf.wsgi:application"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=PROJECT, env=project_env(), stderr=subprocess.PIPE)
    try:
        wait_until_listening(port, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)
        assert server.stderr is not None
        server.stderr.close()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def pending_state() -> tuple[bool, list[tuple]]:
    table = query("SELECT to_regclass('pending_thing') IS NOT NULL")[0][0]
    recorded = query("SELECT name FROM django_migrations WHERE app = 'pending'")
    return table, recorded


def test_migrate_from_a_request_is_refused_and_the_server_keeps_serving(gunicorn: str) -> None:
    assert pending_state() == (False, [])

    status, body = get(f"{gunicorn}/migrate")
    assert status == 409, body
    assert body.startswith("MigrationInWebProcessError: Refusing to run migrate")
    assert "it has served a request through Django's WSGIHandler" in body
    assert "ZDT_ALLOW_MIGRATE_IN_WEB_PROCESS" in body

    status, body = get(f"{gunicorn}/executor")
    assert status == 409, body
    assert "MigrationExecutor.migrate" in body

    assert pending_state() == (False, [])
    status, body = get(f"{gunicorn}/health")
    assert status == 200
    assert json.loads(body)["status"] == "ok"


def test_a_wsgi_module_that_migrates_at_import_cannot_boot_under_gunicorn(
    project_database: None,
) -> None:
    """Before any request, the process is known as gunicorn: the import-time migrate fails."""
    command = [sys.executable, "-m", "gunicorn", "site_conf.wsgi_migrating:application"]
    command += ["--bind", f"127.0.0.1:{free_port()}", "--workers", "1"]
    result = subprocess.run(
        command, cwd=PROJECT, env=project_env(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "Refusing to run migrate: this process serves web requests" in result.stderr
    assert "(the program is gunicorn)" in result.stderr
    assert pending_state() == (False, [])
