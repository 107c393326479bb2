"""The release heartbeat of web processes (guard/heartbeat.py): started by the first request
a real WSGI server serves, what it maps, failures swallowed with one log line."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from django_zero_downtime import ledger
from django_zero_downtime.guard import heartbeat
from tests.runner.conftest import REPO, database_url
from tests.runner.servers import free_port
from tests.runner.test_processes import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

WSGI_SERVER = """
import sys
from wsgiref.simple_server import make_server
from django.core.wsgi import get_wsgi_application
server = make_server("127.0.0.1", int(sys.argv[1]), get_wsgi_application())
print("ready", flush=True)
server.serve_forever()
"""


def rows(release: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {ledger.SERVING} WHERE release = %s", [release])
        return int(cursor.fetchone()[0])


@pytest.mark.slow
def test_the_first_request_a_plain_wsgi_server_serves_starts_the_heartbeat(
    tmp_path: Path,
) -> None:
    """Not a known server program: the process is a web process once it serves a request."""
    script = tmp_path / "serve.py"
    script.write_text(WSGI_SERVER)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "ZDT_RELEASE": "W1",
        "PYTHONPATH": str(REPO),
    }
    server = subprocess.Popen(
        [sys.executable, str(script), str(port)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        assert rows("w1") == 0  # started, not yet a web process
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/no-such-page", timeout=10)
        wait_for(lambda conn: rows("w1"), "the heartbeat's first report")
    finally:
        server.terminate()
        server.wait(timeout=30)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT host, pid, maps FROM {ledger.SERVING} WHERE release = 'w1'")
        host, pid, maps = cursor.fetchone()
    assert pid == server.pid and host
    maps = json.loads(maps) if isinstance(maps, str) else maps
    assert "not_counted" in maps["django_zero_downtime_deploycycle"]  # the models it maps


def test_mapped_schema_lists_tables_and_columns_of_the_models() -> None:
    maps = heartbeat.mapped_schema()
    assert "not_counted" in maps["django_zero_downtime_deploycycle"]
    assert maps["auth_user_groups"] == ["group_id", "id", "user_id"]  # auto-created M2M


def test_a_failing_beat_is_one_log_line_and_the_next_beat_recovers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    beat = heartbeat.Heartbeat("r1", 1.0, threading.Event())
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {ledger.SERVING} RENAME TO zdt_serving_away")
    try:
        with caplog.at_level(logging.INFO, logger="django_zero_downtime.heartbeat"):
            beat.beat("default", "{}")
            beat.beat("default", "{}")
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE zdt_serving_away RENAME TO {ledger.SERVING}")
    [record] = caplog.records
    assert "could not report release 'r1' as serving" in record.getMessage()
    assert "the process serves on" in record.getMessage()
    assert beat.first  # the first beat is sent again
    beat.beat("default", "{}")
    assert rows("r1") == 1 and not beat.first
    beat.beat("default", "{}")  # a later beat moves last_seen of the same row
    assert rows("r1") == 1


def test_off_without_a_release(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZDT_RELEASE", raising=False)
    heartbeat.stop()
    before = threading.active_count()
    heartbeat.ensure_running()  # tests set no ZDT_RELEASE
    assert threading.active_count() == before
    heartbeat.stop()


def pids(release: str) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pid FROM {ledger.SERVING} WHERE release = %s", [release])
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.slow
def test_gunicorn_preload_master_and_its_forked_worker_each_report() -> None:
    """``--preload``: the app (and the heartbeat's thread) starts in the master, and a
    thread does not survive the fork; the worker's first request starts its own."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "ZDT_RELEASE": "g1",
        "PYTHONPATH": str(REPO),
    }
    command = [
        str(Path(sys.executable).with_name("gunicorn")), "--preload", "-w", "1",
        "-b", f"127.0.0.1:{port}", "example_project.wsgi:application",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env, cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda conn: server.pid in pids("g1"), "the master's start-up report")
        wait_for(lambda conn: _answers(port), "gunicorn to answer")
        wait_for(lambda conn: len(pids("g1")) == 2, "the forked worker's report")
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert server.pid in pids("g1")


def _answers(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/no-such-page", timeout=5)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True
