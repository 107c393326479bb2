"""SQL rules (ZDT2xx) over ``RunSQL`` and the SQL of operations the operation rules do not know.

Statements are split and cleaned by :mod:`django_zero_downtime.sql.lexing`: comments
dropped, string and dollar-quoted literals blanked (a function body is never mistaken for
DDL), whitespace collapsed; the rules then match keywords case-insensitively. One
:class:`SqlScope` lives for a whole migration: it knows the tables created earlier in it
(changing them is safe), counts ``ALTER TABLE`` statements per table (ZDT216) and
remembers constraints added NOT VALID.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django_zero_downtime.findings.catalogue import Violation
from django_zero_downtime.sql.lexing import (
    QUALIFIED,
    clean_text,
    split_statements,
    unqualified_name,
)

FLAGS = re.IGNORECASE | re.DOTALL


@dataclass
class SqlScope:
    """What the SQL rules remember across the statements of one migration."""

    atomic: bool = True
    new_tables: set[str] = field(default_factory=set)
    alter_counts: Counter[str] = field(default_factory=Counter)
    not_valid: set[str] = field(default_factory=set)
    has_dml: bool = False
    """A statement of the current operation writes rows (reset per operation)."""
    ddl_table: str | None = None
    """A pre-existing table the current operation's statements change (reset per operation)."""

    def start_operation(self) -> None:
        self.has_dml, self.ddl_table = False, None


def clean_statements(sql: str) -> list[str]:
    """Statements of ``sql`` without comments, with literals blanked and spaces collapsed."""
    return [clean_text(statement.tokens) for statement in split_statements(sql)]


StatementRule = Callable[[str, SqlScope], list[Violation]]
_STATEMENT_RULES: list[StatementRule] = []


def statement_rule(func: StatementRule) -> StatementRule:
    _STATEMENT_RULES.append(func)
    return func


def check_sql(sql: str, scope: SqlScope) -> list[Violation]:
    """Every SQL rule's verdict on a piece of SQL (one or more statements)."""
    return check_statements(clean_statements(sql), scope)


def check_statements(statements: Iterable[str], scope: SqlScope) -> list[Violation]:
    out: list[Violation] = []
    for text in statements:
        for rule in _STATEMENT_RULES:
            out += rule(text, scope)
    return out


def multiple_alter_violations(scope: SqlScope, threshold: int = 3) -> list[Violation]:
    """ZDT216, once per migration: separate ALTER TABLE statements that could be one."""
    return [
        Violation(
            "ZDT216",
            f'{count} separate ALTER TABLE statements on "{table}" in one migration: each one '
            "waits in the lock queue for ACCESS EXCLUSIVE again.",
            f'Combine them into one statement: ALTER TABLE "{table}" <action>, <action>, ...; '
            "(RunSQL inside SeparateDatabaseAndState keeps the model state in step).",
        )
        for table, count in sorted(scope.alter_counts.items())
        if count >= threshold
    ]


ALTER_TABLE = re.compile(
    rf"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<table>{QUALIFIED})\s*\*?\s+(?P<rest>.*)$",
    FLAGS,
)
_CREATE_TABLE = re.compile(
    rf"^CREATE\s+(?:(?:UNLOGGED|TEMP|TEMPORARY)\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    rf"(?P<table>{QUALIFIED})",
    FLAGS,
)
_DML = re.compile(r"^(?:WITH\b.*\b)?(?:UPDATE|DELETE|INSERT|MERGE|COPY)\b", FLAGS)


@statement_rule
def _track(text: str, scope: SqlScope) -> list[Violation]:
    created = _CREATE_TABLE.match(text)
    if created:
        scope.new_tables.add(unqualified_name(created.group("table")))
    if _DML.match(text):
        scope.has_dml = True
    return []
