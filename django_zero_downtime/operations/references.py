"""Rename a field inside a model state's ``Meta.indexes`` and ``Meta.constraints``.

Django's ``ProjectState.rename_field`` follows a rename into ``unique_together``,
``index_together`` and foreign keys' ``to_fields``, but not into ``Meta.indexes`` or
``Meta.constraints``. A dual-write rename rebuilds those objects on the new column itself
(:mod:`.twins`), so its state must name the new field there too: then the model state and
the database agree, and ``makemigrations`` writes no Remove/Add pair that would drop what the
previous release relies on. An index whose name Django generated from its fields gets the
name Django generates for the renamed fields.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

from django.db.models import F, Index, Q
from django.db.models.expressions import BaseExpression, Value


def renamed_lookup(key: str, old: str, new: str) -> str:
    """``old`` / ``old__lookup`` / ``-old`` with the field part renamed; else unchanged."""
    sign = "-" if key.startswith("-") else ""
    head, sep, rest = key.lstrip("-").partition("__")
    return f"{sign}{new}{sep}{rest}" if head == old else key


def renamed_expression(value: Any, old: str, new: str) -> Any:
    """``value`` (a Q, F, expression, field name or list of them) naming ``new`` for ``old``."""
    if isinstance(value, Q):
        where = copy.copy(value)
        where.children = [_renamed_child(child, old, new) for child in value.children]
        return where
    if isinstance(value, F):
        return F(renamed_lookup(str(value.name), old, new))  # type: ignore[attr-defined]
    if isinstance(value, Value):  # a literal, even one equal to the field's name
        return value
    if isinstance(value, BaseExpression):
        # Rebuilt from its constructor arguments: an expression's equality (and so the
        # autodetector's comparison) goes by them, not by its source expressions.
        args, kwargs = value._constructor_args  # type: ignore[attr-defined]
        renamed_kwargs = {k: renamed_expression(v, old, new) for k, v in kwargs.items()}
        return type(value)(*renamed_expression(list(args), old, new), **renamed_kwargs)
    if isinstance(value, str):
        return renamed_lookup(value, old, new)
    if isinstance(value, (list, tuple)):
        return type(value)(renamed_expression(v, old, new) for v in value)
    return value


def _renamed_child(child: Any, old: str, new: str) -> Any:
    if isinstance(child, tuple) and len(child) == 2:
        value = child[1]  # a literal stays as it is, even one equal to the field's name
        value = value if isinstance(value, str) else renamed_expression(value, old, new)
        return (renamed_lookup(child[0], old, new), value)
    return renamed_expression(child, old, new)


RENAMED_KWARGS = ("fields", "include", "condition", "check")


def renamed_object(obj: Any, old: str, new: str) -> Any:
    """A copy of an index or constraint with the field renamed (itself when not named)."""
    _path, args, kwargs = obj.deconstruct()
    new_args = [renamed_expression(a, old, new) for a in args]
    new_kwargs = {
        k: (renamed_expression(v, old, new) if k in RENAMED_KWARGS else v)
        for k, v in kwargs.items()
    }
    if repr((new_args, new_kwargs)) == repr((list(args), kwargs)):
        return obj
    return type(obj)(*new_args, **new_kwargs)


class _Stand:
    """Enough of a model for ``Index.set_name_with_model``: table and field columns."""

    def __init__(self, table: str, columns: dict[str, str]) -> None:
        get = columns.__getitem__
        self._meta = SimpleNamespace(
            db_table=table, get_field=lambda name: SimpleNamespace(column=get(name))
        )


def columns_of(model_state: Any) -> dict[str, str]:
    out = {}
    for name, field in model_state.fields.items():
        bound = copy.copy(field)
        bound.name = None
        bound.set_attributes_from_name(name)
        out[name] = str(bound.column)
    return out


def auto_name(index: Index, table: str, columns: dict[str, str]) -> str | None:
    """The name Django would generate for ``index`` (only plain field indexes have one)."""
    if not index.fields or index.expressions:
        return None
    probe = copy.copy(index)
    try:
        probe.set_name_with_model(_Stand(table, columns))  # type: ignore[arg-type]
    except (KeyError, ValueError):
        return None
    return str(probe.name)


def rename_in_options(model_state: Any, table: str, old: str, new: str) -> None:
    """Rename field ``old`` to ``new`` in the state's ``Meta.indexes`` and ``constraints``
    (call after the field itself is renamed in ``model_state.fields``)."""
    after = columns_of(model_state)
    before = {old if name == new else name: column for name, column in after.items()}
    before[old] = _old_column(model_state, old, new)
    for option in ("indexes", "constraints"):
        items = model_state.options.get(option) or []
        model_state.options[option] = [
            _renamed_item(item, old, new, table, before, after) for item in items
        ]


def _old_column(model_state: Any, old: str, new: str) -> str:
    field = copy.copy(model_state.fields[new])
    field.name = None
    field.set_attributes_from_name(old)
    return str(field.column)


def _renamed_item(item: Any, old: str, new: str, table: str, before: dict, after: dict) -> Any:
    result = renamed_object(item, old, new)
    if result is item or not isinstance(item, Index):
        return result
    if auto_name(item, table, before) == item.name:
        result.name = auto_name(result, table, after) or item.name
    return result


def unshare_referencing_fields(state: Any, old: str) -> None:
    """Give each model state its own copy of a relation field that names field ``old``
    (``to_field``) before ``ProjectState.rename_field`` rewrites it in place.

    A cloned state shares field objects with the state it came from; Django's rename
    mutates ``to_fields`` / ``remote_field.field_name`` of the referencing fields, which would
    also change the earlier state (the previous release's models, as the blue/green check
    renders them) into pointing at a field that does not exist there yet.
    """
    for model_state in state.models.values():
        for name, field in list(model_state.fields.items()):
            remote = getattr(field, "remote_field", None)
            named = getattr(remote, "field_name", None) == old or old in (
                getattr(field, "to_fields", None) or ()
            )
            if remote is not None and named:
                model_state.fields[name] = field.clone()
