"""The ZDT2xx statement rules, registered with :func:`sql_rules.statement_rule`.

Each takes one cleaned statement (see :func:`sql_rules.clean_statements`) and the
migration's :class:`~sql_rules.SqlScope`.
"""

from __future__ import annotations

import re

from django_zero_downtime.findings.catalogue import Violation
from django_zero_downtime.lint.rules import hints
from django_zero_downtime.lint.rules.sql import ALTER_TABLE, FLAGS, SqlScope, statement_rule
from django_zero_downtime.sql.lexing import (
    IDENT,
    QUALIFIED,
    add_column_rewrites,
    may_widen,
    split_commas,
    unqualified_name,
)

_RENAME_TABLE = re.compile(r"^RENAME\s+TO\s+(?P<new>.+)$", FLAGS)
_RENAME_COLUMN = re.compile(
    rf"^RENAME\s+(?:COLUMN\s+)?(?!CONSTRAINT\b)(?P<old>{IDENT})\s+TO", FLAGS
)
_ADD_CONSTRAINT = re.compile(
    rf"^ADD\s+(?:CONSTRAINT\s+(?P<name>{IDENT})\s+)?"
    r"(?P<kind>CHECK|FOREIGN\s+KEY|UNIQUE|PRIMARY\s+KEY|EXCLUDE)\b(?P<rest>.*)$",
    FLAGS,
)
_ADD_COLUMN = re.compile(
    rf"^ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(?P<column>{IDENT})\s+(?P<definition>.*)$",
    FLAGS,
)
_DROP_COLUMN = re.compile(
    rf"^DROP\s+(?!CONSTRAINT\b)(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?(?P<column>{IDENT})", FLAGS
)
_ALTER_TYPE = re.compile(
    rf"^ALTER\s+(?:COLUMN\s+)?(?P<column>{IDENT})\s+(?:SET\s+DATA\s+)?TYPE\s+(?P<type>.+?)"
    r"(?:\s+(?:USING|COLLATE)\b.*)?$",
    FLAGS,
)
_SET_NOT_NULL = re.compile(rf"^ALTER\s+(?:COLUMN\s+)?(?P<column>{IDENT})\s+SET\s+NOT\s+NULL", FLAGS)
_VALIDATE = re.compile(rf"^VALIDATE\s+CONSTRAINT\s+(?P<name>{IDENT})", FLAGS)
_REWRITE_ACTION = re.compile(r"^SET\s+(?:TABLESPACE|LOGGED|UNLOGGED|ACCESS\s+METHOD)\b", FLAGS)


@statement_rule
def alter_table(text: str, scope: SqlScope) -> list[Violation]:
    match = ALTER_TABLE.match(text)
    if not match:
        return []
    table = unqualified_name(match.group("table"))
    if table in scope.new_tables:
        return []
    scope.ddl_table = table
    scope.alter_counts[table] += 1
    out: list[Violation] = []
    for action in split_commas(match.group("rest")):
        out += _alter_action(table, action, scope)
    return out


def _alter_action(table: str, action: str, scope: SqlScope) -> list[Violation]:
    for judge in (_rename, _constraint, _column_change, _add_column):
        found = judge(table, action, scope)
        if found is not None:
            return found
    return []


def _rename(table: str, action: str, scope: SqlScope) -> list[Violation] | None:
    if match := _RENAME_TABLE.match(action):
        new = unqualified_name(match.group("new"))
        return [
            Violation(
                "ZDT204",
                f'ALTER TABLE "{table}" RENAME TO "{new}": the live version '
                "still queries the old name.",
                hints.rename_table("<Model>", table),
            )
        ]
    if match := _RENAME_COLUMN.match(action):
        old = unqualified_name(match.group("old"))
        return [
            Violation(
                "ZDT202",
                f'ALTER TABLE "{table}" RENAMEs column "{old}": the live '
                "version still uses the old name.",
                'Rename in expand/contract steps: zdt.DualWriteRename("<model>", '
                f'"{old}", "<new name>"), or keep the column with db_column.',
            )
        ]
    return None


def _constraint(table: str, action: str, scope: SqlScope) -> list[Violation] | None:
    if match := _VALIDATE.match(action):
        name = unqualified_name(match.group("name"))
        if scope.atomic and name in scope.not_valid:
            return [
                Violation(
                    "ZDT304",
                    f'VALIDATE CONSTRAINT "{name}" on "{table}" runs in the '
                    "transaction that added it NOT VALID, so it scans under that lock.",
                    hints.non_atomic("the VALIDATE CONSTRAINT"),
                )
            ]
        return []
    match = _ADD_CONSTRAINT.match(action)
    if not match:
        return None
    kind, rest = " ".join(match.group("kind").upper().split()), match.group("rest")
    name = unqualified_name(match.group("name")) if match.group("name") else "<name>"
    if re.search(r"\bNOT\s+VALID\b", rest, FLAGS):
        scope.not_valid.add(name)
        return []
    if re.search(r"\bUSING\s+INDEX\b", rest, FLAGS):
        return []
    how = "validated" if kind in ("CHECK", "FOREIGN KEY") else "indexed"
    fix = (
        "Add it NOT VALID, then VALIDATE CONSTRAINT in a later migration."
        if how == "validated"
        else "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX."
    )
    return [
        Violation(
            "ZDT210",
            f'ALTER TABLE "{table}" ADD {kind} "{name}" is {how} while the table is locked.',
            fix,
        )
    ]


def _column_change(table: str, action: str, scope: SqlScope) -> list[Violation] | None:
    if match := _DROP_COLUMN.match(action):
        column = unqualified_name(match.group("column"))
        return [
            Violation(
                "ZDT201",
                f'ALTER TABLE "{table}" DROP COLUMN "{column}": the live '
                "version still selects and inserts it.",
                hints.drop_column("<model>", column),
            )
        ]
    if match := _ALTER_TYPE.match(action):
        column, new_type = unqualified_name(match.group("column")), match.group("type")
        if may_widen(new_type):
            return []
        return [
            Violation(
                "ZDT205",
                f'ALTER TABLE "{table}" changes "{column}" to {new_type}: '
                "PostgreSQL rewrites the table and its indexes under ACCESS EXCLUSIVE.",
                "Add a new column, backfill it in batches, switch reads, then "
                "deprecate the old one.",
            )
        ]
    if match := _SET_NOT_NULL.match(action):
        column = unqualified_name(match.group("column"))
        return [
            Violation(
                "ZDT206",
                f'ALTER TABLE "{table}" SET NOT NULL on "{column}" scans the '
                "whole table under ACCESS EXCLUSIVE.",
                f'ADD CONSTRAINT ... CHECK ("{column}" IS NOT NULL) NOT VALID, VALIDATE '
                "it in a later migration, then SET NOT NULL (no scan on PG 12+).",
            )
        ]
    if _REWRITE_ACTION.match(action):
        return [
            Violation(
                "ZDT213",
                f'ALTER TABLE "{table}" {action}: rewrites the table under ACCESS EXCLUSIVE.',
                "Do this in a maintenance window.",
            )
        ]
    return None


def _add_column(table: str, action: str, scope: SqlScope) -> list[Violation] | None:
    match = _ADD_COLUMN.match(action)
    if not match:
        return None
    column, definition = unqualified_name(match.group("column")), match.group("definition")
    if add_column_rewrites(definition):
        return [
            Violation(
                "ZDT208",
                f'ALTER TABLE "{table}" ADD COLUMN "{column}" {definition}: a '
                "volatile default, serial, identity or stored generated column "
                "rewrites the table.",
                hints.add_column_rewrite("<model>", column),
            )
        ]
    has_default = re.search(r"\bDEFAULT\b", definition, FLAGS)
    if re.search(r"\bNOT\s+NULL\b", definition, FLAGS) and not has_default:
        return [
            Violation(
                "ZDT207",
                f'ALTER TABLE "{table}" ADD COLUMN "{column}" NOT NULL '
                "without DEFAULT: fails on a non-empty table and breaks the live "
                "version's inserts.",
                f"Give it a constant DEFAULT: ADD COLUMN "
                f'"{column}" ... DEFAULT <value> NOT NULL (no rewrite on PG 11+).',
            )
        ]
    return []


_CREATE_INDEX = re.compile(
    r"^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?P<concurrently>CONCURRENTLY\s+)?"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?(?:{QUALIFIED}\s+)?ON\s+(?:ONLY\s+)?(?P<table>{QUALIFIED})",
    FLAGS,
)
_DROP_INDEX = re.compile(r"^DROP\s+INDEX\s+(?P<concurrently>CONCURRENTLY\s+)?(?P<rest>.*)$", FLAGS)


@statement_rule
def index(text: str, scope: SqlScope) -> list[Violation]:
    if match := _CREATE_INDEX.match(text):
        table = unqualified_name(match.group("table"))
        if match.group("concurrently"):
            return _concurrently_in_atomic(scope, "CREATE INDEX CONCURRENTLY")
        if table in scope.new_tables:
            return []
        scope.ddl_table = table
        return [
            Violation(
                "ZDT209",
                f'CREATE INDEX on "{table}" blocks writes for the whole build.',
                "CREATE INDEX CONCURRENTLY, " + hints.NON_ATOMIC + ".",
            )
        ]
    if match := _DROP_INDEX.match(text):
        if match.group("concurrently"):
            return _concurrently_in_atomic(scope, "DROP INDEX CONCURRENTLY")
        scope.ddl_table = scope.ddl_table or "an index's table"
        return [
            Violation(
                "ZDT211",
                f"DROP INDEX {match.group('rest')} waits for ACCESS EXCLUSIVE on its table.",
                "DROP INDEX CONCURRENTLY, " + hints.NON_ATOMIC + ".",
            )
        ]
    return []


def _concurrently_in_atomic(scope: SqlScope, what: str) -> list[Violation]:
    if not scope.atomic:
        return []
    return [
        Violation(
            "ZDT302",
            f"{what} cannot run inside the migration's transaction; PostgreSQL refuses it.",
            hints.non_atomic(what),
        )
    ]


_DROP_TABLE = re.compile(
    r"^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?P<tables>.+?)"
    r"(?:\s+(?:CASCADE|RESTRICT))?$",
    FLAGS,
)


@statement_rule
def drop_table(text: str, scope: SqlScope) -> list[Violation]:
    match = _DROP_TABLE.match(text)
    if not match:
        return []
    tables = [unqualified_name(name) for name in split_commas(match.group("tables"))]
    scope.ddl_table = next((t for t in tables if t not in scope.new_tables), scope.ddl_table)
    return [
        Violation(
            "ZDT203",
            f'DROP TABLE "{table}" while the live version may still use it.',
            hints.drop_table("<Model>"),
        )
        for table in tables
        if table not in scope.new_tables
    ]


_SIMPLE: list[tuple[re.Pattern[str], str, str, str]] = [
    (
        re.compile(r"^LOCK\b", FLAGS),
        "ZDT212",
        "takes an explicit table lock that queues live traffic.",
        "Remove it: safemigrate takes locks with a short lock_timeout and retries.",
    ),
    (
        re.compile(r"^VACUUM\b.*\bFULL\b", FLAGS),
        "ZDT213",
        "rewrites the table under ACCESS EXCLUSIVE.",
        "Use plain VACUUM, or pg_repack, outside migrations.",
    ),
    (
        re.compile(r"^CLUSTER\b", FLAGS),
        "ZDT213",
        "rewrites the table under ACCESS EXCLUSIVE.",
        "Use pg_repack outside migrations.",
    ),
    (
        re.compile(r"^REINDEX\b(?!.*\bCONCURRENTLY\b)", FLAGS),
        "ZDT213",
        "blocks the table while it rebuilds.",
        "REINDEX ... CONCURRENTLY, " + hints.NON_ATOMIC + ".",
    ),
    (
        re.compile(r"^DROP\s+DATABASE\b", FLAGS),
        "ZDT214",
        "destroys the database.",
        "Never from a migration.",
    ),
    (
        re.compile(r"^CREATE\s+OR\s+REPLACE\s+(?:FUNCTION|PROCEDURE)\b", FLAGS),
        "ZDT215",
        "replaces a stored function/procedure that the live version may call.",
        "Create a new one under a new name (CREATE FUNCTION name_v2 ...), switch callers, drop the "
        "old one after the deprecation cycles.",
    ),
    (
        re.compile(
            r"^ALTER\s+(?:FUNCTION|PROCEDURE|ROUTINE)\b.*\b(?:RENAME|SET\s+SCHEMA)\b", FLAGS
        ),
        "ZDT215",
        "renames a stored function/procedure that the live version may call.",
        "Create the new name alongside the old one; drop the old one after the deprecation cycles.",
    ),
    (
        re.compile(r"^DROP\s+(?:FUNCTION|PROCEDURE|ROUTINE)\b", FLAGS),
        "ZDT215",
        "drops a stored function/procedure that the live version may call.",
        "Drop it only after the deprecation cycles, once no running version calls it.",
    ),
]


@statement_rule
def simple(text: str, scope: SqlScope) -> list[Violation]:
    out = []
    for pattern, code, why, fix in _SIMPLE:
        if pattern.match(text):
            out.append(Violation(code, f"{_head(text)} {why}", fix))
    if re.match(r"^REINDEX\b.*\bCONCURRENTLY\b", text, FLAGS):
        out += _concurrently_in_atomic(scope, "REINDEX CONCURRENTLY")
    return out


def _head(text: str, length: int = 60) -> str:
    return text if len(text) <= length else text[: length - 3] + "..."
