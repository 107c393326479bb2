"""Changes whose database part must wait for a later release: declare now, enforce later.

A NOT NULL or a CHECK constraint rejects what the previous release may still write (NULLs,
invalid rows). ``makemigrations`` therefore writes two migrations:

1. the expand migration, with :class:`DeclareModelChange`: the model state changes now (the
   release that ships it writes valid rows), the database does not;
2. a contract migration (``zero_downtime_phase = "contract"``) with :class:`EnforceField` or
   :class:`EnforceConstraint`, which change the database only. ``safemigrate`` applies it
   in a later release's run, when the previous release no longer serves.
"""

from __future__ import annotations

from typing import Any

from django.db.migrations.operations.base import Operation, OperationCategory
from django.db.migrations.state import ProjectState
from django.db.models import CheckConstraint, UniqueConstraint

from django_zero_downtime.operations import base, ddl, fields, indexing
from django_zero_downtime.operations.base import PUBLIC_MODULE, REQUIRED
from django_zero_downtime.sql.identifiers import quote_ident

CONTRACT = "contract"


class DeclareModelChange(base.ZdtOperation):
    """Apply ``operations`` to the model state only; a contract migration changes the
    database. The blue/green check judges the database, so it skips this operation."""

    __module__ = PUBLIC_MODULE
    safe_category = "expand"
    uses_ledger = False
    category = OperationCategory.ALTERATION
    zero_downtime_state_only = True
    arguments = (("operations", REQUIRED),)

    def __init__(self, operations: list[Operation]) -> None:
        self.operations = list(operations)

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        for operation in self.operations:
            operation.state_forwards(app_label, state)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if base.collecting(schema_editor):
            base.note(schema_editor, f"{self.describe()}: no database change here")

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        """Nothing: the database was not changed."""

    def references_model(self, name: str, app_label: str) -> bool:
        return any(op.references_model(name, app_label) for op in self.operations)

    def references_field(self, model_name: str, name: str, app_label: str) -> bool:
        return any(op.references_field(model_name, name, app_label) for op in self.operations)

    def describe(self) -> str:
        inner = "; ".join(op.describe() for op in self.operations)
        return f"Declare in the model state (the database follows in a contract migration): {inner}"

    @property
    def migration_name_fragment(self) -> str:
        return "_".join(op.migration_name_fragment or "" for op in self.operations)[:60]


class _Contract(base.ModelOperation):
    requires_non_atomic_migration = True
    cheap_at_any_size = True
    zero_downtime_phase = CONTRACT
    category = OperationCategory.ALTERATION

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Nothing: :class:`DeclareModelChange` already changed the state."""

    def model(self, app_label: str, schema_editor: Any, state: ProjectState) -> Any:
        model = state.apps.get_model(app_label, self.model_name)
        return model if self.allowed(schema_editor, model) else None


class EnforceField(_Contract):
    """Contract step: give the column what its field declares (NOT NULL, unique, index),
    each without a long lock. Steps already done are skipped, so it is safe to re-run."""

    __module__ = PUBLIC_MODULE
    safe_category = "contract"
    backfills_rows = True

    arguments = (("model_name", REQUIRED), ("name", REQUIRED), ("default", None))

    def __init__(self, model_name: str, name: str, default: Any = None) -> None:
        self.model_name = model_name
        self.name = name
        self.default = default
        """The one-off default makemigrations asked for (``preserve_default=False``): NULLs
        are filled with it; the state and the database keep no default."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = self.model(app_label, schema_editor, to_state)
        if model is None:
            return
        field = with_default(model._meta.get_field(self.name), self.default)
        if not field.null:
            key = f"enforce:{app_label}.{self.model_name.lower()}.{self.name}"
            fields.enforce_not_null(schema_editor, app_label, model, field, key, self.describe())
        if field.unique and not field.primary_key:
            indexing.build_field_unique(schema_editor, model, field)
        elif getattr(field, "db_index", False):
            indexing.build_field_indexes(schema_editor, model, field)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = self.model(app_label, schema_editor, from_state)
        if model is not None and not base.collecting(schema_editor):
            column = quote_ident(base.column_of(model._meta.get_field(self.name)))
            table = quote_ident(model._meta.db_table)
            ddl.step(schema_editor, f"ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL")

    def references_field(self, model_name: str, name: str, app_label: str) -> bool:
        return self.references_model(model_name, app_label) and name.lower() == self.name.lower()

    def describe(self) -> str:
        return f"Enforce field {self.name} on {self.model_name} in the database (contract)"

    @property
    def migration_name_fragment(self) -> str:
        return f"enforce_{self.model_name.lower()}_{self.name.lower()}"


def with_default(field: Any, default: Any) -> Any:
    """``field``, or a copy of it with ``default`` (for filling only) when one is given."""
    if default is None:
        return field
    clone = field.clone()
    clone.default = default
    clone.set_attributes_from_name(field.name)
    clone.model = field.model
    return clone


class EnforceConstraint(_Contract):
    """Contract step: add the state's constraint ``name`` to the database (CHECK: NOT VALID,
    then VALIDATE; unique: index concurrently, then USING INDEX)."""

    __module__ = PUBLIC_MODULE
    safe_category = "contract"
    uses_ledger = False

    arguments = (("model_name", REQUIRED), ("name", REQUIRED))

    def __init__(self, model_name: str, name: str) -> None:
        self.model_name = model_name
        self.name = name

    def constraint(self, model: Any) -> Any:
        for constraint in model._meta.constraints:
            if constraint.name == self.name:
                return constraint
        raise LookupError(f"{self.model_name} has no constraint {self.name!r} in the state")

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        from django_zero_downtime.operations.constraints import AddConstraintInSteps

        model = self.model(app_label, schema_editor, to_state)
        if model is None:
            return
        constraint = self.constraint(model)
        if not isinstance(constraint, CheckConstraint | UniqueConstraint):
            raise TypeError(f"EnforceConstraint does not support {type(constraint).__name__}")
        AddConstraintInSteps(self.model_name, constraint).add(schema_editor, model)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = self.model(app_label, schema_editor, from_state)
        if model is not None:
            schema_editor.remove_constraint(model, self.constraint(model))

    def describe(self) -> str:
        return f"Enforce constraint {self.name} on {self.model_name} in the database (contract)"

    @property
    def migration_name_fragment(self) -> str:
        return f"enforce_{self.model_name.lower()}_{self.name.lower()}"
