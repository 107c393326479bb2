"""The run lock's life in one run: pooler check, session settings, lock, named migration
session, keeper; released and un-named on every way out (see :mod:`.exclusion`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from django_zero_downtime.runner import exclusion
from django_zero_downtime.runner.exclusion import RunLock
from django_zero_downtime.runner.locks import connect_kwargs

Say = Callable[[str], None]

APPLICATION_NAME = exclusion.MIGRATION_APP


@contextmanager
def run_lock(connection: Any, no_wait: bool, say: Say) -> Iterator[RunLock]:
    """Hold the per-database run lock for the duration of the run (see :mod:`.exclusion`).

    Order matters: the pooler check comes before any session setting or lock (behind a
    transaction pooler they would leak to other clients), the migration session is named
    only once the lock is ours (waiting runs must not look like a run applying).
    """
    lock = RunLock(connect_kwargs(connection), connection.settings_dict["NAME"], say)
    try:
        problem = exclusion.pooler_problem(connection, lock.conn)
        if problem:
            raise exclusion.PoolerRefused(problem)
        lock.configure()
        with connection.cursor() as cursor:
            exclusion.apply_session_settings(cursor)
        lock.acquire(no_wait)
        lock.wait_for_previous_session(_name_session(connection), no_wait)
        lock.on_lost = partial(_cancel_statement, connection)
        lock.start_keeper()
        yield lock
    finally:
        lock.release()
        _unname_session(connection)


def _name_session(connection: Any) -> int:
    """Name the migration session and make PostgreSQL stop its statement when the runner
    dies (PG 14+), so a killed deploy step does not leave DDL running unattended."""
    with connection.cursor() as cursor:
        settings = {"application_name": APPLICATION_NAME, "client_connection_check_interval": "1s"}
        exclusion.apply_session_settings(cursor, settings)
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _unname_session(connection: Any) -> None:
    """Give the session its own name back (a process may go on after an in-process run)."""
    try:
        if connection.connection is not None and not connection.in_atomic_block:
            with connection.cursor() as cursor:
                cursor.execute("RESET application_name")
    except Exception:
        pass  # the session is gone (server crash): nothing to reset


def _cancel_statement(connection: Any) -> None:
    """Cancel what the migration session runs now (the run lost its lock)."""
    try:
        if connection.connection is not None:
            connection.connection.cancel()
    except Exception:
        pass  # nothing to cancel, or the session is gone already
