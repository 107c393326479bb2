"""Several changes to one table as one ``ALTER TABLE ... , ...`` statement (seed 004).

:class:`CombinedAlterTable` holds ordinary operations on one model (``AddField`` of a
nullable column, ``AlterField`` dropping NOT NULL or changing a default, a type change that
does not rewrite, ...). Each inner operation's state change is applied in turn; their SQL
is rendered one by one and, when every statement is an ``ALTER TABLE`` of that table and
no column is named twice, run as one statement: the table's ACCESS EXCLUSIVE is queued for
and taken once instead of once per change. Otherwise (an inner operation renders something
else) the statements run one after the other, exactly as the separate operations would.

PostgreSQL runs the clauses of one ``ALTER TABLE`` in passes of its own order, not in the
written order: that is why a column named by two clauses keeps them apart.
"""

from __future__ import annotations

from typing import Any

from django.db.migrations.operations.base import Operation, OperationCategory
from django.db.migrations.state import ProjectState

from django_zero_downtime.operations import base
from django_zero_downtime.operations.base import PUBLIC_MODULE, REQUIRED
from django_zero_downtime.sql.combine import one_statement


def render(
    schema_editor: Any, run: Any, app_label: str, before: ProjectState, after: ProjectState
) -> list[str]:
    """The statements ``run(app_label, editor, before, after)`` executes, collected on a
    schema editor of the same class and connection (introspection still works)."""
    editor = type(schema_editor)(schema_editor.connection, collect_sql=True, atomic=False)
    with editor:
        run(app_label, editor, before, after)
    return [sql.strip().removesuffix(";") for sql in editor.collected_sql]


class CombinedAlterTable(base.ModelOperation):
    """Catalog-only changes to one table in one ``ALTER TABLE`` (one ACCESS EXCLUSIVE)."""

    __module__ = PUBLIC_MODULE
    uses_ledger = False
    reduces_to_sql = True
    zero_downtime_combined = True
    """The checker judges each inner operation (``lint/rules/operations.py``)."""
    category = OperationCategory.ALTERATION
    arguments = (("model_name", REQUIRED), ("operations", REQUIRED))

    def __init__(self, model_name: str, operations: list[Operation]) -> None:
        self.model_name = model_name
        self.operations = list(operations)

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        for operation in self.operations:
            operation.state_forwards(app_label, state)

    def states(self, app_label: str, from_state: ProjectState) -> list[ProjectState]:
        """The state before each inner operation, then the state after the last."""
        found = [from_state]
        for operation in self.operations:
            state = found[-1].clone()
            operation.state_forwards(app_label, state)
            found.append(state)
        return found

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        states = self.states(app_label, from_state)
        statements = []
        for i, op in enumerate(self.operations):
            statements += render(schema_editor, op.database_forwards, app_label, *states[i : i + 2])
        self._execute(schema_editor, statements)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        states = self.states(app_label, to_state)
        statements = []
        for i in reversed(range(len(self.operations))):
            run = self.operations[i].database_backwards
            statements += render(schema_editor, run, app_label, states[i + 1], states[i])
        self._execute(schema_editor, statements)

    @staticmethod
    def _execute(schema_editor: Any, statements: list[str]) -> None:
        combined = one_statement(statements)
        for sql in [combined] if combined else statements:
            base.execute(schema_editor, sql)

    def references_field(self, model_name: str, name: str, app_label: str) -> bool:
        return any(op.references_field(model_name, name, app_label) for op in self.operations)

    def describe(self) -> str:
        inner = "; ".join(op.describe() for op in self.operations)
        return f"Combined changes to {self.model_name} (one statement, one lock): {inner}"

    @property
    def migration_name_fragment(self) -> str:
        parts = [op.migration_name_fragment or "" for op in self.operations]
        return f"combined_{self.model_name.lower()}_" + "_".join(parts)[:40].rstrip("_")
