"""What a rule sees of one operation: the operation and the project state before it."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ModelState, ProjectState

from django_zero_downtime import traits
from django_zero_downtime.lint import facts
from django_zero_downtime.sql.state import Schema


def is_safe_operation(operation: Operation) -> bool:
    """Safe by construction (declares a ``safe_category``): operation rules never flag it."""
    return traits.is_safe(operation)


@dataclass
class OperationContext:
    app_label: str
    operation: Operation
    state: ProjectState
    """The project state before the operation (read, never modified by rules)."""
    connection: BaseDatabaseWrapper
    """Used for type names and identifier limits only; never queried."""
    atomic: bool = True
    new_tables: set[str] = field(default_factory=set)
    """Tables created earlier in the same migration: changing them locks nobody."""
    schema: Schema = field(default_factory=Schema)
    """What earlier statements and migrations established (NOT NULL proofs, new columns)."""
    index: int = 0
    """The operation's position in its migration."""
    _columns: dict[tuple[str, int], facts.ColumnFacts] = field(
        default_factory=dict, repr=False, compare=False
    )
    _tables: dict[str, tuple[ModelState, str] | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def column_facts(self, name: str, field_: object) -> facts.ColumnFacts:
        """:func:`facts.column_facts` in this context, once per field: the transaction rules
        and the operation rules both ask it of an ``AlterField``'s old and new field (each a
        field copy and type rendering)."""
        key = (name, id(field_))
        found = self._columns.get(key)
        if found is None:
            found = facts.column_facts(name, field_, self.state, self.app_label, self.connection)
            self._columns[key] = found
        return found

    def model(self, name: str) -> ModelState | None:
        return facts.get_model_state(self.state, self.app_label, name)

    def existing_table(self, name: str) -> tuple[ModelState, str] | None:
        """The model state and table of ``name`` when live traffic can be using the table
        (once per name: the transaction rules and the operation rules both ask)."""
        if name not in self._tables:
            self._tables[name] = self._existing_table(name)
        return self._tables[name]

    def _existing_table(self, name: str) -> tuple[ModelState, str] | None:
        model_state = self.model(name)
        if model_state is None or not facts.has_table(model_state):
            return None
        table = facts.table_name(model_state, self.connection)
        if table in self.new_tables:
            return None
        return model_state, table
