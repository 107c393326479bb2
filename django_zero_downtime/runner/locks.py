"""Lock discipline of the runner: timeouts, the retry schedule, blockers, one run at a time.

- Every DDL runs with ``SET LOCAL lock_timeout`` (and ``statement_timeout``) in a short
  transaction, so a DDL waiting behind a long transaction gives up after a fraction of a
  second instead of queueing every later query on the table (docs/postgres-facts.md#lock-queue).
  ``SET LOCAL`` dies with its transaction, so nothing leaks through a transaction pooler.
- A timed-out step is retried after :func:`django_zero_downtime.retry.backoff_schedule`
  delays (exponential, capped, with jitter; the batch engine uses the same schedule); when
  the schedule is spent the run gives up naming the blocking sessions.
- One run per database at a time: :mod:`.exclusion` (the run lock, keyed by
  :func:`advisory_key`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any


def set_local_timeouts(cursor: Any, lock_timeout_ms: int, statement_timeout_ms: int) -> None:
    """``SET LOCAL`` both timeouts for the current transaction only."""
    cursor.execute(
        "SELECT set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true)",
        [f"{lock_timeout_ms}ms", f"{statement_timeout_ms}ms"],
    )


def set_session_timeouts(cursor: Any, lock_timeout_ms: int, statement_timeout_ms: int) -> None:
    """Session-level timeouts, only for statements that cannot run in a transaction."""
    cursor.execute(
        "SELECT set_config('lock_timeout', %s, false), set_config('statement_timeout', %s, false)",
        [f"{lock_timeout_ms}ms", f"{statement_timeout_ms}ms"],
    )


@dataclass(frozen=True)
class Session:
    """A database session as seen in pg_stat_activity (a blocker or a blocked client)."""

    pid: int
    application: str
    state: str
    xact_age_s: float | None
    wait_s: float | None
    query: str

    def describe(self) -> str:
        age = "no transaction" if self.xact_age_s is None else f"transaction {self.xact_age_s:.1f}s"
        app = self.application or "(no application_name)"
        return f"pid {self.pid} [{app}] {self.state or '?'}, {age}: {self.query or '(no query)'}"


AROUND_SQL = """
SELECT s.pid, s.application, s.state, s.xact_age_s,
       (SELECT extract(epoch FROM clock_timestamp() - min(l.waitstart))::float8
          FROM pg_locks l WHERE l.pid = s.pid AND NOT l.granted),
       s.query, s.blocker, s.blocked
  FROM (SELECT a.pid, coalesce(a.application_name, '') AS application,
               coalesce(a.state, '') AS state,
               extract(epoch FROM clock_timestamp() - a.xact_start)::float8 AS xact_age_s,
               split_part(coalesce(a.query, ''), E'\\n', 1) AS query,
               a.pid = ANY(m.blockers) AS blocker,
               %(pid)s = ANY(pg_blocking_pids(a.pid)) AS blocked
          FROM pg_stat_activity a, (SELECT pg_blocking_pids(%(pid)s) AS blockers) m) s
 WHERE s.blocker OR s.blocked
 ORDER BY s.pid
"""
"""The sessions around backend ``pid`` in one query: those it waits on (``blocker``) and
those waiting on it (``blocked``); ``pg_blocking_pids(pid)`` evaluated once."""


def around(cursor: Any, pid: int) -> tuple[list[Session], list[Session]]:
    """``(blocked, blockers)``: the sessions waiting on ``pid`` and those ``pid`` waits on."""
    cursor.execute(AROUND_SQL, {"pid": pid})
    blocked: list[Session] = []
    blockers: list[Session] = []
    for row in cursor.fetchall():
        session = Session(row[0], row[1], row[2], row[3], row[4], row[5][:200])
        if row[6]:
            blockers.append(session)
        if row[7]:
            blocked.append(session)
    return blocked, blockers


def connect_kwargs(connection: Any) -> dict[str, Any]:
    """psycopg.connect arguments for an extra session to ``connection``'s database."""
    params = dict(connection.get_connection_params())
    for driver_object in ("cursor_factory", "context", "application_name"):
        params.pop(driver_object, None)
    return params


def advisory_key(database: str) -> int:
    """A fixed signed 64-bit advisory-lock key per database name."""
    digest = hashlib.sha256(f"django-zero-downtime:safemigrate:{database}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
