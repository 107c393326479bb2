"""Columns a dual-write trigger mirrors: judged by the column they mirror.

While a ``DualWriteRename`` dual-writes, the trigger keeps the new column equal to the old
one for every write, and the new column's indexes and constraints are twins of the old
column's. A previous-release write passes a twin unique constraint or check exactly when it
passes the original, so the compatibility check compares the new schema with the new column
read as the old one: a twin is no new constraint.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.db.models import CheckConstraint

from django_zero_downtime.bluegreen.schema import Table


@dataclass(frozen=True)
class Mirror:
    """``new`` (field, column) mirrors ``old`` (field, column) on one table."""

    old_field: str
    new_field: str
    old_column: str
    new_column: str


def as_mirrored(table: Table, model: Any, mirrors: list[Mirror]) -> Table:
    """``table`` with each mirroring column's unique sets and checks read as the old's."""
    # operations/ imports the ledger models: not importable before Django's set-up, which
    # testing/ (a pytest plugin, imported early) reaches through this module.
    from django_zero_downtime.operations.references import renamed_expression

    uniques = set(table.uniques)
    checks = set(table.checks)
    for mirror in mirrors:
        swap = {mirror.new_column: mirror.old_column}
        uniques = {tuple(swap.get(c, c) for c in columns) for columns in uniques}
        for constraint in model._meta.constraints if model is not None else ():
            if isinstance(constraint, CheckConstraint):
                condition = constraint.condition
                back = renamed_expression(condition, mirror.new_field, mirror.old_field)
                if str(condition) in checks:
                    checks = (checks - {str(condition)}) | {str(back)}
    return replace(table, uniques=frozenset(uniques), checks=frozenset(checks))
