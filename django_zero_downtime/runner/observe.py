"""Watch the apply phase for the report: the timeline, the traffic statistics, the verdict.

:class:`Observer` is made when the run starts (its first ``pg_stat_database`` snapshot opens
the baseline window) and wraps the apply phase with :meth:`Observer.watching`; afterwards
the report holds ``timeline``, ``traffic`` and ``verification``. With ``--verify`` the
baseline lasts at least :data:`~.verify.BASELINE_S` and the last snapshot waits for
PostgreSQL to publish the counters of the run (:data:`~.verify.FLUSH_S`).
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


class Observer:
    def __init__(self, connection: Any, strict: bool) -> None:
        import psycopg

        self.connection = connection
        self.strict = strict
        self.conn = psycopg.connect(
            **connect_kwargs(connection), autocommit=True, application_name="zdt-safemigrate-stats"
        )
        self.start = self._snapshot()
        self.timeline = Timeline()
        self.samples_seen = 0

    def __enter__(self) -> Observer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if not self.conn.closed:
            self.conn.close()

    def _snapshot(self) -> verify.Snapshot:
        verify.flush_own_stats(self.connection)
        return verify.snapshot(self.conn)

    def plan(self, steps: list[Any]) -> None:
        """The steps about to run; the baseline window starts now (the plan's own rolled-back
        transaction is behind it)."""
        self.start = self._snapshot()
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
            time.sleep(max(verify.BASELINE_S - (time.monotonic() - self.start.at), 0))
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

    def _conclude(self, report: RunReport, budget_ms: int, before: verify.Snapshot) -> None:
        report.timeline = self.timeline.to_dict()
        try:
            if self.strict:
                time.sleep(verify.FLUSH_S)
            after = self._snapshot()
        finally:
            self.close()
        during = verify.window(before, after, *self._own(report))
        baseline = verify.window(self.start, before)
        report.traffic = {
            "before": baseline,
            "during": during,
            "top_queries": verify.top_queries(self.start, before, after),
        }
        longest = max(
            longest_wait_ms(report.timeline), *(s.longest_block_ms for s in report.steps), 0.0
        )
        report.verification = verify.verdict(budget_ms, longest, baseline, during)

    def _own(self, report: RunReport) -> tuple[int, int]:
        """The runner's own transactions, roughly: monitor samples (two queries each),
        batches and steps commit; retried attempts roll back."""
        batches = len(report.timeline.get("batches", []))
        commits = 2 * self.samples_seen + batches + 2 * len(report.steps)
        rollbacks = sum(s.retries for s in report.steps)
        return commits, rollbacks
