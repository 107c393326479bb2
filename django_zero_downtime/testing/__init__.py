"""Testing migrations: the :class:`Migrator` and the pytest plugin's helpers.

``from django_zero_downtime.testing import Migrator`` is public API (docs/testing.md).
"""

from django_zero_downtime.testing.migrator import (
    Migrator,
    OldCodeBroken,
    boundary_value,
    exercise_model,
    exercise_models,
)
from django_zero_downtime.testing.snapshots import (
    drop_gate_open,
    ledger_snapshot,
    restore_ledger,
    schema_snapshot,
)

__all__ = [
    "Migrator",
    "OldCodeBroken",
    "boundary_value",
    "drop_gate_open",
    "exercise_model",
    "exercise_models",
    "ledger_snapshot",
    "restore_ledger",
    "schema_snapshot",
]
