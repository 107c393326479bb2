"""Watch live traffic while the migration runs, on a second connection.

Every :data:`SAMPLE_S` the monitor asks PostgreSQL (``pg_blocking_pids``) which sessions wait
on the migration's backend (the migration holds or queues ahead of their lock) and which
sessions the migration itself waits on. Per step it keeps the time the migration spent
waiting for locks, the sessions it blocked and the longest wait it caused.

Budget: when a live session has waited on the migration for longer than
``ZDT_MAX_BLOCKING_MS``, the monitor cancels the migration's statement
(``pg_cancel_backend``); the runner sees the cancel as a failed attempt and retries later.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django_zero_downtime import events
from django_zero_downtime.runner.locks import BLOCKED_BY, BLOCKERS_OF, Session, sessions

SAMPLE_S = 0.05
PROGRESS_EVERY_S = 5.0


@dataclass
class StepStats:
    """What the monitor saw during one step (an operation of a migration)."""

    lock_wait_s: float = 0.0
    blocked_pids: set[int] = field(default_factory=set)
    longest_block_s: float = 0.0
    budget_cancels: int = 0


class Monitor(threading.Thread):
    """Samples blocking around backend ``pid`` until :meth:`stop`."""

    def __init__(
        self,
        connect_kwargs: dict[str, Any],
        pid: int,
        budget_ms: int,
        progress: Callable[[str, float, int], None] | None = None,
    ) -> None:
        super().__init__(name="zdt-monitor", daemon=True)
        import psycopg

        self.conn = psycopg.connect(
            **connect_kwargs, autocommit=True, application_name="zdt-safemigrate-monitor"
        )
        self.pid = pid
        self.budget_s = budget_ms / 1000
        self.progress = progress
        self.stats: dict[str, StepStats] = {}
        self.blockers: dict[int, Session] = {}
        """Sessions the migration waited on since the last :meth:`new_attempt`."""
        self.cancelled = threading.Event()
        self._stop_event = threading.Event()
        self._step = ""
        self._step_started = time.monotonic()
        self._last_progress = 0.0
        self._guard = threading.Lock()

    def set_step(self, step: str) -> None:
        with self._guard:
            self._step = step
            self._step_started = time.monotonic()
            self._last_progress = self._step_started
            self.stats.setdefault(step, StepStats())

    def new_attempt(self) -> None:
        """Forget blockers and the budget cancel of the previous attempt."""
        with self._guard:
            self.blockers = {}
            self.cancelled.clear()

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join()
        self.conn.close()

    def run(self) -> None:
        cursor = self.conn.cursor()
        while not self._stop_event.wait(SAMPLE_S):
            try:
                self.sample(cursor)
            except Exception:  # the monitor must never break the run it watches
                if self.conn.closed:
                    return

    def sample(self, cursor: Any) -> None:
        blocked = sessions(cursor, BLOCKED_BY, self.pid)
        blockers = sessions(cursor, BLOCKERS_OF, self.pid)
        with self._guard:
            stats = self.stats.setdefault(self._step, StepStats())
            self._record(stats, blocked, blockers)
            over_budget = self._over_budget(blocked)
            if over_budget and not self.cancelled.is_set():
                self.cancelled.set()
                stats.budget_cancels += 1
                cursor.execute("SELECT pg_cancel_backend(%s)", [self.pid])
            self._maybe_progress(len(blocked))
            step = self._step
        events.emit("sample", step=step, blocked=[_seen(s) for s in blocked])

    def _record(self, stats: StepStats, blocked: list[Session], blockers: list[Session]) -> None:
        if blockers:
            stats.lock_wait_s += SAMPLE_S
            self.blockers.update({s.pid: s for s in blockers})
        stats.blocked_pids.update(s.pid for s in blocked)
        waits = [s.wait_s for s in blocked if s.wait_s is not None]
        stats.longest_block_s = max([stats.longest_block_s, *waits])

    def _over_budget(self, blocked: list[Session]) -> bool:
        return any(s.wait_s is not None and s.wait_s > self.budget_s for s in blocked)

    def _maybe_progress(self, blocked: int) -> None:
        now = time.monotonic()
        if not self._step:  # between set-up and the first step: nothing to name yet
            return
        if self.progress and now - self._last_progress >= PROGRESS_EVERY_S:
            self._last_progress = now
            self.progress(self._step, now - self._step_started, blocked)


def _seen(session: Session) -> dict[str, Any]:
    return {"pid": session.pid, "waited_s": session.wait_s, "query": session.query}
