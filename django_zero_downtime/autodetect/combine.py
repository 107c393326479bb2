"""makemigrations combines what can be combined (seed 004): consecutive catalog-only changes
to one live table in one migration become one ``CombinedAlterTable``, so the table's
ACCESS EXCLUSIVE is queued for and taken once.

An operation is combinable when it is Django's own ``AddField`` or ``AlterField`` on a table
that already exists, the checker's operation rules have nothing to say about it, and every
statement it renders is an ``ALTER TABLE`` of that table whose clauses are all catalog-only
(as THE classifier, :mod:`django_zero_downtime.sql.classify`, reads them with the column
types of the state: no rewrite, scan or index build, nothing the previous release's writes
would trip on). Consecutive combinable operations on one model whose columns differ form
a group; a group of two or more is written as one ``CombinedAlterTable``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection, migrations
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

from django_zero_downtime.lint import facts
from django_zero_downtime.lint.collect import SqlCollector, offline_connection
from django_zero_downtime.lint.context import OperationContext
from django_zero_downtime.lint.op_facts import StateView
from django_zero_downtime.lint.rules import operations as operation_rules
from django_zero_downtime.sql.classify import Impact, classify_sql
from django_zero_downtime.sql.state import Schema

CANDIDATES = (migrations.AddField, migrations.AlterField)
CATALOG_ONLY = frozenset(
    {"ADD COLUMN", "DROP NOT NULL", "SET DEFAULT", "DROP DEFAULT", "ALTER COLUMN TYPE"}
)
"""``ALTER TABLE`` actions that only change the catalog when :attr:`Impact.costly` is False."""


@dataclass(frozen=True)
class Step:
    """One operation of the migration, and the columns it alters when it is combinable."""

    operation: Operation
    model: str | None = None
    columns: frozenset[str] = frozenset()


def catalog_only(impacts: list[Impact], table: str) -> frozenset[str] | None:
    """The columns ``impacts`` alter when all are catalog-only clauses of ``table`` that
    name each column once (pure); None otherwise."""
    if not impacts:
        return None
    columns: list[str] = []
    for impact in impacts:
        if impact.table != table or not impact.kind.startswith("ALTER TABLE"):
            return None
        if impact.costly or impact.breaks or impact.concurrent or impact.dml:
            return None
        if any(a.kind not in CATALOG_ONLY or not a.column or a.breaks for a in impact.actions):
            return None
        columns += [a.column for a in impact.actions if a.column]
    return frozenset(columns) if len(columns) == len(set(columns)) else None


def _impacts(app_label: str, op: Operation, before: ProjectState, after: ProjectState) -> Any:
    """The classified statements ``op`` renders (column types from ``before``), or None."""
    try:
        collector = SqlCollector(offline_connection(connection.alias))
        sql = collector.render(app_label, op, before, after)
    except Exception:  # needs the database, or cannot render: not combined
        return None
    view = StateView(connection)
    view.state = before
    schema = Schema(columns=view.lookup())
    return [impact for statement in sql for impact in classify_sql(statement, schema)]


def step(
    app_label: str, op: Operation, before: ProjectState, after: ProjectState, new: set[str]
) -> Step:
    """``op`` as a :class:`Step`: with its model and columns when it is combinable
    (``new``: tables created earlier in the migration, left alone)."""
    if type(op) not in CANDIDATES:
        return Step(op)
    ctx = OperationContext(app_label, op, before, connection, new_tables=new)
    found = ctx.existing_table(op.model_name)  # type: ignore[attr-defined]
    if found is None or operation_rules.check_operation(ctx):
        return Step(op)
    impacts = _impacts(app_label, op, before, after)
    columns = catalog_only(impacts or [], found[1])
    if columns is None:
        return Step(op)
    return Step(op, op.model_name.lower(), columns)  # type: ignore[attr-defined]


def groups(steps: list[Step]) -> list[list[Step]]:
    """Consecutive combinable steps on one model with different columns, together (pure)."""
    out: list[list[Step]] = []
    for current in steps:
        last = out[-1] if out else []
        joins = bool(last) and current.model is not None and last[0].model == current.model
        if joins and not any(current.columns & s.columns for s in last):
            last.append(current)
        else:
            out.append([current])
    return out


def combine(app_label: str, operations: list[Operation], state: ProjectState) -> list[Operation]:
    """``operations`` (starting from ``state``, not modified) with each group of two or
    more catalog-only changes to one table as one ``CombinedAlterTable``."""
    from django_zero_downtime.operations import CombinedAlterTable

    state, new = state.clone(), set[str]()
    steps = []
    for op in operations:
        before = state.clone()
        op.state_forwards(app_label, state)
        steps.append(step(app_label, op, before, state, new))
        if isinstance(op, migrations.CreateModel):
            created = facts.get_model_state(state, app_label, op.name)
            new |= {facts.table_name(created, connection)} if created else set()
    out: list[Operation] = []
    for group in groups(steps):
        ops = [s.operation for s in group]
        model = group[0].operation.model_name if len(group) > 1 else None  # type: ignore[attr-defined]
        out += [CombinedAlterTable(model, ops)] if model else ops
    return out
