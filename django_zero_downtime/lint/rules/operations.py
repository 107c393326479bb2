"""Operation rules (ZDT1xx): each operation judged against the project state before it.

A checker is registered for an operation class and found along the operation's MRO, so a
third-party subclass of ``AddField`` is judged as an ``AddField``; a class with no checker on
its MRO is unknown (ZDT190, a warning). Changes to a table created earlier in the same
migration are never flagged: nobody else can be using it yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from django.contrib.postgres import operations as pg_ops
from django.db import migrations
from django.db.migrations.operations.base import Operation

from django_zero_downtime.findings.catalogue import Violation
from django_zero_downtime.lint import facts
from django_zero_downtime.lint.context import OperationContext, is_safe_operation
from django_zero_downtime.lint.rules import added, hints
from django_zero_downtime.sql.types import type_change

Checker = Callable[[OperationContext], list[Violation]]
_CHECKERS: dict[type, Checker] = {}


def checks(*classes: type) -> Callable[[Checker], Checker]:
    def register(checker: Checker) -> Checker:
        for cls in classes:
            _CHECKERS[cls] = checker
        return checker

    return register


def find_checker(cls: type) -> Checker | None:
    for klass in cls.__mro__:
        if klass in _CHECKERS:
            return _CHECKERS[klass]
    return None


def is_known(operation: Operation) -> bool:
    return is_safe_operation(operation) or find_checker(type(operation)) is not None


def check_operation(ctx: OperationContext) -> list[Violation]:
    """Every operation rule's verdict on one operation."""
    if getattr(ctx.operation, "zero_downtime_combined", False):
        return _each_inner(ctx)
    if is_safe_operation(ctx.operation):
        return []
    checker = find_checker(type(ctx.operation))
    if checker is None:
        return [_unknown(ctx.operation)]
    return checker(ctx)


def _each_inner(ctx: OperationContext) -> list[Violation]:
    """``CombinedAlterTable``: each inner operation judged against the state before it."""
    state, out = ctx.state.clone(), []
    for inner in ctx.operation.operations:  # type: ignore[attr-defined]
        out += check_operation(replace(ctx, operation=inner, state=state.clone()))
        inner.state_forwards(ctx.app_label, state)
    return out


def _unknown(operation: Operation) -> Violation:
    path = f"{type(operation).__module__}.{type(operation).__qualname__}"
    return Violation(
        "ZDT190",
        f"{path} is not an operation the checker knows: only the SQL it renders is checked.",
        "Review what it does to live tables; once reviewed, suppress ZDT190 with a reason.",
    )


def _nothing(ctx: OperationContext) -> list[Violation]:
    return []


# Known operations with nothing to flag at operation level (state-only, brief, already safe,
# or judged elsewhere: RunSQL by the SQL rules, RunPython and CONCURRENTLY by the
# transaction rules, SeparateDatabaseAndState by recursing into its database operations).
checks(
    migrations.CreateModel,
    migrations.AlterModelOptions,
    migrations.AlterModelManagers,
    migrations.AlterModelTableComment,
    migrations.AlterOrderWithRespectTo,
    migrations.RemoveConstraint,
    migrations.RenameIndex,
    migrations.RunSQL,
    migrations.RunPython,
    migrations.SeparateDatabaseAndState,
    pg_ops.AddIndexConcurrently,
    pg_ops.RemoveIndexConcurrently,
    pg_ops.AddConstraintNotValid,
    pg_ops.ValidateConstraint,
    pg_ops.CreateExtension,
    pg_ops.CreateCollation,
    pg_ops.RemoveCollation,
)(_nothing)
if hasattr(migrations, "AlterConstraint"):  # Django 5.2+
    checks(migrations.AlterConstraint)(_nothing)
try:  # django-pgtrigger: CREATE TRIGGER takes a brief SHARE ROW EXCLUSIVE lock
    from pgtrigger.migrations import AddTrigger, RemoveTrigger

    checks(AddTrigger, RemoveTrigger)(_nothing)
except ImportError:  # pragma: no cover - pgtrigger is a dependency
    pass


def _where(ctx: OperationContext, model: str, name: str = "") -> str:
    suffix = f".{name}" if name else ""
    return f"{ctx.app_label}.{model}{suffix}"


@checks(migrations.AddField)
def add_field(ctx: OperationContext) -> list[Violation]:
    op: Any = ctx.operation
    found = ctx.existing_table(op.model_name)
    new = ctx.column_facts(op.name, op.field)
    if found is None or new.column is None:
        return []
    model, table = found[0].name, found[1]
    where, column = _where(ctx, model, op.name), f'"{table}"."{new.column}"'
    out: list[Violation] = []
    if added.rewrites_on_add(op.field):
        out.append(
            Violation(
                "ZDT108",
                f"AddField {where}: adding {column} ({added.rewrite_kind(op.field)}) "
                "rewrites the whole table under ACCESS EXCLUSIVE.",
                hints.add_column_rewrite(model, op.name, added.stored_generated(op.field)),
            )
        )
    elif not new.null and not new.db_default and not added.is_generated(op.field):
        out.append(
            Violation(
                "ZDT107",
                f"AddField {where}: {column} is NOT NULL without a "
                "database default; the previous release's INSERTs omit it and fail.",
                hints.add_not_null_column(model, op.name, hints.code(op.field), op.field),
            )
        )
    out += _index_violations(ctx, "AddField", where, table, new, op.name, model)
    if new.fk_constraint and added.filled_on_add(op.field, new):
        out.append(_fk_violation(ctx, "AddField", where, table, new))
    return out


def _index_violations(
    ctx: OperationContext,
    verb: str,
    where: str,
    table: str,
    new: facts.ColumnFacts,
    name: str,
    model: str,
    old: facts.ColumnFacts | None = None,
) -> list[Violation]:
    column = str(new.column)
    if (new.unique and not (old and old.unique)) or (new.primary_key and not _old_pk(old)):
        index = hints._name(table, column, "uniq")
        return [
            Violation(
                "ZDT110",
                f'{verb} {where}: the unique index on "{table}"."{column}" '
                "is built under ACCESS EXCLUSIVE, blocking reads and writes.",
                hints.add_unique(table, f'"{column}"', index),
            )
        ]
    if new.indexed and not (old and (old.indexed or old.unique)):
        index_name = hints.index_name(table, column)
        index_code = f'models.Index(fields=["{name}"], name="{index_name}")'
        return [
            Violation(
                "ZDT109",
                f'{verb} {where}: the index on "{table}"."{column}" is '
                "built with CREATE INDEX, which blocks writes for the whole build.",
                hints.create_index(model, index_code, field=name),
            )
        ]
    return []


def _old_pk(old: facts.ColumnFacts | None) -> bool:
    return bool(old and old.primary_key)


def _fk_violation(
    ctx: OperationContext, verb: str, where: str, table: str, new: facts.ColumnFacts
) -> Violation:
    constraint = hints._name(table, str(new.column), "fk")
    target = facts.target_table(ctx.state, str(new.fk_target), ctx.connection)
    target_column = new.fk_target_column or "id"
    references = f'"{target}" ("{target_column}")' if target else f"<table of {new.fk_target}>"
    return Violation(
        "ZDT111",
        f'{verb} {where}: the foreign key on "{table}"."{new.column}"'
        " is validated while both tables are locked against writes.",
        hints.add_foreign_key(table, str(new.column), references, constraint),
    )


@checks(migrations.RemoveField)
def remove_field(ctx: OperationContext) -> list[Violation]:
    op: Any = ctx.operation
    found = ctx.existing_table(op.model_name)
    field = found[0].fields.get(op.name) if found else None
    if found is None or field is None:
        return []
    model_state, table = found
    where = _where(ctx, model_state.name, op.name)
    if field.many_to_many:
        through = facts.through_table_name(model_state, op.name, field, ctx.connection)
        if through is None:
            return []
        return [
            Violation(
                "ZDT103",
                f'RemoveField {where}: drops the join table "{through}" '
                "that the live version still reads and writes.",
                hints.drop_column(model_state.name, op.name),
            )
        ]
    column = facts.bound(op.name, field).column
    return [
        Violation(
            "ZDT101",
            f'RemoveField {where}: drops "{table}"."{column}" while '
            "the live version still selects and inserts it.",
            hints.drop_column(model_state.name, op.name),
        )
    ]


@checks(migrations.AlterField)
def alter_field(ctx: OperationContext) -> list[Violation]:
    op: Any = ctx.operation
    found = ctx.existing_table(op.model_name)
    old_field = found[0].fields.get(op.name) if found else None
    if found is None or old_field is None:
        return []
    model, table = found[0].name, found[1]
    old = ctx.column_facts(op.name, old_field)
    new = ctx.column_facts(op.name, op.field)
    if old.column is None or new.column is None:
        return []
    where = _where(ctx, model, op.name)
    out = _alter_column_violations(where, table, model, op, old, new, ctx.schema)
    out += _index_violations(ctx, "AlterField", where, table, new, op.name, model, old)
    if new.fk_constraint and (not old.fk_constraint or old.fk_target != new.fk_target):
        out.append(_fk_violation(ctx, "AlterField", where, table, new))
    return out


def _alter_column_violations(
    where: str,
    table: str,
    model: str,
    op: Any,
    old: facts.ColumnFacts,
    new: facts.ColumnFacts,
    schema: Any,
) -> list[Violation]:
    out: list[Violation] = []
    column = f'"{table}"."{old.column}"'
    if old.column != new.column:
        out.append(
            Violation(
                "ZDT102",
                f"AlterField {where}: renames column {column} to "
                f'"{new.column}" under the live version.',
                hints.rename_column(model, str(old.column), str(new.column), hints.code(op.field)),
            )
        )
    change = type_change(old.type, new.type)
    if old.type != new.type and old.type and new.type and not change.free:
        what = (
            "rewrites the table and its indexes"
            if change.rewrites
            else ("rebuilds the column's indexes (no table rewrite)")
        )
        out.append(
            Violation(
                "ZDT105",
                f"AlterField {where}: changing {column} from {old.type} "
                f"to {new.type} {what} under ACCESS EXCLUSIVE.",
                hints.alter_type(model, op.name, hints.code(op.field)),
            )
        )
    proved = schema.proves_not_null(table, str(old.column))
    if old.null and not new.null and not new.primary_key and not proved:
        out.append(
            Violation(
                "ZDT106",
                f"AlterField {where}: SET NOT NULL on {column} scans the "
                "whole table under ACCESS EXCLUSIVE.",
                hints.set_not_null(model, op.name, str(new.column), table),
            )
        )
    return out  # ZDT114 (a dropped default/identity) is judged at the commit: op_facts


@checks(migrations.RenameField)
def rename_field(ctx: OperationContext) -> list[Violation]:
    op: Any = ctx.operation
    found = ctx.existing_table(op.model_name)
    field = found[0].fields.get(op.old_name) if found else None
    if found is None or field is None or field.many_to_many:
        return []
    model, table = found[0].name, found[1]
    old_column = facts.bound(op.old_name, field).column
    new_column = facts.bound(op.new_name, field).column
    if old_column == new_column:
        return []
    return [
        Violation(
            "ZDT102",
            f"RenameField {_where(ctx, model, op.old_name)}: renames "
            f'"{table}"."{old_column}" to "{new_column}"; the live version '
            "still uses the old name.",
            hints.rename_column(model, op.old_name, op.new_name, hints.code(field)),
        )
    ]


@checks(migrations.DeleteModel)
def delete_model(ctx: OperationContext) -> list[Violation]:
    op: Any = ctx.operation
    found = ctx.existing_table(op.name)
    if found is None:
        return []
    return [
        Violation(
            "ZDT103",
            f"DeleteModel {_where(ctx, found[0].name)}: drops the table "
            f'"{found[1]}" that the live version still uses.',
            hints.drop_table(found[0].name),
        )
    ]


@checks(migrations.RenameModel)
def rename_model(ctx: OperationContext) -> list[Violation]:
    op: Any = ctx.operation
    found = ctx.existing_table(op.old_name)
    if found is None or found[0].options.get("db_table"):
        return []
    new_state = found[0].clone()
    new_state.name = op.new_name
    new_table = facts.table_name(new_state, ctx.connection)
    if new_table == found[1]:
        return []
    return [
        Violation(
            "ZDT104",
            f"RenameModel {_where(ctx, found[0].name)}: renames the table "
            f'"{found[1]}" to "{new_table}" under the live version.',
            hints.rename_table(op.new_name, found[1]),
        )
    ]


@checks(migrations.AlterModelTable)
def alter_model_table(ctx: OperationContext) -> list[Violation]:
    op: Any = ctx.operation
    found = ctx.existing_table(op.name)
    if found is None:
        return []
    new_state = found[0].clone()
    new_state.options["db_table"] = op.table
    new_table = facts.table_name(new_state, ctx.connection)
    if new_table == found[1]:
        return []
    return [
        Violation(
            "ZDT104",
            f"AlterModelTable {_where(ctx, found[0].name)}: renames the "
            f'table "{found[1]}" to "{new_table}" under the live version.',
            hints.rename_table(found[0].name, found[1]),
        )
    ]
