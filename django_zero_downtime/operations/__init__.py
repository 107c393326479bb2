"""Public migration operations. This import path is frozen API: migration files name it.

Each class's ``__module__`` is ``django_zero_downtime.operations``, so the migration writer
emits ``import django_zero_downtime.operations`` and
``django_zero_downtime.operations.AddColumnWithDefault(...)`` whatever submodule defines it.
"""

from django_zero_downtime.operations.backfill import BatchedBackfill
from django_zero_downtime.operations.columnrename import (
    CompleteDualWriteColumnRename,
    DualWriteColumnRename,
)
from django_zero_downtime.operations.columns import (
    AddColumnWithDefault,
    DeprecateColumn,
    DropDeprecatedColumn,
)
from django_zero_downtime.operations.combined import CombinedAlterTable
from django_zero_downtime.operations.constraints import AddConstraintInSteps, AddIndexInSteps
from django_zero_downtime.operations.fields import AddFieldInSteps, AlterFieldInSteps
from django_zero_downtime.operations.modelrename import RenameModelWithView
from django_zero_downtime.operations.phased import (
    DeclareModelChange,
    EnforceConstraint,
    EnforceField,
)
from django_zero_downtime.operations.rename import CompleteDualWriteRename, DualWriteRename
from django_zero_downtime.operations.retype import CompleteRetypeField, RetypeField
from django_zero_downtime.operations.tables import DeprecateTable, DropDeprecatedTable

__all__ = [
    "AddColumnWithDefault",
    "AddConstraintInSteps",
    "AddFieldInSteps",
    "AddIndexInSteps",
    "AlterFieldInSteps",
    "BatchedBackfill",
    "CombinedAlterTable",
    "CompleteDualWriteColumnRename",
    "CompleteDualWriteRename",
    "CompleteRetypeField",
    "DeclareModelChange",
    "DeprecateColumn",
    "DeprecateTable",
    "DropDeprecatedColumn",
    "DropDeprecatedTable",
    "DualWriteColumnRename",
    "DualWriteRename",
    "EnforceConstraint",
    "EnforceField",
    "RenameModelWithView",
    "RetypeField",
]
