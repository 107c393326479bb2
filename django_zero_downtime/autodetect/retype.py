"""makemigrations' path for column type changes that rewrite the table: a shadow column.

``AlterField`` that changes the column's type in a way PostgreSQL rewrites (integer to
bigint, ``AutoField`` to ``BigAutoField`` on a referenced primary key, varchar shrink,
text to varchar(n), numeric scale) becomes:

- expand: ``DeclareModelChange([AlterField])`` + ``RetypeField`` (shadow column, trigger,
  backfill, indexes; also for the foreign key columns that reference a primary key);
- contract: ``CompleteRetypeField`` (the swap under one brief lock).

Only types with a plain cast between them are handled; anything else is left to Django's
``AlterField``, which the checker reports (ZDT105).
"""

from __future__ import annotations

from typing import Any

from django.db.migrations.operations.base import Operation

from django_zero_downtime.lint import facts
from django_zero_downtime.lint.context import OperationContext
from django_zero_downtime.sql.types import same_family

__all__ = ["retype_path", "same_family"]


def retype_path(
    ctx: OperationContext, old: facts.ColumnFacts, new: facts.ColumnFacts
) -> list[Operation] | None:
    op: Any = ctx.operation
    if old.column != new.column or old.fk_target or new.fk_target:
        return None
    if not same_family(old.type, new.type):
        return None
    from django_zero_downtime import operations as zdt

    return [
        zdt.DeclareModelChange([op]),
        zdt.RetypeField(op.model_name, op.name),
        zdt.CompleteRetypeField(op.model_name, op.name),
    ]
