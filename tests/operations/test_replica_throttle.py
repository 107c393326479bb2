"""Acceptance: a backfill pauses while a real streaming replica lags, and resumes by itself.

A throwaway primary (initdb, own port; never the shared server) and a standby made from it
with ``pg_basebackup -R``. The backfill runs in its own process against the primary with
``ZDT_MAX_REPLICA_LAG_MS = 500`` and prints its events with their times. The test pauses
replay on the standby (``pg_wal_replay_pause()``), watches ``pg_stat_replication`` on the
primary for the moment the lag passes the limit, and expects the backfill to pause within
a second of it, to say why, to stay paused, and to resume when replay resumes, with every
row copied.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.runner.servers import PG_BIN, Cluster, free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LIMIT_MS = 500
ROWS = 100_000
TABLE = "replicated"


class Standby:
    """A streaming standby of ``primary`` (``pg_basebackup -R``), status every second."""

    def __init__(self, primary: Cluster) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="zdt-i16-standby-", dir="/tmp"))
        shutil.chown(self.dir, "postgres")
        self.data, self.port = self.dir / "data", free_port()
        address = ["-h", "127.0.0.1", "-p", primary.port, "-U", "postgres"]
        self._run(PG_BIN / "pg_basebackup", *address, "-D", self.data, "-R", "-c", "fast")
        with (self.data / "postgresql.auto.conf").open("a") as conf:
            conf.write(
                f"primary_conninfo = 'host=127.0.0.1 port={primary.port} user=postgres "
                "application_name=zdt-standby'\n"
            )

    def _run(self, *command: Any) -> None:
        done = subprocess.run([str(part) for part in command], user="postgres", capture_output=True)
        assert done.returncode == 0, done.stderr.decode()

    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def __enter__(self) -> Standby:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c wal_receiver_status_interval=1 -c fsync=off"
        )
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.dir / "log", "-o", options,
                  "-w", "start")  # fmt: skip
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
            user="postgres",
            capture_output=True,
        )
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def replicated() -> Iterator[tuple[Cluster, Standby, str]]:
    with Cluster() as primary:
        url = primary.create_database("zdt_replica")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"CREATE TABLE {TABLE} (id bigserial PRIMARY KEY, a int NOT NULL, b int)")
            conn.execute(f"INSERT INTO {TABLE} (a) SELECT g FROM generate_series(1, {ROWS}) g")
        with Standby(primary) as standby:
            wait_streaming(primary)
            yield primary, standby, url


def wait_streaming(primary: Cluster, deadline_s: float = 30.0) -> None:
    end = time.monotonic() + deadline_s
    with psycopg.connect(primary.url(), autocommit=True) as conn:
        while not conn.execute(
            "SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'"
        ).fetchone():
            assert time.monotonic() < end, "the standby never started streaming"
            time.sleep(0.1)


def replay_lag_ms(conn: psycopg.Connection[Any]) -> float:
    row = conn.execute(
        "SELECT coalesce(extract(epoch FROM replay_lag) * 1000, 0) FROM pg_stat_replication"
    ).fetchone()
    return float(row[0]) if row else 0.0


class Worker:
    """The backfill process; :meth:`next_event` reads its JSON lines."""

    def __init__(self, url: str) -> None:
        env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.operations.replica_worker", TABLE, str(LIMIT_MS)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.events: list[dict[str, Any]] = []

    def next_event(self, kind: str) -> dict[str, Any]:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            event = json.loads(line)
            self.events.append(event)
            if event["kind"] == kind:
                return event
        raise AssertionError(f"the backfill ended without a {kind!r} event: {self.stderr()}")

    def stderr(self) -> str:
        assert self.process.stderr is not None
        self.process.wait(timeout=60)
        return self.process.stderr.read()


def test_backfill_pauses_while_the_replica_lags_and_resumes(
    replicated: tuple[Cluster, Standby, str],
) -> None:
    primary, standby, url = replicated
    worker = Worker(url)
    try:
        worker.next_event("batch")
        with psycopg.connect(standby.url(), autocommit=True) as on_standby:
            on_standby.execute("SELECT pg_wal_replay_pause()")
            with psycopg.connect(primary.url(), autocommit=True) as on_primary:
                while replay_lag_ms(on_primary) <= LIMIT_MS:
                    time.sleep(0.02)
                passed_at = time.time()
            paused = worker.next_event("pause")
            assert paused["at"] - passed_at < 1.0
            assert "replica zdt-standby replays" in paused["reason"]
            assert "ZDT_MAX_REPLICA_LAG_MS = 500" in paused["reason"]
            time.sleep(1.0)  # stays paused: replay is still stopped
            on_standby.execute("SELECT pg_wal_replay_resume()")
            resumed_at = time.time()
        resumed = worker.next_event("resume")
        assert resumed["seconds"] >= 1.0 and resumed["at"] >= resumed_at
        assert not [
            e
            for e in worker.events
            if e["kind"] == "batch" and paused["at"] < e["at"] < resumed["at"]
        ]
        worker.next_event("finished")
        output = worker.stderr()
    finally:
        worker.process.kill()
    assert "paused: replica zdt-standby replays" in output and "resumed after" in output
    with psycopg.connect(url) as conn:
        assert conn.execute(f"SELECT count(*) FROM {TABLE} WHERE b = a").fetchone() == (ROWS,)
