"""Transaction and data-migration rules (ZDT3xx): what shares one migration's transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres import operations as pg_ops
from django.db import migrations

from django_zero_downtime import traits
from django_zero_downtime.findings.catalogue import Violation
from django_zero_downtime.lint.context import OperationContext, is_safe_operation
from django_zero_downtime.lint.rules import hints

_MODEL_LEVEL = (
    migrations.DeleteModel,
    migrations.RenameModel,
    migrations.AlterModelTable,
    migrations.AlterUniqueTogether,
    migrations.AlterIndexTogether,
)
INDEX_OPERATIONS = (
    migrations.AddIndex,
    migrations.RemoveIndex,
    migrations.RenameIndex,
    migrations.AlterIndexTogether,
)
"""Operations that run CREATE/DROP/ALTER INDEX rather than ALTER TABLE."""
_FIELD_OR_INDEX = (
    migrations.AddField,
    migrations.RemoveField,
    migrations.RenameField,
    migrations.AddIndex,
    migrations.RemoveIndex,
    migrations.RenameIndex,
    migrations.AddConstraint,
    migrations.RemoveConstraint,
)


def schema_table(ctx: OperationContext) -> str | None:
    """The pre-existing table this operation changes in the database, if any."""
    op: Any = ctx.operation
    if isinstance(op, migrations.AlterField):
        return _altered_table(ctx)
    if isinstance(op, _MODEL_LEVEL):
        found = ctx.existing_table(op.name)
    elif isinstance(op, _FIELD_OR_INDEX) or (is_safe_operation(op) and hasattr(op, "model_name")):
        found = ctx.existing_table(op.model_name)
    else:
        return None
    return found[1] if found else None


def _altered_table(ctx: OperationContext) -> str | None:
    op: Any = ctx.operation
    found = ctx.existing_table(op.model_name)
    old_field = found[0].fields.get(op.name) if found else None
    if found is None or old_field is None:
        return None
    old, new = ctx.column_facts(op.name, old_field), ctx.column_facts(op.name, op.field)
    return found[1] if old != new else None


@dataclass
class TransactionTracker:
    """Watches one migration's operations; reports ZDT301-ZDT304."""

    atomic: bool
    data_ops: list[tuple[int, str]] = field(default_factory=list)
    schema_ops: list[tuple[int, str, str]] = field(default_factory=list)
    not_valid: set[tuple[str, str]] = field(default_factory=set)

    def observe(self, index: int, ctx: OperationContext, table: str | None) -> list[Violation]:
        """Judge an operation before the state moves past it (``table``: see schema_table)."""
        op: Any = ctx.operation
        name = type(op).__name__
        if isinstance(op, migrations.RunPython):
            self.data_ops.append((index, name))
        if table:
            self.schema_ops.append((index, name, table))
        return self._immediate(ctx) if self.atomic else []

    def observe_sql(self, index: int, name: str, has_dml: bool, ddl_table: str | None) -> None:
        """Record what an operation's SQL does (rows written, existing table changed)."""
        if has_dml:
            self.data_ops.append((index, name))
        if ddl_table:
            self.schema_ops.append((index, name, ddl_table))

    def _immediate(self, ctx: OperationContext) -> list[Violation]:
        op: Any = ctx.operation
        name = type(op).__name__
        if isinstance(op, pg_ops.AddIndexConcurrently | pg_ops.RemoveIndexConcurrently):
            return [
                Violation(
                    "ZDT302",
                    f"{name} cannot run inside the migration's transaction; "
                    "PostgreSQL refuses CONCURRENTLY in a transaction block.",
                    hints.non_atomic(name),
                )
            ]
        if traits.requires_non_atomic(op):
            return [
                Violation(
                    "ZDT303",
                    f"{name} commits its steps in short transactions of its own; in an atomic "
                    "migration it is refused (and a backfill would hold its row locks to the end).",
                    hints.non_atomic(name),
                )
            ]
        if isinstance(op, pg_ops.AddConstraintNotValid):
            self.not_valid.add((op.model_name_lower, op.constraint.name))
        if isinstance(op, pg_ops.ValidateConstraint) and (
            (op.model_name.lower(), op.name) in self.not_valid
        ):
            return [
                Violation(
                    "ZDT304",
                    f"ValidateConstraint {op.name} runs in the transaction that"
                    " added it NOT VALID, so the scan happens under that lock.",
                    hints.non_atomic(f'ValidateConstraint("{op.model_name}", "{op.name}")'),
                )
            ]
        return []

    def finish(self) -> list[tuple[int, Violation]]:
        """ZDT301, once per migration, at its first data operation."""
        if not (self.atomic and self.data_ops and self.schema_ops):
            return []
        index, name = self.data_ops[0]
        schema_index, schema_name, table = self.schema_ops[0]
        return [
            (
                index,
                Violation(
                    "ZDT301",
                    f"{name} (operation {index}) runs in one transaction with {schema_name} on "
                    f'"{table}" (operation {schema_index}): the locks of the schema change are '
                    "held until the data migration commits.",
                    f"Move {name} into its own migration with atomic = False (for large tables, "
                    "zdt.BatchedBackfill), after the schema migration.",
                ),
            )
        ]
