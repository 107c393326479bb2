"""Pure decision logic of the blue/green compatibility check (see :mod:`.compat`).

A :data:`Schema` is what the database holds, table by table and column by column (type,
NULL, database default, CHECK conditions, unique column sets). :func:`schema_of` derives
it from a migration state; :func:`compare_schemas` lists every way a model of the previous
release breaks on a new schema, as :class:`Break` values with their ZDT5xx rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.state import ProjectState
from django.db.models import NOT_PROVIDED, CheckConstraint, UniqueConstraint

from django_zero_downtime.findings.catalogue import RULES

Key = tuple[str, str]


@dataclass(frozen=True)
class Column:
    """One column as the database has it (or as a model expects it)."""

    type: str
    null: bool
    db_default: bool
    field: str = ""
    """Name of the model field that maps to the column (for messages)."""
    filled: bool = False
    """A trigger fills the column when a write leaves it out (dual-write)."""


@dataclass
class Table:
    model: str
    columns: dict[str, Column] = field(default_factory=dict)
    checks: frozenset[str] = frozenset()
    uniques: frozenset[tuple[str, ...]] = frozenset()
    foreign_keys: frozenset[tuple[str, str]] = frozenset()
    """(column, referenced table) of foreign key constraints."""


Schema = dict[str, Table]


# --- schema of a migration state -------------------------------------------------------


def schema_of(
    state: ProjectState, connection: BaseDatabaseWrapper, cache: dict[Any, Table] | None = None
) -> Schema:
    """Database-level schema of every managed, concrete model in ``state`` (incl. M2M tables).

    ``cache`` maps rendered model classes to their tables: a migration state re-renders only
    the models an operation touches, so the others are not derived again.
    """
    schema: Schema = {}
    cache = {} if cache is None else cache
    for model in state.apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.managed and not meta.proxy and not meta.swapped:
            if model not in cache:
                cache[model] = _table_of(model, connection)
            schema[meta.db_table] = _copy(cache[model])
    return schema


def _copy(table: Table) -> Table:
    return replace(table, columns=dict(table.columns))


def _table_of(model: Any, connection: BaseDatabaseWrapper) -> Table:
    meta = model._meta
    columns = {}
    for f in meta.local_concrete_fields:
        db_type = f.db_type(connection)
        if f.column and db_type:
            has_default = f.db_default is not NOT_PROVIDED
            columns[f.column] = Column(_normal_type(db_type), f.null, has_default, f.name)
    label = f"{meta.app_label}.{meta.object_name}"
    return Table(label, columns, _checks(meta), _uniques(meta), _foreign_keys(meta))


def _foreign_keys(meta: Any) -> frozenset[tuple[str, str]]:
    return frozenset(
        (f.column, f.related_model._meta.db_table)
        for f in meta.local_concrete_fields
        if f.remote_field is not None and getattr(f, "db_constraint", False)
    )


def _checks(meta: Any) -> frozenset[str]:
    conditions = set()
    for constraint in meta.constraints:
        if isinstance(constraint, CheckConstraint):
            condition = constraint.condition
            conditions.add(str(condition))
    return frozenset(conditions)


def _uniques(meta: Any) -> frozenset[tuple[str, ...]]:
    sets = {(f.column,) for f in meta.local_concrete_fields if f.unique}
    sets |= {tuple(meta.get_field(n).column for n in group) for group in meta.unique_together}
    for constraint in meta.constraints:
        if isinstance(constraint, UniqueConstraint) and constraint.fields:
            sets.add(tuple(meta.get_field(n).column for n in constraint.fields))
        elif isinstance(constraint, UniqueConstraint):
            sets.add((f"expression:{constraint.name}",))
    return frozenset(sets)


def _normal_type(db_type: str) -> str:
    return re.sub(r"\s+", " ", db_type.strip().lower())


# --- type compatibility (pure) ----------------------------------------------------------

INTEGER_WIDTH = {"smallint": 2, "integer": 4, "bigint": 8}
TEXT_TYPES = re.compile(r"^(varchar|character varying)(?:\((\d+)\))?$|^text$")
NUMERIC = re.compile(r"^numeric\((\d+), ?(\d+)\)$")


def type_compatible(old: str, new: str) -> bool:
    """Can code written for a column of type ``old`` read and write one of type ``new``?

    True for the same type and for widenings that accept every value the old type held:
    smallint < integer < bigint, varchar(n) -> varchar(m >= n) or text, and numeric with
    more precision and the same scale.
    """
    if old == new:
        return True
    if old in INTEGER_WIDTH and new in INTEGER_WIDTH:
        return INTEGER_WIDTH[new] >= INTEGER_WIDTH[old]
    old_text, new_text = TEXT_TYPES.match(old), TEXT_TYPES.match(new)
    if old_text and new_text:
        return _text_limit(new_text) >= _text_limit(old_text)
    old_num, new_num = NUMERIC.match(old), NUMERIC.match(new)
    if old_num and new_num:
        return old_num[2] == new_num[2] and int(new_num[1]) >= int(old_num[1])
    return False


def _text_limit(match: re.Match[str]) -> float:
    return float(match[2]) if match[2] else float("inf")


# --- the rules (pure) -------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """One way the previous release's model fails on the new schema."""

    rule: str
    name: str
    severity: str
    table: str
    column: str
    message: str
    hint: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule, self.table, self.column)


def compare_schemas(old: Schema, new: Schema) -> list[Break]:
    """Every break of a model of ``old`` (the previous release) on the ``new`` database."""
    breaks: list[Break] = []
    for table_name, table in old.items():
        if table_name not in new:
            breaks.append(_table_removed(table_name, table))
            continue
        breaks += _column_breaks(table_name, table, new[table_name])
        breaks += _new_column_breaks(table_name, table, new[table_name])
        breaks += _constraint_breaks(table_name, table, new[table_name])
    return breaks


def _table_removed(name: str, table: Table) -> Break:
    message = (
        f"{table.model} (previous release) uses table {name}, which no longer exists "
        "(dropped or renamed)."
    )
    return _break("ZDT501", name, "", message)


def _column_breaks(name: str, old: Table, new: Table) -> list[Break]:
    breaks = []
    for column, was in old.columns.items():
        now = new.columns.get(column)
        where = f"{old.model}.{was.field} (column {name}.{column})"
        if now is None:
            breaks.append(_break("ZDT502", name, column, f"{where} no longer exists."))
        elif not type_compatible(was.type, now.type):
            message = f"{where} changes type from {was.type} to {now.type}."
            breaks.append(_break("ZDT503", name, column, message))
        elif was.null and not now.null and not (now.db_default or now.filled):
            message = f"{where} becomes NOT NULL; the previous release may write NULL."
            breaks.append(_break("ZDT505", name, column, message))
        elif was.db_default and not now.db_default and not now.null and not now.filled:
            message = f"{where} loses its database default; the previous release relies on it."
            breaks.append(_break("ZDT508", name, column, message))
    return breaks


def _new_column_breaks(name: str, old: Table, new: Table) -> list[Break]:
    breaks = []
    for column, now in new.columns.items():
        if column in old.columns or now.null or now.db_default or now.filled:
            continue
        message = (
            f"{new.model}.{now.field} (new column {name}.{column}) is NOT NULL without a "
            f"database default; inserts by the previous release's {old.model} fail."
        )
        breaks.append(_break("ZDT504", name, column, message))
    return breaks


def _constraint_breaks(name: str, old: Table, new: Table) -> list[Break]:
    breaks = []
    for condition in sorted(new.checks - old.checks):
        message = f"New CHECK {condition} on {name} may reject rows {old.model} writes."
        breaks.append(_break("ZDT506", name, condition, message))
    for columns in sorted(new.uniques - old.uniques):
        message = f"New unique constraint on {name}({', '.join(columns)}) may reject rows "
        breaks.append(_break("ZDT507", name, ",".join(columns), message + f"{old.model} writes."))
    for column, target in sorted(new.foreign_keys - old.foreign_keys):
        if column in old.columns:
            message = (
                f"New foreign key {name}.{column} -> {target} may reject values "
                f"{old.model}.{old.columns[column].field} writes."
            )
            breaks.append(_break("ZDT509", name, column, message))
    return breaks


def _break(rule: str, table: str, column: str, message: str) -> Break:
    """A break of ``rule``; its name, severity and hint come from the rule catalogue."""
    entry = RULES[rule]
    return Break(rule, entry.name, entry.severity, table, column, message, entry.hint)
