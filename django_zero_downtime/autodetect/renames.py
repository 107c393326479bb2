"""``makemigrations``' column renames: deployable as an expand/contract pair, or refused.

Django's autodetector writes a rename of a field named in ``Meta.constraints`` or
``Meta.indexes`` as ``RemoveConstraint``/``RemoveIndex`` + ``RenameField`` +
``AddConstraint``/``AddIndex``: the expand release would remove what the previous release
relies on (and the checker refuses it: ZDT110, ZDT112). ``DualWriteRename`` itself builds
those objects on the new column and follows the rename in its state, so :func:`fold`
takes out each Remove/Add pair it carries (and ``AlterUniqueTogether`` no-ops): the
expand release keeps everything of the old column, the contract
(``CompleteDualWriteRename``) drops it with the old column.

A primary key cannot be dual-written (every foreign key and every query of the previous
release uses its column): :func:`refuse_primary_key` stops ``makemigrations`` with the
path to take.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.core.management.base import CommandError
from django.db import migrations
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

REMOVES: dict[type, str] = {
    migrations.RemoveConstraint: "constraints",
    migrations.RemoveIndex: "indexes",
    RemoveIndexConcurrently: "indexes",
}
ADDS: dict[type, tuple[str, str]] = {
    migrations.AddConstraint: ("constraints", "constraint"),
    migrations.AddIndex: ("indexes", "index"),
    AddIndexConcurrently: ("indexes", "index"),
}
TOGETHER: dict[type, str] = {migrations.AlterUniqueTogether: "unique_together"}


class RenameRefused(CommandError):
    """A rename ``makemigrations`` cannot write as a zero-downtime migration."""


def refuse_primary_key(
    app_label: str, operation: Any, field: Any, columns: tuple[str, str]
) -> None:
    """Stop on a ``RenameField`` of a primary key whose column would change."""
    if not getattr(field, "primary_key", False):
        return
    old, new = columns
    model = f"{app_label}.{operation.model_name}"
    raise RenameRefused(
        f"Renaming the primary key {model}.{operation.old_name} to {operation.new_name} would "
        f"rename its column {old!r} to {new!r}. A primary key cannot be dual-written: other "
        "tables' foreign keys and the previous release's queries use the column. Keep the "
        f"column and rename only the field: declare it with db_column={old!r}, e.g. "
        f"`{operation.new_name} = models.BigAutoField(primary_key=True, db_column={old!r})`; "
        "makemigrations then writes a RenameField that changes no SQL."
    )


def fold(app_label: str, operations: list[Operation], start: ProjectState) -> list[Operation]:
    """``operations`` without the Remove/Add pairs (and no-op together changes) that the
    migration's DualWriteRenames carry over by themselves. ``start``: the state before."""
    from django_zero_downtime.operations import DualWriteRename

    renames = [op for op in operations if isinstance(op, DualWriteRename)]
    if not renames:
        return operations
    carried = start.clone()
    for rename in renames:
        rename.state_forwards(app_label, carried)
    drop: set[int] = set()
    for rename in renames:
        drop |= _carried_pairs(operations, rename.model_name.lower(), start, carried, app_label)
    return [op for i, op in enumerate(operations) if i not in drop]


def _carried_pairs(
    operations: list[Operation], model: str, start: ProjectState, carried: ProjectState, app: str
) -> set[int]:
    """Indexes of operations on ``model`` that the renames already carry."""
    before = start.models[app, model].options
    after = carried.models[app, model].options
    found: set[int] = set()
    for option in ("constraints", "indexes"):
        pairs = _pairs(before.get(option) or [], after.get(option) or [])
        found |= _matching(operations, model, option, pairs)
    for i, op in enumerate(operations):
        together = TOGETHER.get(type(op))
        if (
            together
            and _model(op) == model
            and _together(op, together) == _normal(after.get(together))
        ):
            found.add(i)
    return found


def _pairs(before: list[Any], after: list[Any]) -> dict[str, Any]:
    """Old name -> carried object, for objects the rename changed (same positions)."""
    return {
        old.name: new
        for old, new in zip(before, after, strict=False)
        if old.deconstruct() != new.deconstruct()
    }


def _matching(
    operations: list[Operation], model: str, option: str, pairs: dict[str, Any]
) -> set[int]:
    removes = {
        _name(op): i
        for i, op in enumerate(operations)
        if REMOVES.get(type(op)) == option and _model(op) == model
    }
    found: set[int] = set()
    for i, op in enumerate(operations):
        add = ADDS.get(type(op))
        if not add or add[0] != option or _model(op) != model:
            continue
        added = getattr(op, add[1])
        for old_name, carried in pairs.items():
            if old_name in removes and carried.deconstruct() == added.deconstruct():
                found |= {i, removes[old_name]}
    return found


def _model(op: Any) -> str:
    return str(getattr(op, "model_name", None) or getattr(op, "name", "")).lower()


def _name(op: Any) -> str:
    return str(op.name)


def _together(op: Any, option: str) -> set[tuple[str, ...]]:
    return _normal(getattr(op, option))


def _normal(value: Any) -> set[tuple[str, ...]]:
    return {tuple(item) for item in value or ()}
