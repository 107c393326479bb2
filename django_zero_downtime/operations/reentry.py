"""Re-entering a non-atomic migration after a kill: what each statement finds in place.

A non-atomic migration commits statement by statement; a run killed between a committed
statement and the migration's record leaves that statement's object behind, and the rerun
runs the statement again. Before every ``CREATE TABLE``, ``CREATE INDEX``,
``ADD CONSTRAINT``, ``ADD COLUMN`` and ``CREATE TRIGGER`` of such a migration, safemigrate
looks at what holds the name (:mod:`.leftovers` compares definitions structurally) and:

- nothing there: runs the statement;
- the same index, valid: adopts it (the statement is skipped, the run says so);
- an INVALID index (a killed concurrent build): drops it concurrently, then builds;
- the same constraint, validated (or NOT VALID when the statement adds it NOT VALID):
  adopts it; the same constraint left NOT VALID: validates it instead of adding it;
- the same trigger, the same column (type, NOT NULL, identity, generation) or the same
  table (its columns so, in order): adopts it;
- something else under that name: stops with exit 3, naming both definitions.

The decisions are pure functions of what was found (:func:`index_decision`, ...). The
runner asks :func:`check` before every statement of a non-atomic migration (so Django's
own ``AddIndexConcurrently`` / ``AddConstraint`` re-enter too); this product's operations
ask :func:`index_reentry` themselves, so they re-enter under plain ``migrate`` as well.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from django_zero_downtime.exceptions import UnsafeOperationError
from django_zero_downtime.operations import leftovers
from django_zero_downtime.operations.leftovers import Existing
from django_zero_downtime.sql.classify import Impact
from django_zero_downtime.sql.identifiers import quote_ident


@dataclass(frozen=True)
class Reentry:
    """What to run for one statement: ``before`` it, ``instead`` of it, or it (``run``)."""

    run: bool = True
    before: tuple[str, ...] = ()
    """Statements that run outside a transaction first (DROP INDEX CONCURRENTLY)."""
    instead: tuple[str, ...] = ()
    """Statements that replace it, each in its own short transaction (VALIDATE)."""
    note: str = ""
    """What the run found and did, said in the output and kept in the report."""
    dropped_invalid: str | None = None


RUN = Reentry()


def _conflict(
    kind: str, name: str, found: str, statement: str, compared: bool = True
) -> UnsafeOperationError:
    how = (
        "with another definition"
        if compared
        else "and could not be compared (the wanted one failed to build on a temporary copy)"
    )
    return UnsafeOperationError(
        f"{kind} {name} already exists {how}:\n  found:  {found}\n"
        f"  wanted: {statement.strip()}\nNothing of this statement was applied. Drop or rename "
        f"the existing {kind.lower()} (or fix the migration), then run safemigrate again."
    )


def index_decision(name: str, found: Existing, statement: str) -> Reentry:
    if not found.valid:
        return Reentry(
            before=(f"DROP INDEX CONCURRENTLY IF EXISTS {quote_ident(name)}",),
            note=f"dropping INVALID index {name} left by an earlier failed build; rebuilding it",
            dropped_invalid=name,
        )
    if found.same:
        return Reentry(run=False, note=f"adopted existing valid index {name} ({found.definition})")
    raise _conflict("Index", name, found.definition, statement, found.same is not None)


def index_reentry(
    connection: Any, sql: str, matches: Callable[[Any, str], bool] | None = None
) -> Reentry:
    """The decision for one ``CREATE INDEX``; ``matches(connection, name)`` decides when the
    wanted definition cannot be probed (the operation knows the shape it builds)."""
    index = leftovers.index_leftover(connection, sql)
    if index is None:
        return RUN
    name, found = index
    if found.same is None and matches is not None:
        found = replace(found, same=matches(connection, name))
    return index_decision(name, found, sql)


def constraint_decision(
    table: str, name: str, not_valid: bool, found: Existing, statement: str
) -> Reentry:
    if not found.same:
        raise _conflict("Constraint", name, found.definition, statement, found.same is not None)
    if found.valid or not_valid:
        state = "validated" if found.valid else "NOT VALID"
        return Reentry(run=False, note=f"adopted existing {state} constraint {name} on {table}")
    validate = f"ALTER TABLE {quote_ident(table)} VALIDATE CONSTRAINT {quote_ident(name)}"
    return Reentry(
        run=False,
        instead=(validate,),
        note=f"found constraint {name} on {table} left NOT VALID: validating it",
    )


def trigger_decision(name: str, found: Existing, statement: str) -> Reentry:
    if found.same:
        return Reentry(run=False, note=f"adopted existing trigger {name} ({found.definition})")
    raise _conflict("Trigger", name, found.definition, statement, found.same is not None)


def column_decision(table: str, column: str, found: Existing, statement: str) -> Reentry:
    if found.same:
        return Reentry(run=False, note=f"adopted existing column {table}.{found.definition}")
    raise _conflict(
        "Column", f"{table}.{column}", found.definition, statement, found.same is not None
    )


def table_decision(table: str, found: Existing, statement: str) -> Reentry:
    if found.same:
        return Reentry(run=False, note=f"adopted existing table {table} ({found.definition})")
    raise _conflict("Table", table, found.definition, statement, found.same is not None)


def check(connection: Any, sql: str, impacts: list[Impact], params: Any = None) -> Reentry:
    """The decision for one statement of a non-atomic migration (see the module doc)."""
    if len(impacts) != 1:
        return RUN  # several statements in one: they bring their own IF [NOT] EXISTS
    impact = impacts[0]
    if impact.kind == "ALTER TABLE ADD COLUMN" and impact.table:
        column = leftovers.column_leftover(connection, sql, params)
        return RUN if column is None else column_decision(impact.table, *column, sql)
    if impact.kind == "CREATE TABLE":
        table = leftovers.table_leftover(connection, sql, params)
        return RUN if table is None else table_decision(*table, sql)
    if params:
        return RUN  # the statements below take no parameters in Django's and our SQL
    if impact.kind == "CREATE INDEX":
        return index_reentry(connection, sql)
    if impact.kind == "CREATE TRIGGER":
        trigger = leftovers.trigger_leftover(connection, sql)
        return RUN if trigger is None else trigger_decision(*trigger, sql)
    if impact.kind == "ALTER TABLE ADD CONSTRAINT" and impact.table:
        found = leftovers.constraint_leftover(connection, impact.table, sql)
        return RUN if found is None else constraint_decision(impact.table, *found, sql)
    return RUN
