"""The ZDT2xx statement rules: verdicts on the facts of :mod:`django_zero_downtime.sql.classify`.

Each rule takes one classified statement (:class:`Impact`) and the migration's
:class:`~.sql.SqlScope`. Nothing here reads SQL text: what a statement locks, rewrites,
scans, builds or breaks was decided once, by the classification.
"""

from __future__ import annotations

from collections.abc import Callable

from django_zero_downtime.findings.catalogue import Violation
from django_zero_downtime.lint.rules import hints
from django_zero_downtime.lint.rules.sql import SqlScope, statement_rule
from django_zero_downtime.sql.classify import Action, Impact

ActionRule = Callable[[str, Action, SqlScope], list[Violation]]


def _quote(name: str | None) -> str:
    return f'"{name}"' if name else "<name>"


@statement_rule
def alter_table(impact: Impact, scope: SqlScope) -> list[Violation]:
    if not impact.kind.startswith("ALTER TABLE") or impact.table is None or impact.new_table:
        return []
    table = impact.table
    scope.ddl_table = table
    scope.alter_counts[table] += 1
    out: list[Violation] = []
    for action in impact.actions:
        rule = _ACTION_RULES.get(action.kind)
        out += rule(table, action, scope) if rule else []
    return out


def _rename_table(table: str, action: Action, scope: SqlScope) -> list[Violation]:
    model, _ = scope.model_field(table)
    return [
        Violation(
            "ZDT204",
            f'ALTER TABLE "{table}" RENAME TO {_quote(action.name)}: the previous release '
            "still queries the old name.",
            hints.rename_table(model, table),
        )
    ]


def _set_schema(table: str, action: Action, scope: SqlScope) -> list[Violation]:
    model, _ = scope.model_field(table)
    return [
        Violation(
            "ZDT204",
            f'ALTER TABLE "{table}" {action.text}: moves the table away from the name the '
            "previous release queries.",
            hints.rename_table(model, table),
        )
    ]


def _rename_column(table: str, action: Action, scope: SqlScope) -> list[Violation]:
    model, name = scope.model_field(table, action.column)
    new = action.name or "<new name>"
    return [
        Violation(
            "ZDT202",
            f'ALTER TABLE "{table}" RENAMEs column {_quote(action.column)}: the previous '
            "release still uses the old name.",
            f'Rename in expand/contract steps: zdt.DualWriteRename("{model}", "{name}", '
            f'"{new}"), or keep the column with db_column="{action.column}".',
        )
    ]


def _add_constraint(table: str, action: Action, scope: SqlScope) -> list[Violation]:
    if not (action.scans or action.builds_index):
        return []
    kind = action.constraint or "CONSTRAINT"
    how = "validated" if action.validates or action.scans else "indexed"
    fix = (
        "Add it NOT VALID, then VALIDATE CONSTRAINT in a later migration."
        if how == "validated"
        else "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX."
    )
    if kind == "EXCLUDE":
        fix = hints.NO_ONLINE_EXCLUSION
    return [
        Violation(
            "ZDT210",
            f'ALTER TABLE "{table}" ADD {kind} {_quote(action.name)} is {how} while the table '
            "is locked.",
            fix,
        )
    ]


def _validate(table: str, action: Action, scope: SqlScope) -> list[Violation]:
    name = action.name or ""
    if not (scope.atomic and name in scope.not_valid):
        return []
    return [
        Violation(
            "ZDT304",
            f'VALIDATE CONSTRAINT "{name}" on "{table}" runs in the transaction that added it '
            "NOT VALID, so it scans under that lock.",
            hints.non_atomic("the VALIDATE CONSTRAINT"),
        )
    ]


def _drop_column(table: str, action: Action, scope: SqlScope) -> list[Violation]:
    model, name = scope.model_field(table, action.column)
    return [
        Violation(
            "ZDT201",
            f'ALTER TABLE "{table}" DROP COLUMN {_quote(action.column)}: the previous release '
            "still selects and inserts it.",
            hints.drop_column(model, name),
        )
    ]


def _type(table: str, action: Action, scope: SqlScope) -> list[Violation]:
    column = f'"{table}"."{action.column}"'
    if action.rewrites:
        what = "PostgreSQL rewrites the table and its indexes under ACCESS EXCLUSIVE."
    elif action.builds_index:
        what = "no table rewrite, but PostgreSQL rebuilds the column's indexes under ACCESS "
        what += "EXCLUSIVE."
    else:
        return []
    model, name = scope.model_field(table, action.column)
    return [
        Violation(
            "ZDT205",
            f"ALTER TABLE changes {column} to {action.new_type}: {what}",
            hints.alter_type_sql(model, name),
        )
    ]


def _set_not_null(table: str, action: Action, scope: SqlScope) -> list[Violation]:
    if not action.scans:
        return []
    column = action.column or ""
    return [
        Violation(
            "ZDT206",
            f'ALTER TABLE "{table}" SET NOT NULL on "{column}" scans the whole table under '
            "ACCESS EXCLUSIVE.",
            hints.set_not_null_sql(table, column),
        )
    ]


def _rewrite(table: str, action: Action, scope: SqlScope) -> list[Violation]:
    return [
        Violation(
            "ZDT213",
            f'ALTER TABLE "{table}" {action.text}: rewrites the table under ACCESS EXCLUSIVE.',
            "Do this in a maintenance window.",
        )
    ]


def _add_column(table: str, action: Action, scope: SqlScope) -> list[Violation]:
    column = action.column or ""
    model, name = scope.model_field(table, column)
    if action.rewrites:
        return [
            Violation(
                "ZDT208",
                f'ALTER TABLE "{table}" ADD COLUMN "{column}" {action.new_type}: a volatile '
                "default, serial, identity or stored generated column rewrites the table.",
                hints.add_column_rewrite(model, name),
            )
        ]
    if action.breaks:
        return [
            Violation(
                "ZDT207",
                f'ALTER TABLE "{table}" ADD COLUMN "{column}" NOT NULL without DEFAULT: fails on '
                "a non-empty table and breaks the previous release's inserts.",
                f'Give it a constant DEFAULT: ADD COLUMN "{column}" ... DEFAULT <value> NOT NULL '
                "(no rewrite on PG 11+).",
            )
        ]
    return _inline_constraint(table, column, action)


def _inline_constraint(table: str, column: str, action: Action) -> list[Violation]:
    if not (action.scans or action.builds_index or action.validates):
        return []
    what = "builds its unique index" if action.builds_index else "scans the table to validate"
    return [
        Violation(
            "ZDT210",
            f'ALTER TABLE "{table}" ADD COLUMN "{column}" with an inline constraint {what} '
            "under ACCESS EXCLUSIVE.",
            "Add the column without the constraint, then add the constraint the online way "
            "(NOT VALID + VALIDATE, or CREATE UNIQUE INDEX CONCURRENTLY + USING INDEX).",
        )
    ]


_ACTION_RULES: dict[str, ActionRule] = {
    "RENAME TABLE": _rename_table,
    "SET SCHEMA": _set_schema,
    "RENAME COLUMN": _rename_column,
    "ADD CONSTRAINT": _add_constraint,
    "VALIDATE CONSTRAINT": _validate,
    "DROP COLUMN": _drop_column,
    "ALTER COLUMN TYPE": _type,
    "SET NOT NULL": _set_not_null,
    "SET TABLESPACE": _rewrite,
    "SET LOGGED": _rewrite,
    "SET UNLOGGED": _rewrite,
    "SET ACCESS METHOD": _rewrite,
    "ADD COLUMN": _add_column,
}


@statement_rule
def index(impact: Impact, scope: SqlScope) -> list[Violation]:
    if impact.kind == "CREATE INDEX":
        if impact.concurrent:
            return _concurrently_in_atomic(scope, "CREATE INDEX CONCURRENTLY")
        if impact.new_table or impact.table is None:
            return []
        scope.ddl_table = impact.table
        return [
            Violation(
                "ZDT209",
                f'CREATE INDEX on "{impact.table}" blocks writes for the whole build.',
                "CREATE INDEX CONCURRENTLY, " + hints.NON_ATOMIC + ".",
            )
        ]
    if impact.kind == "DROP INDEX":
        if impact.concurrent:
            return _concurrently_in_atomic(scope, "DROP INDEX CONCURRENTLY")
        scope.ddl_table = scope.ddl_table or "an index's table"
        return [
            Violation(
                "ZDT211",
                f"DROP INDEX {_quote(impact.index)} waits for ACCESS EXCLUSIVE on its table.",
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


@statement_rule
def drop_table(impact: Impact, scope: SqlScope) -> list[Violation]:
    if impact.kind != "DROP TABLE":
        return []
    live = [a.name for a in impact.actions if a.name and a.name not in scope.new_tables]
    scope.ddl_table = live[0] if live else scope.ddl_table
    return [
        Violation(
            "ZDT203",
            f'DROP TABLE "{table}" while the previous release may still use it.',
            hints.drop_table(scope.model_field(table)[0]),
        )
        for table in live
    ]


_SIMPLE: dict[str, tuple[str, str, str]] = {
    "LOCK TABLE": (
        "ZDT212",
        "takes an explicit table lock that queues live traffic.",
        "Remove it: safemigrate takes locks with a short lock_timeout and retries.",
    ),
    "VACUUM FULL": (
        "ZDT213",
        "rewrites the table under ACCESS EXCLUSIVE.",
        "Use plain VACUUM, or pg_repack, outside migrations.",
    ),
    "CLUSTER": (
        "ZDT213",
        "rewrites the table under ACCESS EXCLUSIVE.",
        "Use pg_repack outside migrations.",
    ),
    "DROP DATABASE": ("ZDT214", "destroys the database.", "Never from a migration."),
    "CREATE OR REPLACE FUNCTION": (
        "ZDT215",
        "replaces a stored function/procedure that the previous release may call.",
        "Create a new one under a new name (CREATE FUNCTION name_v2 ...), switch callers, drop "
        "the old one after the deprecation cycles.",
    ),
    "ALTER FUNCTION": (
        "ZDT215",
        "renames a stored function/procedure that the previous release may call.",
        "Create the new name alongside the old one; drop the old one after the deprecation cycles.",
    ),
    "DROP FUNCTION": (
        "ZDT215",
        "drops a stored function/procedure that the previous release may call.",
        "Drop it only after the deprecation cycles, once no running version calls it.",
    ),
}


@statement_rule
def simple(impact: Impact, scope: SqlScope) -> list[Violation]:
    out = []
    found = _SIMPLE.get(impact.kind)
    if found and (impact.kind not in ("ALTER FUNCTION",) or impact.breaks):
        code, why, fix = found
        out.append(Violation(code, f"{_head(impact.text)} {why}", fix))
    if impact.kind in ("VACUUM", "VACUUM FULL"):
        out += _concurrently_in_atomic(scope, "VACUUM")
    if impact.kind == "REINDEX":
        if impact.concurrent:
            out += _concurrently_in_atomic(scope, "REINDEX CONCURRENTLY")
        else:
            out.append(
                Violation(
                    "ZDT213",
                    f"{_head(impact.text)} blocks the table while it rebuilds.",
                    "REINDEX ... CONCURRENTLY, " + hints.NON_ATOMIC + ".",
                )
            )
    if impact.kind == "ALTER DOMAIN ADD CONSTRAINT" and impact.validates:
        out.append(
            Violation(
                "ZDT210",
                f"{_head(impact.text)} validates every column of the domain while their tables "
                "are locked against writes.",
                "Add it NOT VALID, then ALTER DOMAIN ... VALIDATE CONSTRAINT in a later migration.",
            )
        )
    return out


def _head(text: str, length: int = 80) -> str:
    """The statement, shortened at a word boundary (never mid-identifier)."""
    if len(text) <= length:
        return text
    cut = text[: length - 3].rsplit(" ", 1)[0]
    return cut + " ..."
