"""A removed and an added field of the same kind on one model: most likely a rename.

Interactive ``makemigrations`` asks ("Was item.a renamed to item.b?"); with ``--noinput``
Django cannot ask and writes RemoveField + AddField, which on a live table means
``DeprecateColumn`` + an empty new column: the data stays behind in the old one. So under
``--noinput`` makemigrations refuses and says how to answer instead.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations
from django.db.migrations.state import ProjectState

from django_zero_downtime.lint import facts


def _kind(field: Any) -> tuple[Any, ...]:
    _, path, args, kwargs = field.deconstruct()
    kwargs = {k: v for k, v in kwargs.items() if k != "db_column"}
    return path, tuple(args), sorted(kwargs.items(), key=lambda item: item[0])


def likely_renames(changes: dict[str, list[Any]], from_state: ProjectState) -> list[str]:
    """``app.model: old -> new`` for every removed/added pair of the same kind (pure)."""
    found = []
    for app_label, app_migrations in changes.items():
        ops = [op for migration in app_migrations for op in migration.operations]
        removed = [op for op in ops if type(op) is migrations.RemoveField]
        added = [op for op in ops if type(op) is migrations.AddField]
        for gone in removed:
            model_state = facts.get_model_state(from_state, app_label, gone.model_name)
            old = model_state.fields.get(gone.name) if model_state else None
            if old is None or old.many_to_many:
                continue
            for new in added:
                same_model = new.model_name_lower == gone.model_name_lower
                if same_model and _kind(new.field) == _kind(old):
                    found.append(f"{app_label}.{gone.model_name}: {gone.name} -> {new.name}")
    return found


def rename_flag(pair: str) -> str:
    """``shop.item: qty -> quantity`` -> ``--rename shop.item.qty:quantity`` (pure)."""
    model, names = pair.split(": ", 1)
    old, new = names.split(" -> ", 1)
    return f"--rename {model}.{old}:{new}"


def refusal(found: list[str]) -> str:
    pairs = "; ".join(found)
    flags = " ".join(rename_flag(pair) for pair in found)
    return (
        f"makemigrations --noinput: a field was removed and another of the same kind added "
        f"({pairs}). That is most likely a rename, which it cannot ask about without input; "
        "written as a removal plus an addition, the data would stay in the old column. "
        "Answer it: run makemigrations without --noinput and say yes to the rename "
        f"question, or keep --noinput and add {flags} (it becomes DualWriteRename); if it "
        "really is a removal and an addition, make them in two separate makemigrations runs."
    )
