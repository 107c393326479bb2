"""SQL rules (ZDT2xx) over ``RunSQL`` and the SQL of operations the operation rules do not know.

Every statement is classified once by :mod:`django_zero_downtime.sql.classify` (the same
classification the runner judges); the rules in :mod:`.sql_statements` only turn its facts
into verdicts. One :class:`SqlScope` lives for a whole migration: whether it is atomic,
``ALTER TABLE`` counts per table (ZDT216), rows written; its :class:`Schema` lives for the
whole plan (tables and columns created earlier, validated NOT NULL proofs, column types).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django_zero_downtime.findings.catalogue import Violation
from django_zero_downtime.sql.state import Schema

if TYPE_CHECKING:
    from django_zero_downtime.sql.classify import Impact


@dataclass
class SqlScope:
    """What the SQL rules remember across the statements of one migration."""

    atomic: bool = True
    new_tables: set[str] = field(default_factory=set)
    schema: Schema = field(default_factory=Schema)
    alter_counts: Counter[str] = field(default_factory=Counter)
    has_dml: bool = False
    """A statement of the current operation writes rows (reset per operation)."""
    ddl_table: str | None = None
    """A pre-existing table the current operation's statements change (reset per operation)."""
    index: int | None = None
    """The operation being judged (where a ZDT217 found at the commit is reported)."""
    names: Callable[[str, str | None], tuple[str, str] | None] | None = None
    """(model, field) for a table and column, from the project state (hints use them)."""

    def __post_init__(self) -> None:
        self.schema.new_tables |= self.new_tables
        self.new_tables = self.schema.new_tables  # one set: the schema's

    @property
    def not_valid(self) -> set[str]:
        """Constraints added NOT VALID in the open transaction."""
        return self.schema.not_valid_in_transaction

    def start_operation(self, index: int | None = None) -> None:
        self.has_dml, self.ddl_table, self.index = False, None, index

    def model_field(self, table: str, column: str | None = None) -> tuple[str, str]:
        """The model and field names to put in a hint (placeholders when not in the state)."""
        found = self.names(table, column) if self.names else None
        return found or ("<Model>", column or "<field>")


def clean_statements(sql: str) -> list[str]:
    """Statements of ``sql`` without comments, with literals blanked and spaces collapsed."""
    from django_zero_downtime.sql.lexing import clean_text, split_statements

    return [clean_text(statement.tokens) for statement in split_statements(sql)]


StatementRule = Callable[["Impact", SqlScope], list[Violation]]
_STATEMENT_RULES: list[StatementRule] = []


def statement_rule(func: StatementRule) -> StatementRule:
    _STATEMENT_RULES.append(func)
    return func


def _statement_rules() -> list[StatementRule]:
    """The statement rules, registered when :mod:`.sql_statements` is first imported: here,
    when SQL is first judged (with the parser), so a history without SQL never loads them."""
    from django_zero_downtime.lint.rules import sql_statements  # noqa: F401  (registers)

    return _STATEMENT_RULES


def check_sql(sql: str, scope: SqlScope) -> list[Violation]:
    """Every SQL rule's verdict on a piece of SQL (one or more statements)."""
    from django_zero_downtime.sql import parse
    from django_zero_downtime.sql.classify import classify_statement

    out: list[Violation] = []
    scope.schema.origin = (scope.index, "ZDT217")
    for statement in parse.statements(sql):
        impact = classify_statement(statement, scope.schema)
        out += judge(impact, scope)  # against what came before, then move past it
        scope.schema.observe(impact)
    if not scope.atomic:
        out += [violation for _, violation in transaction_end(scope)]
    return out


def check_statements(statements: Iterable[str], scope: SqlScope) -> list[Violation]:
    out: list[Violation] = []
    for sql in statements:
        out += check_sql(sql, scope)
    return out


def judge(impact: Impact, scope: SqlScope) -> list[Violation]:
    scope.has_dml = scope.has_dml or impact.dml
    out: list[Violation] = []
    for rule in _statement_rules():
        out += rule(impact, scope)
    return out


def transaction_end(scope: SqlScope) -> list[tuple[int | None, Violation]]:
    """At a commit: NOT NULL columns left without the default the previous release's INSERTs
    rely on (ZDT217 for SQL, ZDT114 for AlterField), at the operation that dropped it."""
    out = []
    for (table, column), origin in scope.schema.end_transaction():
        index, code = origin if isinstance(origin, tuple) else (None, "ZDT217")
        out.append((index, drop_default_violation(code, table, column)))
    return out


def drop_default_violation(code: str, table: str, column: str) -> Violation:
    what = "ALTER TABLE" if code == "ZDT217" else "AlterField"
    return Violation(
        code,
        f'{what} drops the database default (or identity) of "{table}"."{column}", which is '
        "NOT NULL: the previous release's INSERTs omit the column and now fail.",
        "Keep the default until no running release omits the column; drop it in a later "
        "release (or make the column nullable first).",
    )


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
