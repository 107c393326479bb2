"""Rename a model on a live table: Django's table rename plus a view under the old name.

Why a view and not a state-only rename that keeps the table: a state-only rename would need
``Meta.db_table = "<old table>"`` in the model for ever (otherwise the next makemigrations
renames the table after all), and Django's names would no longer follow the model. The view
keeps Django's naming and costs one more catalog change in the same brief transaction: the
previous release, which still queries the old table name, reads and writes through the
view (a simple view is automatically updatable; the table's defaults and identity apply).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations
from django.db.migrations.operations.base import OperationCategory
from django.db.migrations.state import ProjectState

from django_zero_downtime.operations import base
from django_zero_downtime.operations.base import PUBLIC_MODULE, REQUIRED
from django_zero_downtime.sql.identifiers import quote_ident


def renamed_tables(old_model: Any, new_model: Any) -> list[tuple[str, str]]:
    """(old table, new table) of the model and of its auto-created join tables."""
    pairs = [(old_model._meta.db_table, new_model._meta.db_table)]
    for old_field in old_model._meta.local_many_to_many:
        new_field = new_model._meta.get_field(old_field.name)
        old_through, new_through = old_field.remote_field.through, new_field.remote_field.through
        if old_through._meta.auto_created and new_through._meta.auto_created:
            pairs.append((old_through._meta.db_table, new_through._meta.db_table))
    return [(old, new) for old, new in pairs if old != new]


class RenameModelWithView(base.ZdtOperation):
    """``RenameModel``, then ``CREATE VIEW <old table> AS SELECT * FROM <new table>`` (and
    the same for its join tables), in the migration's one transaction."""

    __module__ = PUBLIC_MODULE
    safe_category = "expand"
    uses_ledger = False
    category = OperationCategory.ALTERATION
    arguments = (("old_name", REQUIRED), ("new_name", REQUIRED))

    def __init__(self, old_name: str, new_name: str) -> None:
        self.old_name = old_name
        self.new_name = new_name

    @property
    def rename(self) -> migrations.RenameModel:
        return migrations.RenameModel(self.old_name, self.new_name)

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        self.rename.state_forwards(app_label, state)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        old_model = from_state.apps.get_model(app_label, self.old_name)
        new_model = to_state.apps.get_model(app_label, self.new_name)
        self.rename.database_forwards(app_label, schema_editor, from_state, to_state)
        if not self.allowed(schema_editor, new_model):
            return
        for old, new in renamed_tables(old_model, new_model):
            base.execute(
                schema_editor, f"CREATE VIEW {quote_ident(old)} AS SELECT * FROM {quote_ident(new)}"
            )

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        old_model = to_state.apps.get_model(app_label, self.old_name)
        new_model = from_state.apps.get_model(app_label, self.new_name)
        if self.allowed(schema_editor, new_model):
            for old, _ in renamed_tables(old_model, new_model):
                base.execute(schema_editor, f"DROP VIEW IF EXISTS {quote_ident(old)}")
        self.rename.database_backwards(app_label, schema_editor, from_state, to_state)

    def references_model(self, name: str, app_label: str) -> bool:
        return name.lower() in (self.old_name.lower(), self.new_name.lower())

    def zdt_compat_effect(self) -> Any:
        """For the blue/green check: the old table name stays usable (the view)."""
        from django_zero_downtime.traits import Effect

        return Effect(kept_tables=(self.old_name,))

    def describe(self) -> str:
        return f"Rename model {self.old_name} to {self.new_name} (a view keeps the old table name)"

    @property
    def migration_name_fragment(self) -> str:
        return f"rename_{self.old_name.lower()}_{self.new_name.lower()}"
