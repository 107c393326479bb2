"""Public migration operations. This import path is frozen API: migration files name it.

Each class's ``__module__`` is ``django_zero_downtime.operations``, so the migration writer
emits ``import django_zero_downtime.operations`` and
``django_zero_downtime.operations.AddColumnWithDefault(...)`` whatever submodule defines it.
"""

from django_zero_downtime.operations.backfill import BatchedBackfill
from django_zero_downtime.operations.columns import (
    AddColumnWithDefault,
    DeprecateColumn,
    DropDeprecatedColumn,
)
from django_zero_downtime.operations.rename import CompleteDualWriteRename, DualWriteRename
from django_zero_downtime.operations.tables import DeprecateTable, DropDeprecatedTable

__all__ = [
    "AddColumnWithDefault",
    "BatchedBackfill",
    "CompleteDualWriteRename",
    "DeprecateColumn",
    "DeprecateTable",
    "DropDeprecatedColumn",
    "DropDeprecatedTable",
    "DualWriteRename",
]
