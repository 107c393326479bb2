"""What PostgreSQL did for each statement of a rehearsed migration.

:class:`StatementProbe` is a Django ``execute_wrapper`` on the migration connection. Around
every schema statement it reads, on the same connection and inside the same transaction:
the relation locks the backend holds (``pg_locks``), the physical file of every relation
(``pg_class.relfilenode``; a change means the relation was rewritten), the server's debug
notices (``client_min_messages = debug1``: "rewriting table", "verifying table", "building
index", "validating foreign key constraint") and the time.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

USER_RELATIONS = """
    SELECT c.oid, c.relname, c.relfilenode FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'i', 'm', 'p') AND n.nspname <> 'information_schema'
      AND n.nspname NOT LIKE 'pg\\_%'"""

OWN_LOCKS = """
    SELECT c.relname, l.mode FROM pg_locks l
    JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
      AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'"""

IGNORED = re.compile(r"^\s*(SELECT|SHOW|SET|SAVEPOINT|RELEASE|ROLLBACK)\b", re.IGNORECASE)
"""Introspection and transaction control: not schema changes, not reported."""

LOCK_MODES = (
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)

NOTICE_KINDS = {
    "rewrite": re.compile(r"^rewriting table"),
    "scan": re.compile(r"^(verifying table|validating foreign key constraint)"),
    "index": re.compile(r"^building index"),
}


@dataclass
class Statement:
    sql: str
    seconds: float
    locks: list[tuple[str, str]]
    """(relation, mode) the statement took (not held before it)."""
    held: list[tuple[str, str]]
    """(relation, mode) the transaction holds after the statement."""
    rewritten: list[str]
    notices: list[str]

    def kinds(self) -> set[str]:
        return {k for k, p in NOTICE_KINDS.items() for n in self.notices if p.search(n)}

    def relation_locks(self) -> list[tuple[str, str, bool]]:
        """(relation, strongest mode held, taken by this statement) for every relation the
        statement names or rewrote. A lock taken earlier in the rehearsal's transaction is
        still held, so the strongest held mode is what the statement runs under."""
        strongest: dict[str, str] = {}
        for name, mode in self.held:
            if name in self.sql or name in self.rewritten:
                known = strongest.get(name, LOCK_MODES[0])
                strongest[name] = max(known, mode, key=_strength)
        taken = set(self.locks)
        return [(name, mode, (name, mode) in taken) for name, mode in sorted(strongest.items())]

    def rewrote_under_access_exclusive(self) -> list[str]:
        exclusive = {name for name, mode in self.held if mode == "AccessExclusiveLock"}
        return [name for name in self.rewritten if name in exclusive]


@dataclass
class StatementProbe:
    """Records a :class:`Statement` for every schema statement run on ``connection``."""

    connection: BaseDatabaseWrapper
    statements: list[Statement] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def __enter__(self) -> StatementProbe:
        raw = self.connection.connection
        raw.add_notice_handler(self._on_notice)
        self._query("SET LOCAL client_min_messages = debug1")
        self._wrapper = self.connection.execute_wrapper(self)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._wrapper.__exit__(*exc)
        self.connection.connection.remove_notice_handler(self._on_notice)

    def _on_notice(self, diagnostic: Any) -> None:
        if diagnostic.message_primary:
            self.notices.append(str(diagnostic.message_primary))

    def _query(self, sql: str) -> list[tuple[Any, ...]]:
        with self.connection.connection.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall()) if cursor.description else []

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        if IGNORED.match(sql) or "django_migrations" in sql:
            return execute(sql, params, many, context)
        files, locks = self._query(USER_RELATIONS), set(self._query(OWN_LOCKS))
        self.notices.clear()
        started = time.perf_counter()
        result = execute(sql, params, many, context)
        seconds = time.perf_counter() - started
        self.statements.append(self._statement(sql, seconds, files, locks))
        return result

    def _statement(
        self, sql: str, seconds: float, files: list[tuple[Any, ...]], locks: set[tuple[Any, ...]]
    ) -> Statement:
        before = {oid: (name, node) for oid, name, node in files}
        after = self._query(USER_RELATIONS)
        rewritten = [n for oid, n, node in after if oid in before and before[oid][1] != node]
        held = sorted(set(self._query(OWN_LOCKS)))
        taken = [lock for lock in held if lock not in locks]
        return Statement(sql.strip(), seconds, taken, held, sorted(rewritten), list(self.notices))


def _strength(mode: str) -> int:
    return LOCK_MODES.index(mode) if mode in LOCK_MODES else -1
