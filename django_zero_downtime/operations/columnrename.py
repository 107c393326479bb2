"""A ``db_column`` change: the dual-write rename at the column level.

The field keeps its name; its column changes. :class:`DualWriteColumnRename` (expand) is
:class:`~.rename.DualWriteRename` with the columns given by the ``db_column`` change
instead of a field rename: new column, dual-write trigger, batched copy, twins of the old
column's indexes and constraints. :class:`CompleteDualWriteColumnRename` (contract, a
``zero_downtime_phase = "contract"`` migration) finishes the new column (default,
stragglers, NOT NULL by the check path, other tables' foreign keys moved), then drops the
trigger and makes the old column inert (nullable, no default, its indexes and constraints
dropped). The old column itself stays, deprecated in the ledger since the expand: drop it
after the cycles with ``DropDeprecatedColumn``.
"""

from __future__ import annotations

from typing import Any

from django.db.migrations.state import ProjectState
from django.db.models import Field

from django_zero_downtime.exceptions import UnsafeOperationError
from django_zero_downtime.operations import base, ddl, twins
from django_zero_downtime.operations.base import PUBLIC_MODULE, REQUIRED
from django_zero_downtime.operations.rename import CompleteDualWriteRename, DualWriteRename
from django_zero_downtime.sql.identifiers import quote_ident
from django_zero_downtime.traits import Effect


class DualWriteColumnRename(DualWriteRename):
    """Expand step of a ``db_column`` change (see the module docstring)."""

    __module__ = PUBLIC_MODULE
    arguments = (  # type: ignore[assignment]
        ("model_name", REQUIRED),
        ("name", REQUIRED),
        ("field", REQUIRED),
        ("old_column", REQUIRED),
        ("batch_size", None),
        ("pause_s", None),
    )

    def __init__(
        self,
        model_name: str,
        name: str,
        field: Field,
        old_column: str,
        batch_size: int | None = None,
        pause_s: float | None = None,
    ) -> None:
        super().__init__(model_name, name, name, batch_size, pause_s)
        self.name = name
        self.field = field
        self.old_column = old_column

    def columns(self, new_field: Field) -> tuple[str, str]:
        return self.old_column, base.column_of(new_field)

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.alter_field(app_label, self.model_name.lower(), self.name, self.field, True)

    def zdt_compat_effect(self) -> Effect:
        return Effect(kept=((self.model_name, self.name),), filled=((self.model_name, self.name),))

    @property
    def new_column(self) -> str:
        field = self.field.clone()
        field.set_attributes_from_name(self.name)
        return base.column_of(field)

    def backfill_key(self, table: str) -> str:
        return f"dual-write:{table}:{self.old_column}->{self.new_column}"

    def describe(self) -> str:
        return (
            f"Move field {self.name} on {self.model_name} from column {self.old_column} to "
            f"{self.new_column} (dual-write phase)"
        )

    @property
    def migration_name_fragment(self) -> str:
        return f"move_{self.model_name.lower()}_{self.name.lower()}_column"


class CompleteDualWriteColumnRename(CompleteDualWriteRename):
    """Contract step of a ``db_column`` change: the new column complete, the old inert."""

    __module__ = PUBLIC_MODULE
    deploy_cycle_gated = False
    zero_downtime_phase = "contract"
    arguments = (("model_name", REQUIRED), ("name", REQUIRED), ("old_column", REQUIRED))

    def __init__(self, model_name: str, name: str, old_column: str) -> None:
        super().__init__(model_name, name, name)
        self.name = name
        self.old_column = old_column

    def columns(self, new_field: Field) -> tuple[str, str]:
        return self.old_column, base.column_of(new_field)

    def zdt_compat_effect(self) -> Effect:
        """Nothing for the blue/green check, like the other contract steps: it runs only
        in a later release's run (``runner/phases.py``), when the release that serves
        writes the new column; the release before the expand no longer serves."""
        return Effect()

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        target = self.target(app_label, schema_editor, to_state)
        if target is None:
            return
        model, field, table, (old, new) = target
        base.refuse_in_atomic_block(schema_editor, app_label, self.describe())
        if base.column_exists(schema_editor, table, old):
            self._complete_new_column(schema_editor, model, field, old, new)
            twins.move_incoming(schema_editor, table, old, new)
            qt, qo = quote_ident(table), quote_ident(old)
            inert = f"ALTER TABLE {qt} ALTER {qo} DROP NOT NULL, ALTER {qo} DROP DEFAULT"
            uninstall = self.trigger(table, field).uninstall_sql
            ddl.step(schema_editor, uninstall.replace("; ", f"; {inert}; ", 1))
            drop_dependents(schema_editor, table, old)
        twins.finish_names(schema_editor, table)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        raise UnsafeOperationError(
            f"{self.describe()} cannot be unapplied: the old column stopped following the new "
            "one. Fix forward with a new migration."
        )

    def describe(self) -> str:
        return (
            f"Complete moving field {self.name} on {self.model_name} off column "
            f"{self.old_column} (contract; the old column stays, deprecated)"
        )

    @property
    def migration_name_fragment(self) -> str:
        return f"complete_move_{self.model_name.lower()}_{self.name.lower()}_column"


def drop_dependents(schema_editor: Any, table: str, column: str) -> None:
    """The old column's own indexes (concurrently) and constraints (brief): nobody writes
    it any more, and their names are free for the twins."""
    qt = quote_ident(table)
    for dep in twins.dependents_of(schema_editor, table, column):
        if dep.kind == "index":
            ddl.step(schema_editor, f"DROP INDEX CONCURRENTLY IF EXISTS {quote_ident(dep.name)}")
        elif dep.kind in ("unique", "check", "fk"):
            ddl.step(
                schema_editor, f"ALTER TABLE {qt} DROP CONSTRAINT IF EXISTS {quote_ident(dep.name)}"
            )
