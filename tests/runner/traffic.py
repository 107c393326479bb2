"""Live traffic for the runner's concurrency tests and the lock-queue benchmark.

Each actor has its own PostgreSQL session. Sequencing uses events and lock waits; the only
timer is the scenario's own "a transaction stays open for N seconds".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

Connect = Callable[[str], Any]


class Reader(threading.Thread):
    """Issues ``sql`` (a 1-row SELECT) every ``interval`` seconds and records each latency."""

    def __init__(self, connect: Connect, sql: str, interval: float = 0.02) -> None:
        super().__init__(name="zdt-test-reader", daemon=True)
        self.conn = connect("zdt-test-reader")
        self.sql = sql
        self.interval = interval
        self.latencies: list[float] = []
        self.sent: list[float] = []
        """``time.perf_counter()`` when each SELECT was sent (for the docs' figure)."""
        self.running = threading.Event()
        self.done = threading.Event()

    def run(self) -> None:
        try:
            while not self.done.is_set():
                started = time.perf_counter()
                self.conn.execute(self.sql).fetchall()
                self.sent.append(started)
                self.latencies.append(time.perf_counter() - started)
                self.running.set()
                self.done.wait(self.interval)
        finally:
            self.conn.close()

    def __enter__(self) -> Reader:
        self.start()
        self.running.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.join(30)

    @property
    def longest(self) -> float:
        return max(self.latencies, default=0.0)


class Holder:
    """An open transaction holding ACCESS SHARE on ``table``; commits after ``seconds``
    (or when :meth:`commit` is called)."""

    def __init__(self, connect: Connect, table: str, seconds: float | None = None) -> None:
        self.conn = connect("zdt-test-holder")
        self.conn.execute("BEGIN")
        self.began = time.perf_counter()
        self.conn.execute(f"SELECT count(*) FROM {table} -- long report query").fetchall()
        self.pid = self.conn.info.backend_pid
        self.committed_at: float | None = None
        self._lock = threading.Lock()
        self.timer = threading.Timer(seconds, self.commit) if seconds else None
        if self.timer:
            self.timer.start()

    def commit(self) -> None:
        with self._lock:
            if self.committed_at is None:
                self.conn.execute("COMMIT")
                self.committed_at = time.perf_counter()
                self.conn.close()

    def __enter__(self) -> Holder:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.timer:
            self.timer.cancel()
        self.commit()


class Writer(threading.Thread):
    """The previous release writing: ``sql`` (an UPDATE/INSERT) every ``interval`` seconds in
    autocommit; records each latency and every error (none expected)."""

    def __init__(self, connect: Connect, sql: str, interval: float = 0.01) -> None:
        super().__init__(name="zdt-test-writer", daemon=True)
        self.conn = connect("zdt-test-writer")
        self.sql = sql
        self.interval = interval
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.running = threading.Event()
        self.done = threading.Event()

    def run(self) -> None:
        try:
            while not self.done.is_set():
                started = time.perf_counter()
                try:
                    self.conn.execute(self.sql)
                except Exception as exc:
                    self.errors.append(str(exc))
                self.latencies.append(time.perf_counter() - started)
                self.running.set()
                self.done.wait(self.interval)
        finally:
            self.conn.close()

    def __enter__(self) -> Writer:
        self.start()
        self.running.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.join(30)
