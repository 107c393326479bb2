"""makemigrations' path for column type changes that rewrite the table: a shadow column."""

from __future__ import annotations

from django.db.migrations.operations.base import Operation

from django_zero_downtime.lint import facts
from django_zero_downtime.lint.context import OperationContext


def retype_path(
    ctx: OperationContext, old: facts.ColumnFacts, new: facts.ColumnFacts
) -> list[Operation] | None:
    return None
