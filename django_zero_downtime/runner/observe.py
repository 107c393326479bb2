"""Watch the apply phase for the report: the timeline, the traffic statistics, the verdict.

:class:`Observer` is told the plan (its first ``pg_stat_database`` snapshot opens the
baseline window) and wraps the apply phase with :meth:`Observer.watching`; afterwards the
report holds ``timeline``, ``traffic`` and ``verification``. With ``--verify`` the baseline
lasts at least :data:`~.verify.BASELINE_S` and the last snapshot waits for PostgreSQL to
publish the counters of the run (:data:`~.verify.FLUSH_S`). Each snapshot uses a short
connection of its own (none sits idle through a long run, e.g. under
``idle_session_timeout``); statistics that cannot be read leave ``traffic`` empty and the
verdict judges the waits alone: they never break the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django_zero_downtime import events
from django_zero_downtime.runner import verify
from django_zero_downtime.runner.locks import connect_kwargs
from django_zero_downtime.runner.report import RunReport
from django_zero_downtime.runner.timeline import Timeline, longest_wait_ms

APPLICATION_NAME = "zdt-safemigrate-stats"


class Observer:
    def __init__(self, connection: Any, strict: bool) -> None:
        self.connection = connection
        self.strict = strict
        self.start: verify.Snapshot | None = None
        self.started = time.monotonic()
        self.timeline = Timeline()
        self.samples_seen = 0
        self.problem = ""

    def _snapshot(self) -> verify.Snapshot | None:
        import psycopg

        verify.flush_own_stats(self.connection)
        try:
            params = connect_kwargs(self.connection)
            with psycopg.connect(**params, autocommit=True, application_name=APPLICATION_NAME) as c:
                return verify.snapshot(c)
        except psycopg.Error as exc:
            self.problem = f"statistics not read: {exc}".strip()
            return None

    def plan(self, steps: list[Any]) -> None:
        """The steps about to run; the baseline window starts now (the plan's own rolled-back
        transaction is behind it)."""
        self.start, self.started = self._snapshot(), time.monotonic()
        for step in steps:
            tables = sorted({i.table for i in step.impacts if i.table})
            lock = step.lock + (f" on {', '.join(tables)}" if tables else "")
            self.timeline.plan(step.key, step.description, lock)

    @contextmanager
    def watching(
        self, report: RunReport, budget_ms: int, stop: Callable[[], None]
    ) -> Iterator[Timeline]:
        """Listen while the block applies; then ``stop`` the monitor and conclude."""
        if self.strict:
            time.sleep(max(verify.BASELINE_S - (time.monotonic() - self.started), 0))
        before = self._snapshot()
        self.timeline.t0 = time.monotonic()
        try:
            with events.listening(self._hear):
                yield self.timeline
        finally:
            stop()
            self.timeline.close("failed")
            self._conclude(report, budget_ms, before)

    def _hear(self, event: events.Event) -> None:
        self.samples_seen += event.kind == "sample"
        self.timeline(event)

    def _conclude(self, report: RunReport, budget_ms: int, before: verify.Snapshot | None) -> None:
        report.timeline = self.timeline.to_dict()
        if self.strict:
            time.sleep(verify.FLUSH_S)
        after = self._snapshot()
        calm = {"rollback_rate": 0.0, "rollbacks": 0}
        baseline, during = calm, calm
        if self.start and before and after:
            during = verify.window(before, after, *self._own(report))
            baseline = verify.window(self.start, before)
            queries = verify.top_queries(self.start, before, after)
            report.traffic = {"before": baseline, "during": during, "top_queries": queries}
        else:
            report.traffic = {"unavailable": self.problem}
        longest = max(
            longest_wait_ms(report.timeline), *(s.longest_block_ms for s in report.steps), 0.0
        )
        report.verification = verify.verdict(budget_ms, longest, baseline, during)

    def _own(self, report: RunReport) -> tuple[int, int]:
        """The runner's own transactions, roughly: monitor samples (one query each),
        batches and steps commit; retried attempts roll back."""
        batches = len(report.timeline.get("batches", []))
        commits = self.samples_seen + batches + 2 * len(report.steps)
        rollbacks = sum(s.retries for s in report.steps)
        return commits, rollbacks
