"""One safemigrate run per database, for real: under waiting runs, dying sessions and poolers.

- **Waiting holds no snapshot.** A run waiting its turn polls ``pg_try_advisory_lock`` in
  autocommit (never ``pg_advisory_lock``, never an open transaction). A blocked
  ``pg_advisory_lock`` keeps a snapshot, and ``CREATE INDEX CONCURRENTLY`` of the run holding
  the lock waits for every snapshot: a deadlock PostgreSQL cannot see
  (docs/postgres-facts.md#measured).
- **The lock is kept alive and re-verified.** The lock session turns off
  ``idle_session_timeout`` and friends for itself, uses TCP keepalives, and a keeper thread
  pings it every :data:`KEEPALIVE_S`. Before every step the runner calls
  :meth:`RunLock.verify_on` (one query on the migration session: the server's lock table).
  When the session died (terminated, timed out, TCP drop), the keeper reconnects and takes the
  lock again if nobody else did ("kept"); otherwise the run is stopped ("lost"): the running
  statement is cancelled and :class:`RunLockLost` says where it stopped.
- **A new holder waits for the old migration session.** After taking the lock a run waits
  until no other session named :data:`MIGRATION_APP` is left on the database (a killed run's
  backend finishing its statement, a run that lost its lock and is stopping), so two runs
  never apply at once even while the lock changes hands.
- **Transaction poolers are refused.** Behind PgBouncer in transaction mode a session lock,
  session settings, ``CREATE INDEX CONCURRENTLY`` timeouts and the backend pid the monitor
  watches all land on whichever server connection the pooler picks. :func:`pooler_problem`
  detects it (the backend pid changes between transactions, or two clients share one) before
  anything is locked or set; the run refuses with the fix.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

from django_zero_downtime.exceptions import ZeroDowntimeError
from django_zero_downtime.runner.locks import advisory_key

LOCK_APP = "zdt-safemigrate-lock"
MIGRATION_APP = "zdt-safemigrate"
POLL_S = 0.5
KEEPALIVE_S = 1.0
WAITING_NOTE_EVERY_S = 30.0

KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 3,
    "keepalives_count": 3,
}
"""libpq TCP keepalives of our own connections: a dead peer is noticed within ~20 s."""

SESSION_SETTINGS = {
    "idle_session_timeout": "0",
    "idle_in_transaction_session_timeout": "0",
    "tcp_keepalives_idle": "10",
    "tcp_keepalives_interval": "3",
    "tcp_keepalives_count": "3",
}
"""Per-session settings against the server killing our idle sessions (only those the
server knows are set: ``idle_session_timeout`` is PostgreSQL 14+)."""

Say = Callable[[str], None]


class RunLockLost(ZeroDowntimeError):
    """Another run took the run lock after this run's lock session died."""


class PoolerRefused(ZeroDowntimeError):
    """The migration database goes through a transaction-mode pooler."""


def apply_session_settings(cursor: Any, extra: dict[str, str] | None = None) -> None:
    """Set :data:`SESSION_SETTINGS` (and ``extra``) that this server knows, session-wide."""
    wanted = {**SESSION_SETTINGS, **(extra or {})}
    values = ", ".join(["(%s, %s)"] * len(wanted))
    cursor.execute(
        f"SELECT set_config(v.name, v.value, false) FROM (VALUES {values}) v(name, value) "
        "JOIN pg_settings s USING (name)",
        [item for pair in wanted.items() for item in pair],
    )


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def _pid(cursor: Any) -> int:
    cursor.execute("SELECT pg_backend_pid()")
    return int(cursor.fetchone()[0])


def pooled(first: Callable[[], int], second: Callable[[], int], rounds: int = 10) -> bool:
    """True when two client sessions are not each pinned to one backend (pure on the probes).

    Alternating autocommit statements: a transaction pooler hands the second client the
    server the first just released (LIFO) or rotates servers (round robin).
    """
    seen_first, seen_second = set(), set()
    for _ in range(rounds):
        seen_first.add(first())
        seen_second.add(second())
    return len(seen_first) > 1 or len(seen_second) > 1 or bool(seen_first & seen_second)


POOLER_FIX = (
    "safemigrate needs one PostgreSQL session for the whole run (the run lock, CREATE INDEX "
    "CONCURRENTLY timeouts, the backend the live-traffic monitor watches), but database "
    "{alias!r} ({where}) hands each transaction to a different server connection: a pooler "
    "in transaction mode (PgBouncer pool_mode=transaction). Nothing was locked or applied. "
    "Fix: point the migration database at PostgreSQL directly or at a session-mode pool "
    "(a second PgBouncer database entry with pool_mode=session), e.g. a DATABASES entry "
    'used by ZDT_MIGRATION_DATABASE = "migrations"; the web processes may keep the pooler.'
)


def pooler_problem(connection: Any, lock_conn: Any) -> str | None:
    """The refusal message when ``connection`` goes through a transaction pooler."""
    with connection.cursor() as cursor:
        if not pooled(lambda: _pid(cursor), lambda: _pid(lock_conn.cursor())):
            return None
    settings = connection.settings_dict
    where = f"{settings.get('HOST') or 'localhost'}:{settings.get('PORT') or 5432}"
    return POOLER_FIX.format(alias=connection.alias, where=where)


HOLDER_SQL = (
    "SELECT l.pid, extract(epoch FROM clock_timestamp() - a.backend_start)::int "
    "FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' "
    "AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = %s"
)
HELD_SQL = (
    "SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND pid = pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = %s)"
)
HELD_BY_SQL = (
    "SELECT pg_backend_pid(), EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' "
    "AND granted AND pid = %s AND ((classid::bigint << 32) | objid::bigint) = %s)"
)
OTHER_MIGRATION_SESSIONS = (
    "SELECT pid, coalesce(state, ''), split_part(coalesce(query, ''), E'\\n', 1) "
    "FROM pg_stat_activity WHERE application_name = %s AND datname = current_database() "
    "AND pid <> %s ORDER BY pid"
)


class RunLock:
    """The per-database run lock: a session advisory lock on a dedicated, kept-alive session."""

    def __init__(self, connect_kwargs: dict[str, Any], database: str, say: Say) -> None:
        self.params = {**KEEPALIVES, **connect_kwargs}
        self.key = advisory_key(database)
        self.database = database
        self.say = say
        self.conn = self._connect()
        self.lost = threading.Event()
        self.lost_reason = ""
        self.kept: list[str] = []
        """Each time the lock session died and the lock was taken again (for the report)."""
        self.on_lost: Callable[[], None] = lambda: None
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._keeper: threading.Thread | None = None

    def _connect(self) -> Any:
        import psycopg

        return psycopg.connect(**self.params, autocommit=True, application_name=LOCK_APP)

    def configure(self) -> None:
        """Session settings of the lock session (only once no pooler was found)."""
        apply_session_settings(self.conn.cursor(), {"statement_timeout": "10s"})

    # -- taking it ----------------------------------------------------------------------
    def try_acquire(self) -> bool:
        row = self.conn.execute("SELECT pg_try_advisory_lock(%s)", [self.key]).fetchone()
        return bool(row and row[0])

    def holder(self) -> str:
        """Who holds the lock now (pid and how long), for the waiting message."""
        row = self.conn.execute(HOLDER_SQL, [self.key]).fetchone()
        return f"pid {row[0]}, connected {row[1]}s ago" if row else "a session that just ended"

    def acquire(self, no_wait: bool) -> None:
        """Take the lock, polling without a transaction; raise under ``no_wait`` if taken."""
        if self.try_acquire():
            return
        holder = self.holder()
        if no_wait:
            raise ZeroDowntimeError(
                f"Another safemigrate run is applying migrations to database "
                f"{self.database!r} ({holder}); exiting because of --no-wait. "
                "Run again when it has finished."
            )
        self.say(f"Waiting for another safemigrate run on this database to finish ({holder})...")
        noted = time.monotonic()
        while not self.try_acquire():
            time.sleep(POLL_S * (0.5 + random.random()))
            if time.monotonic() - noted > WAITING_NOTE_EVERY_S:
                noted = time.monotonic()
                self.say(f"  still waiting for the run lock ({self.holder()})")

    def wait_for_previous_session(self, own_pid: int, no_wait: bool) -> None:
        """Wait until no earlier run's migration session is left (see the module docstring)."""
        deadline = time.monotonic() + (10.0 if no_wait else float("inf"))
        said = False
        query = (OTHER_MIGRATION_SESSIONS, [MIGRATION_APP, own_pid])
        while rows := self.conn.execute(*query).fetchall():
            if time.monotonic() > deadline:
                raise ZeroDowntimeError(
                    f"The migration session of an earlier run is still there (pid {rows[0][0]}, "
                    f"{rows[0][1]}: {rows[0][2]}); exiting because of --no-wait."
                )
            if not said:
                said = True
                self.say(
                    f"Waiting for the migration session of an earlier run to end (pid "
                    f"{rows[0][0]}, {rows[0][1] or '?'}: {rows[0][2] or '(no query)'})..."
                )
            time.sleep(POLL_S / 2)

    # -- keeping it -----------------------------------------------------------------------
    def start_keeper(self) -> None:
        self._keeper = threading.Thread(target=self._keep, name="zdt-run-lock", daemon=True)
        self._keeper.start()

    def _keep(self) -> None:
        while not self._stop.wait(KEEPALIVE_S) and not self.lost.is_set():
            self.check()

    def check(self) -> bool:
        """Is the lock still ours? Re-take it on a new session if the old one died."""
        with self._guard:
            if self.lost.is_set():
                return False
            try:
                held = self.conn.execute(HELD_SQL, [self.key]).fetchone()[0]
            except Exception as exc:  # the session died: terminated, timed out, network
                return self._retake(f"the lock session ended ({first_line(exc)})")
            if held:
                return True
            # A live session without the lock: a pooler gave us another server connection.
            changed = "the lock session's server connection changed under it. "
            return self._lose(changed + POOLER_FIX.format(alias=self.database, where="?"))

    def _retake(self, reason: str) -> bool:
        try:
            self.conn.close()
            self.conn = self._connect()
            self.configure()
            if self.try_acquire():
                self.kept.append(reason)
                self.say(f"    {reason}; took the run lock again (no other run had it)")
                return True
            reason += "; another run took the run lock"
        except Exception as exc:
            reason += f"; could not reconnect ({first_line(exc)})"
        return self._lose(reason)

    def _lose(self, reason: str) -> bool:
        self.lost_reason = reason
        self.lost.set()
        self.on_lost()
        return False

    def verify(self, where: str) -> None:
        """Raise :class:`RunLockLost` unless the lock is (still, or again) ours."""
        if not self.check():
            raise RunLockLost(
                f"Stopped before {where}: {self.lost_reason}. Nothing more was applied; "
                "run safemigrate again: it continues where this run stopped."
            )

    def verify_on(self, cursor: Any, where: str) -> int:
        """:meth:`verify` and the backend pid of ``cursor``'s session in one round trip on
        that session (the migration's, before every step): the server's lock table says
        whether the lock session's backend still holds the lock. Only when it does not, or
        the keeper found the lock lost, is the lock session itself asked (:meth:`verify`:
        taken again, or lost and raised)."""
        with self._guard:
            holder = self._backend_pid()
        cursor.execute(HELD_BY_SQL, [holder, self.key])
        pid, held = cursor.fetchone()
        if not held or self.lost.is_set():
            self.verify(where)
        return int(pid)

    def _backend_pid(self) -> int:
        try:
            return int(self.conn.info.backend_pid)
        except Exception:  # closed: the check above then goes to the lock session
            return 0

    def release(self) -> None:
        """Stop the keeper and unlock; never raise (an unlock error must not hide the
        run's own error, e.g. after a server crash)."""
        self._stop.set()
        if self._keeper is not None:
            self._keeper.join(timeout=5)
        try:
            if not self.conn.closed and not self.lost.is_set():
                self.conn.execute("SELECT pg_advisory_unlock(%s)", [self.key])
        except Exception:
            pass  # the session is gone, and the lock with it
        finally:
            self.conn.close()
