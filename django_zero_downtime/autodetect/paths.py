"""Zero-downtime paths for the edits Django would apply with a long lock or a rewrite.

:func:`safe_path` turns one operation the autodetector wrote, on a table that already
exists, into the operations of its safe path (or None: not an edit this module handles).
The decisions are pure functions of the project state before the operation. A
``db_column`` change becomes ``DualWriteColumnRename`` + a contract
``CompleteDualWriteColumnRename`` (:func:`column_path`).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models
from django.db.migrations.operations.base import Operation
from django.db.models import NOT_PROVIDED
from django.db.models.expressions import Value
from django.db.models.functions import Now

from django_zero_downtime.lint import facts
from django_zero_downtime.lint.context import OperationContext
from django_zero_downtime.sql.types import type_change


def _zdt() -> Any:
    from django_zero_downtime import operations

    return operations


def safe_path(ctx: OperationContext) -> list[Operation] | None:
    """The safe operations for ``ctx.operation``, or None when it is not handled here."""
    op: Any = ctx.operation
    if type(op) is migrations.RenameModel and ctx.existing_table(op.old_name):
        return [_zdt().RenameModelWithView(op.old_name, op.new_name)]
    if type(op) is migrations.DeleteModel and ctx.existing_table(op.name):
        return [_zdt().DeprecateTable(op.name)]  # renamed, with a view for the old release
    if not hasattr(op, "model_name") or not ctx.existing_table(op.model_name):
        return None
    kind = type(op)
    if kind is migrations.AddIndex:
        return [_zdt().AddIndexInSteps(op.model_name, op.index)]
    if kind is migrations.AddConstraint and isinstance(op.constraint, models.CheckConstraint):
        return declare_then_enforce(op, _zdt().EnforceConstraint(op.model_name, op.constraint.name))
    if kind is migrations.AddConstraint and isinstance(op.constraint, models.UniqueConstraint):
        return [_zdt().AddConstraintInSteps(op.model_name, op.constraint)]
    if kind is migrations.AddField and add_needs_steps(op.field, op.preserve_default):
        return [_zdt().AddFieldInSteps(op.model_name, op.name, op.field)]
    if kind is migrations.AlterField:
        return _alter_path(ctx)
    return None


def declare_then_enforce(op: Any, contract: Operation) -> list[Operation]:
    """The state change now (expand), the database change in a contract migration: for
    what rejects rows the previous release may still write (NOT NULL, CHECK)."""
    return [_zdt().DeclareModelChange([op]), contract]


def volatile_db_default(field: Any) -> bool:
    """A ``db_default`` that is not a constant or ``Now()`` may be volatile (it would rewrite
    the table as ``ADD COLUMN .. DEFAULT``); treated as volatile, which is always safe."""
    if field.db_default is NOT_PROVIDED:
        return False
    return not isinstance(field.db_default, Value | Now) and not _is_literal(field.db_default)


def _is_literal(value: Any) -> bool:
    return isinstance(value, str | int | float | bool | bytes) or value is None


def add_needs_steps(field: Any, preserve_default: bool) -> bool:
    """Does adding ``field`` to a live table need :class:`AddFieldInSteps`?"""
    from django_zero_downtime.operations.fields import fill_problem

    if field.many_to_many or field.generated or not preserve_default:
        return False
    if fill_problem(field) is not None:
        return False
    relation = field.remote_field is not None and getattr(field, "db_constraint", False)
    indexed = field.unique or field.db_index
    callable_default = field.has_default() and callable(field.default) and not field.null
    return bool(relation or indexed or callable_default or volatile_db_default(field))


STEP_CHANGES = ("null", "unique", "indexed")


def _alter_path(ctx: OperationContext) -> list[Operation] | None:
    op: Any = ctx.operation
    found = ctx.existing_table(op.model_name)
    old_field = found[0].fields.get(op.name) if found else None
    if old_field is None or old_field.many_to_many:
        return None
    old = facts.column_facts(op.name, old_field, ctx.state, ctx.app_label, ctx.connection)
    new = facts.column_facts(op.name, op.field, ctx.state, ctx.app_label, ctx.connection)
    if not op.preserve_default:
        return one_off_path(op, old, new)
    if old.column != new.column:
        return column_path(op, old, new)
    if old.type != new.type and type_change(old.type, new.type).rewrites:
        return retype_path(ctx, old, new)
    if not alter_needs_steps(old, new):
        return None
    if old.null and not new.null:
        return declare_then_enforce(op, _zdt().EnforceField(op.model_name, op.name))
    return [_zdt().AlterFieldInSteps(op.model_name, op.name, op.field)]


def one_off_path(op: Any, old: facts.ColumnFacts, new: facts.ColumnFacts) -> list[Operation] | None:
    """NOT NULL with the one-off default makemigrations asked for (``preserve_default=False``):
    the state change now, ``EnforceField`` filling NULLs with that default later; the final
    state (and database) has no default."""
    if not (old.null and not new.null and alter_needs_steps(old, new)):
        return None
    enforce = _zdt().EnforceField(op.model_name, op.name, default=op.field.default)
    return declare_then_enforce(op, enforce)


MOVED_AS_IS = ("type", "primary_key", "fk_target", "fk_constraint", "unique", "indexed")


def column_path(op: Any, old: facts.ColumnFacts, new: facts.ColumnFacts) -> list[Operation] | None:
    """A ``db_column`` change: the dual-write rename at the column level (expand), its
    completion in a contract migration. Only when nothing but the column (and NOT NULL)
    changes, and not for a primary key; anything else stays Django's ``AlterField``."""
    if old.primary_key or old.column is None or new.column is None:
        return None
    if any(getattr(old, name) != getattr(new, name) for name in MOVED_AS_IS):
        return None
    zdt = _zdt()
    return [
        zdt.DualWriteColumnRename(op.model_name, op.name, op.field, old.column),
        zdt.CompleteDualWriteColumnRename(op.model_name, op.name, old.column),
    ]


def alter_needs_steps(old: facts.ColumnFacts, new: facts.ColumnFacts) -> bool:
    """True when the change adds NOT NULL, unique or an index and nothing the steps do not
    cover (a type, column, foreign key or primary key change)."""
    same = ("column", "type", "primary_key", "fk_target", "fk_constraint")
    if any(getattr(old, name) != getattr(new, name) for name in same):
        return False
    adds = (old.null and not new.null) or (new.unique and not old.unique)
    return adds or (new.indexed and not old.indexed and not new.unique)


def retype_path(
    ctx: OperationContext, old: facts.ColumnFacts, new: facts.ColumnFacts
) -> list[Operation] | None:
    """Type changes that rewrite: the shadow-column path of :mod:`.retype`."""
    from django_zero_downtime.autodetect import retype

    return retype.retype_path(ctx, old, new)
