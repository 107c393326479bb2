"""Contract steps go into their own migration, marked ``zero_downtime_phase = "contract"``.

A safe path may end with operations that must wait for a later release (they say
``zero_downtime_phase = "contract"``). They are moved out of the migrations the
autodetector wrote into one contract migration at the end of the app's new migrations,
depending on the last of them; ``safemigrate`` applies it only in a later run (see
``runner/phases.py``). Their state changes were made by the expand migration already.
"""

from __future__ import annotations

from typing import Any

from django.db.migrations.migration import Migration
from django.db.migrations.operations.base import Operation

PHASE = "zero_downtime_phase"
CONTRACT = "contract"


def is_contract_operation(operation: Operation) -> bool:
    return getattr(operation, PHASE, None) == CONTRACT


def is_contract_migration(migration: Any) -> bool:
    return getattr(migration, PHASE, None) == CONTRACT


def split_contracts(app_label: str, migrations: list[Migration]) -> list[Migration]:
    """``migrations`` without their contract operations, plus one contract migration."""
    moved: list[Operation] = []
    for migration in migrations:
        operations = list(migration.operations)
        moved += [op for op in operations if is_contract_operation(op)]
        migration.operations = [op for op in operations if not is_contract_operation(op)]  # type: ignore[misc]
    if not moved or not migrations:
        return migrations
    last = migrations[-1]
    contract = type(last)(f"{last.name}_contract", app_label)
    contract.operations = moved  # type: ignore[misc]
    # The last part of a migration split by atomicity keeps its name (autodetector.py).
    contract.dependencies = [(app_label, last.name)]  # type: ignore[misc]
    contract.atomic = False  # type: ignore[misc]
    setattr(contract, PHASE, CONTRACT)
    return [*migrations, contract]


MARK = f'    {PHASE} = "{CONTRACT}"\n'


def mark_contract(path: str) -> None:
    """Add ``zero_downtime_phase = "contract"`` to a written migration (the writer has no
    such option), after ``atomic = False`` when it is there."""
    with open(path, encoding="utf-8") as source:
        text = source.read()
    head = "class Migration(migrations.Migration):\n"
    if MARK in text or head not in text:
        return
    anchor = head + "\n    atomic = False\n" if head + "\n    atomic = False\n" in text else head
    with open(path, "w", encoding="utf-8") as target:
        target.write(text.replace(anchor, anchor + ("" if anchor != head else "\n") + MARK, 1))


def contract_note(migration: Any, relative_path: str) -> str:
    """What makemigrations says about a contract migration it wrote."""
    parents = ", ".join(name for app, name in migration.dependencies if app == migration.app_label)
    return (
        f'  {relative_path}: contract migration (zero_downtime_phase = "contract"). '
        f"safemigrate applies it in a later release's run than the one that applies "
        f"{parents}, when the previous release no longer serves."
    )
