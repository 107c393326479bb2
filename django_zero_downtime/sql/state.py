"""What earlier statements of the plan established, for judging the next one.

A :class:`Schema` lives for a whole plan (lint: every migration walked; runner: the run). It
knows tables and columns created earlier (empty, unused by the previous release), CHECK
constraints that prove ``col IS NOT NULL`` and whether they are validated, constraints
added NOT VALID, defaults set or dropped in the open transaction, column types, and the
target PostgreSQL major version. :meth:`observe` moves it past a classified statement;
:meth:`end_transaction` at each commit (end of an atomic migration, or each statement of a
non-atomic one) returns the columns whose previous-release inserts would now fail.

Column facts the SQL does not show (types and NULL-ness of tables made by earlier
migrations) come from ``columns``, a lookup the caller provides (lint: the Django state).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django_zero_downtime.sql.classify import Impact

OLDEST_SUPPORTED = 13


@dataclass(frozen=True)
class Column:
    type: str | None = None
    null: bool | None = None
    has_default: bool | None = None
    identity: bool = False


ColumnLookup = Callable[[str, str], Column | None]
Key = tuple[str, str]

_NOT_NULL_CHECK = re.compile(
    r'^\(*\s*(?:"(?P<quoted>[^"]+)"|(?P<bare>[\w$]+))\s+IS\s+NOT\s+NULL\s*\)*$', re.IGNORECASE
)


def not_null_column(check: str) -> str | None:
    """The column a CHECK expression ``(col IS NOT NULL)`` proves NOT NULL, else None."""
    match = _NOT_NULL_CHECK.match(check.strip())
    if not match:
        return None
    return match.group("quoted") or match.group("bare").lower()


@dataclass
class Schema:
    version: int = OLDEST_SUPPORTED
    utc: bool = True
    """The migration session's TimeZone is UTC (the runner sets it; Django does too)."""
    columns: ColumnLookup | None = None
    new_tables: set[str] = field(default_factory=set)
    new_columns: set[Key] = field(default_factory=set)
    """Added earlier in the plan without a default: every row is NULL."""
    proofs: dict[str, Key] = field(default_factory=dict)
    """Constraint name -> (table, column) of CHECK (column IS NOT NULL) constraints."""
    validated: set[str] = field(default_factory=set)
    not_valid: set[str] = field(default_factory=set)
    not_valid_in_transaction: set[str] = field(default_factory=set)
    known: dict[Key, Column] = field(default_factory=dict)
    """Columns as earlier statements left them (overrides :attr:`columns`)."""
    pending_defaults: dict[Key, object] = field(default_factory=dict)
    """NOT NULL columns left without a default in the open transaction (old inserts would
    fail), with the :attr:`origin` of the statement that dropped it."""
    origin: object = None
    """Set by the caller before :meth:`observe` (e.g. the operation index), reported back."""

    def column(self, table: str, column: str) -> Column:
        if (table, column) in self.known:
            return self.known[(table, column)]
        found = self.columns(table, column) if self.columns else None
        return found or Column()

    def is_new_table(self, table: str) -> bool:
        return table in self.new_tables

    def is_new_column(self, table: str, column: str) -> bool:
        return (table, column) in self.new_columns or table in self.new_tables

    def proves_not_null(self, table: str, column: str) -> bool:
        """A validated CHECK (column IS NOT NULL) exists (PostgreSQL 12+ then skips the scan)."""
        if self.version < 12:
            return False
        return any(
            key == (table, column) and name in self.validated for name, key in self.proofs.items()
        )

    def add_proof(self, name: str, table: str, column: str, validated: bool) -> None:
        self.proofs[name] = (table, column)
        (self.validated if validated else self.not_valid).add(name)

    def set_column(self, table: str, column: str, **changes: object) -> None:
        current = self.column(table, column)
        values = {**current.__dict__, **changes}
        self.known[(table, column)] = Column(**values)

    def observe(self, impact: Impact) -> None:
        from django_zero_downtime.sql.observe import observe

        observe(self, impact)

    def start_migration(self) -> None:
        """Tables and columns count as new (unused by the previous release) within the
        migration that creates them; proofs and column facts carry over."""
        self.new_tables.clear()
        self.new_columns.clear()

    def end_transaction(self) -> list[tuple[Key, object]]:
        """Commit: the NOT NULL columns left without a default (with their origin)."""
        broken = list(self.pending_defaults.items())
        self.pending_defaults.clear()
        self.not_valid_in_transaction.clear()
        return broken
