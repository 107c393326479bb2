"""Apply migrations with short lock timeouts and bounded retries.

The hook point is Django's schema editor, driven the way ``MigrationExecutor.apply_migration``
drives it, so every operation (Django's, ours, third-party) runs unchanged:

- atomic migration: one transaction per attempt, opened with ``SET LOCAL lock_timeout`` /
  ``statement_timeout``; on a lock timeout the whole migration is rolled back and retried;
- non-atomic migration: ``schema_editor.execute`` is wrapped so each statement runs in its own
  short transaction with ``SET LOCAL`` and is retried alone. Statements that cannot run in a
  transaction (``CONCURRENTLY``) get session-level timeouts that are reset right after.
  Before each statement, what an earlier killed run left under its name is adopted,
  rebuilt (an INVALID index) or validated (a NOT VALID constraint):
  :mod:`django_zero_downtime.operations.reentry`.

Retries follow :func:`django_zero_downtime.retry.backoff_schedule`; when it is spent the
run gives up with :class:`LockTimeoutExhausted` naming the sessions that held the lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from django.db import DatabaseError, transaction
from django.db.migrations.migration import Migration
from django.db.migrations.operations.special import RunPython
from django.db.migrations.recorder import MigrationRecorder
from django.db.migrations.state import ProjectState

from django_zero_downtime import events, retry
from django_zero_downtime import ledger as cycles
from django_zero_downtime.exceptions import LockTimeoutExhausted, ZeroDowntimeError
from django_zero_downtime.operations import reentry
from django_zero_downtime.runner import locks
from django_zero_downtime.runner.monitor import Monitor
from django_zero_downtime.runner.plan import StateTrail, step_key
from django_zero_downtime.runner.report import RunReport, StepReport
from django_zero_downtime.sql.classify import classify_sql

T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    lock_timeout_ms: int
    statement_timeout_ms: int
    max_retries: int
    backoff_ms: int
    max_delay_ms: int
    budget_ms: int


def run_operations(
    migration: Migration, applier: Applier, state: ProjectState, editor: Any
) -> ProjectState:
    """Mirror of ``Migration.apply`` that marks each operation as the applier's current step,
    with the migration named as the running one (``ledger.RUNNING_MIGRATION``)."""
    with cycles.running(migration):
        for index, operation in enumerate(migration.operations):
            applier.enter(migration, index)
            old_state, state = applier.states(migration, operation, state)
            atomic_op = operation.atomic or (migration.atomic and operation.atomic is not False)
            args = (migration.app_label, editor, old_state, state)
            if not editor.atomic_migration and atomic_op:
                applier.retrying(partial(applier.atomic_operation, operation, args))
            else:
                operation.database_forwards(*args)
            applier.leave()
    return state


class Applier:
    """Applies one migration at a time on ``connection``, reporting into ``steps``."""

    def __init__(
        self,
        connection: Any,
        limits: Limits,
        monitor: Monitor,
        steps: dict[str, StepReport],
        say: Callable[[str], None],
        report: RunReport | None = None,
    ) -> None:
        self.connection = connection
        self.limits = limits
        self.monitor = monitor
        self.steps = steps
        self.say = say
        self.report = report
        self.recorder = MigrationRecorder(connection)
        self._key = ""
        self._started = time.monotonic()
        self.checkpoint: Callable[[str], None] = lambda where: None
        """Called before every step and attempt: raises when the run may not go on
        (the run lock was lost)."""
        self.committed: list[str] = []
        """Statements of the current non-atomic migration that are committed."""
        self.trail: StateTrail | None = None
        """The plan's states per operation: applying reuses them instead of replaying."""

    # -- migrations -------------------------------------------------------------------------
    def apply(self, migration: Migration, state: ProjectState) -> ProjectState:
        """Apply ``migration`` on top of ``state``; returns the state after it."""
        if migration.atomic:
            state = self.retrying(lambda: self._atomic_attempt(migration, state))
        else:
            state = self._non_atomic(migration, state)
        if self.trail is not None:
            self.trail.release(migration.operations)
        return state

    def _atomic_attempt(self, migration: Migration, state: ProjectState) -> ProjectState:
        with transaction.atomic(using=self.connection.alias):
            self._set_local()
            with self.connection.schema_editor(atomic=True) as editor:
                attempt_state = self._operations(migration, state, editor)
                self.enter(migration, None)
            self._record(migration)
        self.leave()
        return attempt_state

    def _non_atomic(self, migration: Migration, state: ProjectState) -> ProjectState:
        self.committed = []
        with self.connection.schema_editor(atomic=False) as editor:
            editor.execute = self._guarded(editor.execute)
            state = self._operations(migration, state, editor)
            self.enter(migration, None)
        self.leave()
        self.retrying(lambda: self._record(migration))
        return state

    def _operations(self, migration: Migration, state: ProjectState, editor: Any) -> ProjectState:
        return run_operations(migration, self, state, editor)

    def states(
        self, migration: Migration, operation: Any, state: ProjectState
    ) -> tuple[ProjectState, ProjectState]:
        """The operation's ``(from_state, to_state)``: the plan's (see StateTrail), else
        replayed on a clone of ``state`` (left as it was). An operation the plan did not
        see that changes the state ends the trail: later plan states would miss it."""
        kept = self.trail.states(operation) if self.trail is not None else None
        if kept is not None:
            return kept
        if type(operation).state_forwards is not RunPython.state_forwards:
            self.trail = None
        new_state = state.clone()
        operation.state_forwards(migration.app_label, new_state)
        return state, new_state

    def atomic_operation(self, operation: Any, args: tuple[Any, ...]) -> None:
        with transaction.atomic(using=self.connection.alias):
            self._set_local()
            operation.database_forwards(*args)

    def _record(self, migration: Migration) -> None:
        """Record ``migration`` as applied: in the atomic migration's own transaction (its
        ``SET LOCAL`` holds; a savepoint would add two round trips and guard nothing), else
        in a short transaction of its own."""
        if self.connection.in_atomic_block:
            self._record_rows(migration)
            return
        with transaction.atomic(using=self.connection.alias):
            self._set_local()
            self._record_rows(migration)

    def _record_rows(self, migration: Migration) -> None:
        for app, name in migration.replaces or [(migration.app_label, migration.name)]:
            self.recorder.record_applied(app, name)

    # -- statements of non-atomic migrations ----------------------------------------------
    def _guarded(self, execute: Callable[..., Any]) -> Callable[..., Any]:
        def guarded_execute(sql: Any, params: Any = ()) -> Any:
            if self.connection.in_atomic_block:  # the enclosing transaction has SET LOCAL
                return execute(sql, params)
            impacts = classify_sql(str(sql))
            concurrent = any(i.concurrent for i in impacts)
            run = self._outside_transaction if concurrent else self._in_short_transaction
            return self.retrying(lambda: self._reentered(run, execute, sql, params, impacts))

        return guarded_execute

    def _reentered(
        self,
        run: Callable[..., Any],
        execute: Callable[..., Any],
        sql: Any,
        params: Any,
        impacts: list[Any],
    ) -> Any:
        """Run one statement after looking at what an earlier, killed run left (reentry)."""
        found = reentry.check(self.connection, str(sql), impacts, params)
        if found.note:
            self.say(f"    {found.note}")
            self._step().reentered.append(found.note)
        if found.dropped_invalid:
            self._step().invalid_indexes_dropped.append(found.dropped_invalid)
        for statement in found.before:
            self._outside_transaction(execute, statement, None)
        for statement in found.instead:
            self._in_short_transaction(execute, statement, None)
        return run(execute, sql, params) if found.run else None

    def _in_short_transaction(self, execute: Callable[..., Any], sql: Any, params: Any) -> Any:
        with transaction.atomic(using=self.connection.alias):
            self._set_local()
            result = execute(sql, params)
        self.committed.append(str(sql))
        return result

    def _outside_transaction(self, execute: Callable[..., Any], sql: Any, params: Any) -> Any:
        """A CONCURRENTLY statement: it waits only on SHARE UPDATE EXCLUSIVE, which queues no
        reads or writes behind it, so it may wait for locks up to the statement timeout."""
        timeout = self.limits.statement_timeout_ms
        with self.connection.cursor() as cursor:
            locks.set_session_timeouts(cursor, timeout, timeout)
            try:
                result = execute(sql, params)
                self.committed.append(str(sql))
                return result
            finally:
                cursor.execute("RESET lock_timeout; RESET statement_timeout")

    # -- timeouts and retries -------------------------------------------------------------
    def _set_local(self) -> None:
        with self.connection.cursor() as cursor:
            limits = self.limits
            locks.set_local_timeouts(cursor, limits.lock_timeout_ms, limits.statement_timeout_ms)

    def retrying(self, attempt: Callable[[], T]) -> T:
        delays = retry.backoff_schedule(
            self.limits.max_retries, self.limits.backoff_ms, self.limits.max_delay_ms
        )
        for number in range(len(delays) + 1):
            self.checkpoint(self._where())
            self._watched()
            self.monitor.new_attempt()
            try:
                return attempt()
            except DatabaseError as exc:
                self.checkpoint(self._where())  # a cancel by the lost run lock
                if not self._retryable(exc):
                    raise
                self._count_failure(exc)
                if number == len(delays):
                    raise self._give_up(exc) from exc
                self._step().retries += 1
                self.say(
                    f"    {self._reason(exc)}; retry {number + 1}/{len(delays)} "
                    f"in {delays[number]:.2f}s"
                )
                time.sleep(delays[number])
        raise AssertionError("unreachable")  # pragma: no cover

    def _watched(self) -> None:
        """Stop before a step or attempt the monitor could not watch (monitor.py)."""
        if self.monitor.lost:
            raise ZeroDowntimeError(
                f"Stopped before {self._where()}: {self.monitor.lost}. Nothing more was "
                "applied; run safemigrate again: it continues where this run stopped."
            )

    def _retryable(self, exc: BaseException) -> bool:
        cancelled = retry.is_cancel(exc) and self.monitor.cancelled.is_set()
        return retry.is_lock_failure(exc) or cancelled

    def _count_failure(self, exc: BaseException) -> None:
        if retry.is_lock_failure(exc):
            self._step().lock_timeouts += 1

    def _reason(self, exc: BaseException) -> str:
        if retry.sqlstate(exc) == retry.DEADLOCK_DETECTED:
            return "deadlock with another session (rolled back)"
        if retry.is_lock_failure(exc):
            return f"lock not available within {self.limits.lock_timeout_ms} ms"
        return f"live sessions waited longer than {self.limits.budget_ms} ms: cancelled"

    def _give_up(self, exc: BaseException) -> LockTimeoutExhausted:
        blockers = sorted(self.monitor.blockers.values(), key=lambda s: s.pid)
        named = "\n".join(f"  - {s.describe()}" for s in blockers) or "  (none observed)"
        return LockTimeoutExhausted(
            f"Gave up on {self._step().description} after {self.limits.max_retries} retries: "
            f"{self._reason(exc)}.\nBlocking sessions:\n{named}\n"
            "The failed step was rolled back (an atomic migration entirely); run safemigrate "
            "again when those sessions are done (or end them), or raise --max-retries."
        )

    # -- steps ----------------------------------------------------------------------------
    def enter(self, migration: Migration, index: int | None) -> None:
        self._key = step_key(migration.app_label, migration.name, index)
        self.checkpoint(self._where())
        self._watched()
        self._started = time.monotonic()
        self.monitor.set_step(self._key)
        if self.report is not None:
            self.report.current_step = self._key
        known = self.steps.get(self._key)
        events.emit("step-start", step=self._key, description=known.description if known else "")

    def leave(self) -> None:
        if self._key in self.steps:
            self.steps[self._key].duration_s = round(time.monotonic() - self._started, 3)
        events.emit("step-end", step=self._key, outcome="applied")

    def _where(self) -> str:
        step = self.steps.get(self._key)
        return f"{self._key} ({step.description})" if step else self._key

    def _step(self) -> StepReport:
        if self._key not in self.steps:
            app, rest = self._key.split(".", 1)
            name, _index = rest.rsplit(":", 1)
            self.steps[self._key] = StepReport(app, name, None, "deferred SQL", self._key)
        return self.steps[self._key]
