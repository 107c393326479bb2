"""Throttling a backfill, like gh-ost and pt-online-schema-change: pause, say why, resume.

Between two batches the engine asks :func:`reason` whether to wait. It waits while

- a streaming replica replays more than ``ZDT_MAX_REPLICA_LAG_MS`` behind
  (``pg_stat_replication`` on the primary: ``replay_lag``, 0 once the standby has replayed
  all it was sent);
- the project's own check, ``ZDT_BACKFILL_THROTTLE_SQL``, returns a true first column
  (e.g. ``SELECT count(*) > 50 FROM pg_stat_activity WHERE state = 'active'``);
- someone ran ``manage.py backfill pause <key>`` (the ledger's ``pause_requested``).

Live sessions waiting on the backfill's row locks are bounded inside each batch instead:
the batch runs with ``statement_timeout`` = ``ZDT_MAX_BLOCKING_MS``, and a batch cancelled
by it (or by ``safemigrate``'s monitor) is rolled back, halved and retried after a pause
(:mod:`~django_zero_downtime.operations.batches`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from django_zero_downtime import conf, events

POLL_S = 0.1
REMIND_EVERY_S = 30.0

REPLICA_LAG_SQL = """
SELECT application_name, client_addr::text,
       CASE WHEN replay_lsn = sent_lsn THEN 0
            ELSE coalesce(extract(epoch FROM replay_lag) * 1000, 0) END AS lag_ms
FROM pg_stat_replication
ORDER BY lag_ms DESC LIMIT 1
"""


@dataclass(frozen=True)
class ThrottleSettings:
    max_replica_lag_ms: int | None
    check_sql: str | None

    @classmethod
    def from_settings(cls) -> ThrottleSettings:
        values = conf.get_settings()
        return cls(values.MAX_REPLICA_LAG_MS, values.BACKFILL_THROTTLE_SQL)


NO_THROTTLE = ThrottleSettings(None, None)


def replica_reason(cursor: Any, limit_ms: int | None) -> str | None:
    """Why to wait for a replica, or None (no replica, none lagging, or no limit)."""
    if limit_ms is None:
        return None
    cursor.execute(REPLICA_LAG_SQL)
    row = cursor.fetchone()
    if row is None or row[2] <= limit_ms:
        return None
    name = row[0] or row[1] or "a standby"
    return (
        f"replica {name} replays {float(row[2]) / 1000:.1f} s behind "
        f"(ZDT_MAX_REPLICA_LAG_MS = {limit_ms})"
    )


def check_reason(cursor: Any, sql: str | None) -> str | None:
    """Why the project's ZDT_BACKFILL_THROTTLE_SQL says to wait, or None."""
    if not sql:
        return None
    cursor.execute(sql)
    row = cursor.fetchone()
    return "ZDT_BACKFILL_THROTTLE_SQL returned true" if row and row[0] else None


def reason(cursor: Any, settings: ThrottleSettings, pause_requested: bool) -> str | None:
    """The first reason to wait before the next batch, or None to go on."""
    if pause_requested:
        return "paused with `manage.py backfill pause` (resume: `manage.py backfill resume`)"
    return replica_reason(cursor, settings.max_replica_lag_ms) or check_reason(
        cursor, settings.check_sql
    )


def wait_while(
    ask: Callable[[], str | None], key: str, out: TextIO, sleep: Callable[[float], None]
) -> float:
    """Poll ``ask`` until it returns None; say why and for how long. Returns seconds waited."""
    why = first = ask()
    if why is None:
        return 0.0
    started = last_said = time.monotonic()
    say(out, f"backfill {key}: paused: {why}")
    events.emit("pause", key=key, reason=why)
    while why is not None:
        sleep(POLL_S)
        why = ask()
        if why and time.monotonic() - last_said >= REMIND_EVERY_S:
            last_said = time.monotonic()
            say(out, f"backfill {key}: still paused ({last_said - started:.0f} s): {why}")
    seconds = time.monotonic() - started
    say(out, f"backfill {key}: resumed after {seconds:.1f} s (paused: {first})")
    events.emit("resume", key=key, reason=first, seconds=seconds)
    return seconds


def say(out: TextIO, line: str) -> None:
    out.write(f"  {line}\n")
    out.flush()
