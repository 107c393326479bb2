"""Our operations on a database that is not PostgreSQL (a project's SQLite test runs).

Triggers, batches, ``ADD COLUMN ... DEFAULT`` without a rewrite and the ledger are
PostgreSQL tools; elsewhere there is no live traffic to protect. So on any other database
each operation does what the plain Django operation it stands for does (add the column,
rename it, remove it; a backfill is one UPDATE), and one line per database says so.
:class:`~django_zero_downtime.operations.base.ZdtOperation` routes every subclass's
``database_forwards``/``database_backwards`` through :func:`portable`, so a new operation
only needs its entry in :data:`PLAIN`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db.migrations import operations as django_ops
from django.db.migrations.operations.base import Operation

from django_zero_downtime.exceptions import ZeroDowntimeError

Method = Callable[..., None]

PLAIN: dict[str, Callable[[Any], list[Operation]]] = {
    "AddColumnWithDefault": lambda op: [django_ops.AddField(op.model_name, op.name, op.field)],
    "DeprecateColumn": lambda op: [django_ops.RemoveField(op.model_name, op.name)],
    "DropDeprecatedColumn": lambda op: [],  # DeprecateColumn removed the column already
    "DualWriteRename": lambda op: [django_ops.RenameField(op.model_name, op.old_name, op.new_name)],
    "CompleteDualWriteRename": lambda op: [],  # DualWriteRename renamed it already
    "DeprecateTable": lambda op: [django_ops.DeleteModel(op.name)],
    "DropDeprecatedTable": lambda op: [],  # DeprecateTable removed the table already
}
"""Per operation class, the plain Django operations it stands for elsewhere."""

_told: set[str] = set()


def is_postgresql(schema_editor: Any) -> bool:
    return bool(schema_editor.connection.vendor == "postgresql")


def portable(method: Method, backwards: bool) -> Method:
    """``method`` on PostgreSQL; the plain Django equivalent of the operation elsewhere."""

    @wraps(method)
    def run(self: Any, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if is_postgresql(schema_editor):
            return method(self, app_label, schema_editor, from_state, to_state)
        _tell(schema_editor.connection)
        for plain in plain_operations(self):
            run_plain = plain.database_backwards if backwards else plain.database_forwards
            run_plain(app_label, schema_editor, from_state, to_state)
        if not backwards and type(self).__name__ == "BatchedBackfill":
            update_all(self, app_label, schema_editor, to_state)
        return None

    return run


def plain_operations(op: Any) -> list[Operation]:
    name = type(op).__name__
    if name == "BatchedBackfill":
        return []
    if name not in PLAIN:
        raise ZeroDowntimeError(
            f"{name} runs on PostgreSQL only and has no plain equivalent for other databases."
        )
    return PLAIN[name](op)


def update_all(op: Any, app_label: str, schema_editor: Any, state: Any) -> None:
    """A backfill without batches: one UPDATE of every matching row."""
    model = state.apps.get_model(app_label, op.model_name)
    if not op.allow_migrate_model(schema_editor.connection.alias, model):
        return
    rows = model._base_manager.db_manager(schema_editor.connection.alias).all()
    rows = rows if op.where is None else rows.filter(op.where)
    rows.update(**op.values)


def _tell(connection: Any) -> None:
    if connection.alias in _told:
        return
    _told.add(connection.alias)
    sys.stderr.write(
        f"django-zero-downtime: database {connection.alias!r} is {connection.vendor}, not "
        "PostgreSQL: its operations run as the plain Django operations they stand for "
        "(no triggers, no batches, no deploy-cycle ledger).\n"
    )
