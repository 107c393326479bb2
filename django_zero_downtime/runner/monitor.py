"""Watch live traffic while the migration runs, on a second connection.

Every :data:`SAMPLE_S` the monitor asks PostgreSQL (``pg_blocking_pids``, one query) which
sessions wait on the migration's backend (the migration holds or queues ahead of their lock)
and which sessions the migration itself waits on. While nobody waits, on either side, it
asks less often (:func:`idle_interval`: at most :data:`IDLE_SAMPLE_S`, at most a quarter of
the budget and of the lock timeout): a new wait is seen within that, and from then on every
:data:`SAMPLE_S`, so the budget is enforced as closely as before and a wait cut short by the
lock timeout is still seen (its blockers named when the run gives up). Per step it keeps
the time the migration spent waiting for locks, the sessions it blocked and the longest
wait it caused.

Budget: when a live session has waited on the migration for longer than
``ZDT_MAX_BLOCKING_MS``, the monitor cancels the migration's statement
(``pg_cancel_backend``); the runner sees the cancel as a failed attempt and retries later.

Loss: when the monitor's own connection dies (terminated, a TCP drop), the budget would
silently be off. The monitor says so and reconnects (within :data:`RECONNECT_S`), which
restores the budget; if it cannot, :attr:`Monitor.lost` says why and the runner stops
before its next step or attempt (exit 3; a rerun continues) rather than apply unwatched.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django_zero_downtime import events
from django_zero_downtime.runner.locks import Session, around

SAMPLE_S = 0.05
IDLE_SAMPLE_S = 0.25
PROGRESS_EVERY_S = 5.0
RECONNECT_S = 5.0
APPLICATION_NAME = "zdt-safemigrate-monitor"


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
        lock_timeout_ms: int | None = None,
    ) -> None:
        super().__init__(name="zdt-monitor", daemon=True)
        self.connect_kwargs = connect_kwargs
        self.conn = self._connect()
        self.reconnects = 0
        self.lost = ""
        """Why the monitor stopped watching for good (empty while it watches)."""
        self.pid = pid
        self.budget_s = budget_ms / 1000
        self.idle_s = idle_interval(min(budget_ms, lock_timeout_ms or budget_ms) / 1000)
        self.interval = SAMPLE_S
        """Seconds until the next sample: :data:`SAMPLE_S` while anyone waits, else idle_s."""
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

    def _connect(self) -> Any:
        import psycopg

        params = {"connect_timeout": 2, **self.connect_kwargs}
        return psycopg.connect(**params, autocommit=True, application_name=APPLICATION_NAME)

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                self.sample(self.conn.cursor())
            except Exception as exc:  # the monitor must never break the run it watches
                if self.conn.closed and not self._reconnect(exc):
                    return

    def _reconnect(self, exc: Exception) -> bool:
        """A new connection within :data:`RECONNECT_S` (True), else :attr:`lost` is set."""
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        _say(f"    monitor connection lost ({reason}); reconnecting")
        deadline = time.monotonic() + RECONNECT_S
        while not self._stop_event.is_set() and time.monotonic() < deadline:
            try:
                self.conn = self._connect()
            except Exception:
                self._stop_event.wait(0.2)
                continue
            self.reconnects += 1
            _say("    monitor reconnected: the blocking budget is enforced again")
            return True
        self.lost = (
            f"the monitor's connection was lost ({reason}) and could not be restored within "
            f"{RECONNECT_S:.0f}s, so the blocking budget (--max-blocking) cannot be enforced"
        )
        return False

    def sample(self, cursor: Any) -> None:
        blocked, blockers = around(cursor, self.pid)
        self.interval = SAMPLE_S if blocked or blockers else self.idle_s
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


def idle_interval(window_s: float) -> float:
    """The sampling interval while nobody waits: a quarter of ``window_s`` (the shorter of
    the budget and the lock timeout), at most :data:`IDLE_SAMPLE_S`, at least :data:`SAMPLE_S`."""
    return max(SAMPLE_S, min(IDLE_SAMPLE_S, window_s / 4))


def _say(text: str) -> None:
    events.emit("message", text=text)


def _seen(session: Session) -> dict[str, Any]:
    return {"pid": session.pid, "waited_s": session.wait_s, "query": session.query}
