"""What PostgreSQL's own statistics say about live traffic during the run, and the verdict.

Two snapshots of ``pg_stat_database`` (commits, rollbacks, deadlocks of this database) and,
when the extension is installed, ``pg_stat_statements`` (calls and total time of the top
queries): one just before the migration starts, one when it ends, plus the one when the run
started (the baseline window, at least :data:`BASELINE_S` with ``--verify``).

Verified means: no live session waited on the migration longer than the blocking budget,
and the rollback rate of the database did not climb by more than :data:`ROLLBACK_RISE`
(the runner's own rolled-back attempts are taken out first). PostgreSQL publishes a
backend's counters at most once a second, so a window is never shorter than a second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError

BASELINE_S = 2.0
"""With ``--verify``, traffic is measured at least this long before the migration starts."""
ROLLBACK_RISE = 0.01
"""Rise of the rollback rate (rollbacks / transactions) that fails the verdict: 1 point."""
FLUSH_S = 1.1
"""PostgreSQL flushes a busy backend's counters at most every second (PGSTAT_MIN_INTERVAL)."""
EXIT_NOT_VERIFIED = 4
TOP_QUERIES = 5

DATABASE_SQL = (
    "SELECT xact_commit, xact_rollback, deadlocks FROM pg_stat_database "
    "WHERE datname = current_database()"
)
STATEMENTS_SQL = """
SELECT queryid::text, left(query, 200), calls, total_exec_time
  FROM pg_stat_statements
 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND query NOT ILIKE '%%pg_stat%%'
 ORDER BY calls DESC LIMIT 50
"""


@dataclass(frozen=True)
class Snapshot:
    at: float
    commits: int
    rollbacks: int
    deadlocks: int
    statements: dict[str, tuple[str, int, float]] | None
    """queryid -> (query, calls, total ms); None without pg_stat_statements."""


def flush_own_stats(connection: Any) -> None:
    """Make the migration session publish its counters now (PostgreSQL 15+), so its own
    transactions land in the window they belong to: the flush happens when the first
    statement's transaction ends, before the second statement is read."""
    if connection.pg_version < 150000 or connection.in_atomic_block:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_force_next_flush()")
            cursor.execute("SELECT 1")
    except DatabaseError:  # statistics never break the run
        pass


def snapshot(conn: Any) -> Snapshot:
    """Counters now, on an autocommit psycopg connection (a fresh stats snapshot each time)."""
    conn.execute("SELECT pg_stat_clear_snapshot()")
    row = conn.execute(DATABASE_SQL).fetchone() or (0, 0, 0)
    return Snapshot(time.monotonic(), int(row[0]), int(row[1]), int(row[2]), _statements(conn))


def _statements(conn: Any) -> dict[str, tuple[str, int, float]] | None:
    present = conn.execute(
        "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'"
    ).fetchone()
    if not present:
        return None
    try:
        rows = conn.execute(STATEMENTS_SQL).fetchall()
    except Exception:  # installed but not preloaded: no statistics to read
        return None
    return {r[0]: (r[1], int(r[2]), float(r[3])) for r in rows}


def window(
    before: Snapshot, after: Snapshot, own_commits: int = 0, own_rollbacks: int = 0
) -> dict[str, Any]:
    """Traffic between two snapshots, without the runner's own transactions."""
    commits = max(after.commits - before.commits - own_commits, 0)
    rollbacks = max(after.rollbacks - before.rollbacks - own_rollbacks, 0)
    seconds = max(after.at - before.at, 1e-6)
    total = commits + rollbacks
    return {
        "seconds": round(seconds, 3),
        "commits": commits,
        "rollbacks": rollbacks,
        "deadlocks": after.deadlocks - before.deadlocks,
        "transactions_per_s": round(total / seconds, 1),
        "rollback_rate": round(rollbacks / total, 4) if total else 0.0,
    }


def top_queries(start: Snapshot, before: Snapshot, after: Snapshot) -> list[dict[str, Any]] | None:
    """Mean time of the busiest queries during the run against before it."""
    if start.statements is None or before.statements is None or after.statements is None:
        return None
    rows: list[dict[str, Any]] = []
    for qid, (query, calls, total) in after.statements.items():
        _, calls0, total0 = before.statements.get(qid, (query, 0, 0.0))
        _, calls_s, total_s = start.statements.get(qid, (query, 0, 0.0))
        if calls - calls0 > 0:
            rows.append({
                "query": query,
                "calls": calls - calls0,
                "mean_ms_during": round((total - total0) / (calls - calls0), 3),
                "mean_ms_before": _mean(total0 - total_s, calls0 - calls_s),
            })  # fmt: skip
    return sorted(rows, key=lambda r: -r["calls"])[:TOP_QUERIES]


def _mean(total: float, calls: int) -> float | None:
    return round(total / calls, 3) if calls > 0 else None


def verdict(
    budget_ms: int, longest_wait_ms: float, before: dict[str, Any], during: dict[str, Any]
) -> dict[str, Any]:
    """Pure: verified, and every reason it is not."""
    reasons = []
    if longest_wait_ms > budget_ms:
        reasons.append(
            f"a live session waited {longest_wait_ms:.0f} ms on the migration "
            f"(budget {budget_ms} ms)"
        )
    rise = during["rollback_rate"] - before["rollback_rate"]
    if rise > ROLLBACK_RISE and during["rollbacks"]:
        reasons.append(
            f"the rollback rate climbed from {before['rollback_rate']:.1%} before the run to "
            f"{during['rollback_rate']:.1%} during it"
        )
    return {
        "verified": not reasons,
        "budget_ms": budget_ms,
        "longest_wait_ms": longest_wait_ms,
        "rollback_rate_before": before["rollback_rate"],
        "rollback_rate_during": during["rollback_rate"],
        "reasons": reasons,
    }


def after_outcome(result: dict[str, Any], exit_code: int, outcome: str) -> dict[str, Any]:
    """Pure: a run that did not finish (refused, gave up, error) verifies nothing, however
    calm the traffic was: the verdict says so instead of "verified"."""
    if not result or exit_code in (0, EXIT_NOT_VERIFIED):
        return result
    reason = f"the run did not finish ({outcome}, exit code {exit_code})"
    return {**result, "verified": False, "reasons": [reason, *result.get("reasons", [])]}


def verdict_line(result: dict[str, Any]) -> str:
    if result["verified"]:
        return (
            f"  verified: no live session waited longer than {result['budget_ms']} ms "
            f"(longest {result['longest_wait_ms']:.0f} ms); rollback rate "
            f"{result['rollback_rate_before']:.1%} before, {result['rollback_rate_during']:.1%} "
            "during"
        )
    return "  NOT verified: " + "; ".join(result["reasons"])
