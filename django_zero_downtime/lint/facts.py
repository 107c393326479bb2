"""Database facts about model states and fields, read from a ``ProjectState`` alone.

Operation rules compare the facts of a field before and after an operation (its column,
type, NULL-ness, index, foreign key), so only real changes are flagged. Nothing here
renders models or opens a database connection: the connection object is only asked for
type names and the identifier length limit.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import truncate_name
from django.db.migrations.state import ModelState, ProjectState
from django.db.models import NOT_PROVIDED


@dataclass(frozen=True)
class ColumnFacts:
    """What the database sees of one field (``column`` is None for many-to-many)."""

    column: str | None
    type: str | None
    null: bool
    unique: bool
    indexed: bool
    primary_key: bool
    fk_target: str | None
    """``"app.model"`` the foreign key points to."""
    fk_target_column: str | None
    fk_constraint: bool
    db_default: bool


def model_key(reference: str, app_label: str) -> tuple[str, str]:
    """``("app", "model")`` for a relation target written ``"app.Model"`` or ``"Model"``."""
    if "." in reference:
        app, model = reference.split(".", 1)
        return app, model.lower()
    return app_label, reference.lower()


def get_model_state(state: ProjectState, app_label: str, name: str) -> ModelState | None:
    return state.models.get((app_label, name.lower()))


def has_table(model_state: ModelState) -> bool:
    """Managed, concrete models have a table; proxies and unmanaged models have none."""
    options = model_state.options
    return options.get("managed", True) and not options.get("proxy", False)


def table_name(model_state: ModelState, connection: BaseDatabaseWrapper) -> str:
    explicit = model_state.options.get("db_table")
    if explicit:
        return str(explicit)
    default = f"{model_state.app_label}_{model_state.name_lower}"
    return truncate_name(default, connection.ops.max_name_length())


def through_table_name(
    model_state: ModelState, name: str, field: Any, connection: BaseDatabaseWrapper
) -> str | None:
    """The auto-created join table of a many-to-many field (None for an explicit one)."""
    if getattr(field.remote_field, "through", None):
        return None  # an explicit through model: its own CreateModel makes the table
    if getattr(field, "db_table", None):
        return str(field.db_table)
    base = f"{table_name(model_state, connection)}_{name}"
    return truncate_name(base, connection.ops.max_name_length())


def bound(name: str, field: Any) -> Any:
    """A copy of a state field with its name set, so ``column``/``attname`` are known."""
    bound_field = copy.copy(field)
    bound_field.name = None  # set_attributes_from_name keeps a name already set
    bound_field.set_attributes_from_name(name)
    return bound_field


def column_type(
    field: Any, state: ProjectState, app_label: str, connection: BaseDatabaseWrapper
) -> str | None:
    """The column's SQL type, following a foreign key to its target; None when unknown."""
    try:
        if field.many_to_one or field.one_to_one:
            target = _fk_target_field(field, state, app_label)
            return None if target is None else target.rel_db_type(connection)
        return field.db_parameters(connection)["type"]
    except Exception:  # a third-party field that needs a rendered model: type unknown
        return None


def _fk_target_field(field: Any, state: ProjectState, app_label: str) -> Any:
    found = _fk_target(field, state, app_label)
    return found[1] if found else None


def _fk_target(field: Any, state: ProjectState, app_label: str) -> tuple[str, Any] | None:
    """``(name, state field)`` of the field a foreign key points to, when in ``state``."""
    reference = field.remote_field.model
    if not isinstance(reference, str):
        return field.target_field.name, field.target_field
    target_state = state.models.get(model_key(reference, app_label))
    if target_state is None:
        return None
    to_field = getattr(field, "to_fields", [None])[0]
    for name, candidate in target_state.fields.items():
        if (to_field and name == to_field) or (not to_field and candidate.primary_key):
            return name, candidate
    return None


def column_facts(
    name: str,
    field: Any,
    state: ProjectState,
    app_label: str,
    connection: BaseDatabaseWrapper,
) -> ColumnFacts:
    field = bound(name, field)
    concrete = field.concrete and not field.many_to_many
    is_fk = bool(field.many_to_one or field.one_to_one) and concrete
    target = field.remote_field.model if is_fk else None
    return ColumnFacts(
        column=field.column if concrete else None,
        type=column_type(field, state, app_label, connection) if concrete else None,
        null=field.null,
        unique=field.unique and not field.primary_key,
        indexed=bool(field.db_index) and not field.unique,
        primary_key=field.primary_key,
        fk_target=".".join(model_key(_label(target), app_label)) if target is not None else None,
        fk_target_column=_target_column(field, state, app_label) if is_fk else None,
        fk_constraint=is_fk and bool(getattr(field, "db_constraint", False)),
        db_default=field.db_default is not NOT_PROVIDED,
    )


def _target_column(field: Any, state: ProjectState, app_label: str) -> str | None:
    try:
        found = _fk_target(field, state, app_label)
    except Exception:  # a relation the state cannot resolve: column unknown
        return None
    return str(bound(*found).column) if found else None


def _label(model: Any) -> str:
    """``"app.Model"`` for a relation target given as a string or a model class."""
    return model if isinstance(model, str) else model._meta.label


def target_table(
    state: ProjectState, fk_target: str, connection: BaseDatabaseWrapper
) -> str | None:
    """The table of a foreign key target ``"app.model"`` in ``state``, when known."""
    model_state = state.models.get(model_key(fk_target, ""))
    return table_name(model_state, connection) if model_state is not None else None
