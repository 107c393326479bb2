"""Real gunicorn servers on loopback ports, driven by the traffic driver (PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from example_project.lifecycle import database, servers
from example_project.lifecycle.traffic import Budget, Target, drive

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[object]:
    started: list[servers.Server] = []
    env = {
        **os.environ,
        "DATABASE_URL": database.database_url(connection.settings_dict),
        "DJANGO_SETTINGS_MODULE": "example_project.settings",
    }

    def _start(release: int) -> servers.Server:
        server = servers.start(release, env, Path(settings.BASE_DIR), tmp_path, threads=2)
        started.append(server)
        servers.wait_ready(server)
        return server

    yield _start
    for server in started:
        servers.stop(server)


def test_two_servers_share_traffic_50_50_without_errors(start) -> None:
    blue, green = start(4), start(4)
    assert blue.port != green.port
    # Both run release 4; label them apart so the recorder counts each server on its own.
    targets = [Target(40, blue.target.host, blue.port), Target(41, green.target.host, green.port)]
    result = drive(targets, Budget(requests=40, seconds=60, threads=2))
    assert result.errors == 0, result.sample_errors
    assert [r.requests for r in result.per_release] == [20, 20]
    assert all(r.p50_ms is not None and r.p99_ms is not None for r in result.per_release)


def test_a_release_that_does_not_fit_the_schema_is_counted_as_failing(start) -> None:
    """Release 1 reads last_name, which the latest schema no longer has: every request that
    touches the table fails, and the driver reports it (the seed's "2.0.0.BAD" case)."""
    good, bad = start(4), start(1)
    result = drive([good.target, bad.target], Budget(requests=20, seconds=60, threads=2))
    by_release = {r.release: r for r in result.per_release}
    assert by_release[1].failed > 0
    assert by_release[4].errors == 0
    assert any("on r1: HTTP 500" in message for message in result.sample_errors)
    assert any("last_name" in line for line in bad.error_lines()), bad.log_tail()


def test_an_unreachable_server_is_a_failure_not_a_hang() -> None:
    free = servers._listening_socket()
    port = free.getsockname()[1]
    free.close()
    result = drive([Target(9, "127.0.0.1", port)], Budget(requests=4, seconds=30, threads=1))
    assert result.per_release[0].failed == 1
    assert result.requests == 1


def test_a_server_that_cannot_start_reports_its_log(tmp_path: Path) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "example_project.settings"}
    server = servers.start(7, env, Path(settings.BASE_DIR), tmp_path, threads=1)
    try:
        with pytest.raises(servers.ServerFailed, match="release 7"):
            servers.wait_ready(server, timeout=60)
    finally:
        servers.stop(server)
