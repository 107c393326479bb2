"""Indexes and constraints added to a live table without blocking its writers.

- :class:`AddIndexInSteps`: ``Meta.indexes`` -> ``CREATE INDEX CONCURRENTLY`` (INVALID
  leftover rebuilt, valid identical index adopted).
- :class:`AddConstraintInSteps`: ``UniqueConstraint`` -> ``CREATE UNIQUE INDEX
  CONCURRENTLY`` then ``ADD CONSTRAINT .. UNIQUE USING INDEX`` (a partial, expression,
  ``include`` or opclass unique stays an index, as Django models it); ``CheckConstraint``
  -> ``ADD CONSTRAINT .. NOT VALID`` then ``VALIDATE CONSTRAINT``.

Both need ``atomic = False`` migrations and are safe to run again after a failure.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.migrations.operations.base import OperationCategory
from django.db.migrations.state import ProjectState
from django.db.models import Deferrable

from django_zero_downtime.exceptions import UnsafeOperationError
from django_zero_downtime.operations import base, indexing
from django_zero_downtime.operations.base import PUBLIC_MODULE, REQUIRED
from django_zero_downtime.operations.indexing import IndexShape
from django_zero_downtime.sql.identifiers import quote_ident

EXCLUSION_REFUSAL = (
    "PostgreSQL builds an exclusion constraint's index under ACCESS EXCLUSIVE and has no "
    "NOT VALID or USING INDEX form for it, so there is no way to add one to a live table "
    "without blocking it for the whole build. Add it when the table is created, or in a "
    "maintenance window with an approval (zero_downtime = {'ZDT110': '<reason>'})."
)


class _InSteps(base.ModelOperation):
    requires_non_atomic_migration = True
    cheap_at_any_size = True
    category = OperationCategory.ADDITION

    def model(self, app_label: str, schema_editor: Any, state: ProjectState) -> Any:
        model = state.apps.get_model(app_label, self.model_name)
        return model if self.allowed(schema_editor, model) else None

    @property
    def model_name_lower(self) -> str:
        return self.model_name.lower()


def index_shape(model: Any, index: models.Index, unique: bool = False) -> IndexShape:
    """The shape :func:`indexing.build_index` compares with an existing index."""
    fields = [name.lstrip("-") for name in index.fields]
    columns = None
    if fields and not index.expressions:
        columns = tuple(model._meta.get_field(name).column for name in fields)
    return IndexShape(unique, columns, index.condition is not None)


class AddIndexInSteps(_InSteps):
    """``Meta.indexes`` entry built with ``CREATE INDEX CONCURRENTLY`` (SHARE UPDATE EXCLUSIVE:
    reads and writes go on). Needs an ``atomic = False`` migration."""

    __module__ = PUBLIC_MODULE
    safe_category = "expand"
    uses_ledger = False

    arguments = (("model_name", REQUIRED), ("index", REQUIRED))

    def __init__(self, model_name: str, index: models.Index) -> None:
        if not index.name:
            raise ValueError("AddIndexInSteps needs an index with a name.")
        self.model_name = model_name
        self.index = index

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.add_index(app_label, self.model_name_lower, self.index)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = self.model(app_label, schema_editor, to_state)
        if model is None:
            return
        sql = indexing.concurrently(self.index.create_sql(model, schema_editor, concurrently=True))
        indexing.build_index(schema_editor, self.index.name, sql, index_shape(model, self.index))

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if self.model(app_label, schema_editor, from_state) is not None:
            base.execute(
                schema_editor, f"DROP INDEX CONCURRENTLY IF EXISTS {quote_ident(self.index.name)}"
            )

    def describe(self) -> str:
        return f"Create index {self.index.name} on {self.model_name} concurrently"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name_lower}_{self.index.name.lower()}"


def attachable(constraint: Any) -> bool:
    """Can the unique index become a constraint (``USING INDEX``)? Not when partial, on
    expressions, with INCLUDE or opclasses: Django models those as indexes too."""
    return not (
        constraint.condition or constraint.expressions or constraint.include or constraint.opclasses
    )


def deferrable_sql(constraint: models.UniqueConstraint) -> str:
    if constraint.deferrable == Deferrable.DEFERRED:
        return " DEFERRABLE INITIALLY DEFERRED"
    if constraint.deferrable == Deferrable.IMMEDIATE:
        return " DEFERRABLE INITIALLY IMMEDIATE"
    return ""


def unique_index_sql(model: Any, schema_editor: Any, constraint: models.UniqueConstraint) -> str:
    """``CREATE UNIQUE INDEX CONCURRENTLY`` for ``constraint`` (with its NULLS NOT DISTINCT)."""
    if not attachable(constraint):
        return indexing.concurrently(constraint.create_sql(model, schema_editor))
    columns = ", ".join(quote_ident(model._meta.get_field(f).column) for f in constraint.fields)
    nulls = " NULLS NOT DISTINCT" if constraint.nulls_distinct is False else ""
    name, table = quote_ident(constraint.name), quote_ident(model._meta.db_table)
    return f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {table} ({columns}){nulls}"


class AddConstraintInSteps(_InSteps):
    """A ``UniqueConstraint`` or ``CheckConstraint`` added with no lock that blocks traffic
    for longer than a catalog update. Needs an ``atomic = False`` migration."""

    __module__ = PUBLIC_MODULE
    safe_category = "expand"
    uses_ledger = False

    arguments = (("model_name", REQUIRED), ("constraint", REQUIRED))

    def __init__(self, model_name: str, constraint: Any) -> None:
        if type(constraint).__name__ == "ExclusionConstraint":
            raise UnsafeOperationError(f"{constraint.name}: {EXCLUSION_REFUSAL}")
        if not isinstance(constraint, models.UniqueConstraint | models.CheckConstraint):
            raise TypeError(
                f"AddConstraintInSteps supports UniqueConstraint and CheckConstraint, not "
                f"{type(constraint).__name__}; use AddConstraint."
            )
        self.model_name = model_name
        self.constraint = constraint

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.add_constraint(app_label, self.model_name_lower, self.constraint)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = self.model(app_label, schema_editor, to_state)
        if model is not None:
            self.add(schema_editor, model)

    def add(self, schema_editor: Any, model: Any) -> None:
        """The database steps (also used by the contract step EnforceConstraint)."""
        table, constraint = model._meta.db_table, self.constraint
        if isinstance(constraint, models.CheckConstraint):
            add = str(constraint.create_sql(model, schema_editor))
            indexing.add_not_valid_then_validate(schema_editor, table, constraint.name, add)
            return
        shape = self._shape(model)
        sql = unique_index_sql(model, schema_editor, constraint)
        indexing.build_index(schema_editor, constraint.name, sql, shape)
        if attachable(constraint):
            indexing.attach_unique(
                schema_editor, table, constraint.name, deferrable_sql(constraint)
            )

    def _shape(self, model: Any) -> IndexShape:
        constraint: Any = self.constraint
        if constraint.expressions:
            index = models.Index(*constraint.expressions, name="x", condition=constraint.condition)
        else:
            index = models.Index(
                fields=list(constraint.fields), name="x", condition=constraint.condition
            )
        return index_shape(model, index, unique=True)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = self.model(app_label, schema_editor, from_state)
        if model is not None:
            schema_editor.remove_constraint(model, self.constraint)

    def describe(self) -> str:
        name = self.constraint.name
        return f"Create constraint {name} on model {self.model_name} without blocking writes"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name_lower}_{self.constraint.name.lower()}"
