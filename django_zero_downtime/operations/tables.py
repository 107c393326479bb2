"""Table operations: deprecate by rename (behind a view), drop after the cycles."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import router
from django.db.migrations.operations.base import OperationCategory
from django.db.migrations.state import ProjectState

from django_zero_downtime.exceptions import UnsafeOperationError
from django_zero_downtime.models import Deprecation
from django_zero_downtime.operations import base
from django_zero_downtime.operations.base import PUBLIC_MODULE, REQUIRED, ZdtOperation
from django_zero_downtime.sql.identifiers import quote_ident, split_qualified
from django_zero_downtime.traits import Effect

PREFIX = "zdt_deprecated_"


def deprecated_table_name(table: str) -> str:
    """``zdt_deprecated_<table>_<hash>``, the table name cut to fit 63 bytes; in the same
    schema, quoted, for a schema-qualified ``'"sales"."orders"'``."""
    digest = hashlib.sha1(table.encode()).hexdigest()[:8]
    schema, name = split_qualified(table)
    head = (PREFIX + name).encode()[: 63 - 9].decode(errors="ignore")
    renamed = f"{head}_{digest}"
    return renamed if schema is None else f"{quote_ident(schema)}.{quote_ident(renamed)}"


def rename_to(table: str) -> str:
    """``table`` for ``RENAME TO`` (which takes no schema: the table stays in its own)."""
    return quote_ident(split_qualified(table)[1])


REFERENCING_SQL = """
SELECT conrelid::regclass::text, conname FROM pg_constraint
 WHERE contype = 'f' AND confrelid = to_regclass(%s) AND conrelid <> confrelid
 ORDER BY 1, 2
"""


def referencing_constraints(schema_editor: Any, table: str) -> list[tuple[str, str]]:
    """(table, constraint) of foreign keys from other tables to ``table``."""
    if base.collecting(schema_editor):
        return []
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(REFERENCING_SQL, [quote_ident(table)])
        return [(row[0], row[1]) for row in cursor.fetchall()]


def join_tables(model: Any) -> list[str]:
    """The auto-created many-to-many join tables of ``model``'s own M2M fields: they go
    with it (the previous release still adds and removes links through them)."""
    return [
        field.m2m_db_table()
        for field in model._meta.local_many_to_many
        if field.remote_field.through._meta.auto_created
    ]


def deprecated_join_tables(schema_editor: Any, renamed: str) -> list[str]:
    """Deprecated tables (original names, from the ledger) whose foreign keys point at the
    deprecated table ``renamed``: its M2M join tables, dropped before it."""
    if base.collecting(schema_editor) and not base.ledger_readable(schema_editor):
        return []
    referencing = {child for child, _ in referencing_constraints(schema_editor, renamed)}
    rows = Deprecation.objects.using(schema_editor.connection.alias).filter(
        kind="table", dropped_at__isnull=True
    )
    return [row.table for row in rows if deprecated_table_name(row.table) in referencing]


def lock_children_first(tables: list[str]) -> str:
    """One ``LOCK TABLE`` for a table and its join tables, join tables first.

    A client's statement on a join table locks it, then (its foreign key check) the model's
    table; taking the model's table first while waiting for a join table closes a cycle
    with such a statement, and the lock timeout fires on every retry under a steady writer
    (measured: 7 of 20 attempts against 0 of 20 children first).
    """
    ordered = [*tables[1:], tables[0]]
    return f"LOCK TABLE {', '.join(map(quote_ident, ordered))} IN ACCESS EXCLUSIVE MODE"


class DeprecateTable(ZdtOperation):
    """Remove a model from the state; rename its table and leave a view under the old name.

    The previous release may still query the model: a simple view is automatically
    updatable in PostgreSQL, so its SELECT/INSERT/UPDATE/DELETE keep working through it
    (defaults and identity of the renamed table apply). The model's own M2M join tables are
    deprecated with it, the same way. Other tables' foreign keys to it stay (they follow the
    rename) until those fields are deprecated; DropDeprecatedTable refuses while any
    remains. The ledger records the cycle.
    """

    __module__ = PUBLIC_MODULE
    safe_category = "deprecate"
    category = OperationCategory.REMOVAL
    arguments = (("name", REQUIRED),)

    def zdt_compat_effect(self) -> Effect:
        return Effect(kept_tables=(self.name,))

    def __init__(self, name: str) -> None:
        self.name = name

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        state.remove_model(app_label, self.name.lower())

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = from_state.apps.get_model(app_label, self.name)
        if not self.allowed(schema_editor, model):
            return
        tables = [model._meta.db_table, *join_tables(model)]
        if schema_editor.connection.in_atomic_block or base.collecting(schema_editor):
            base.execute(schema_editor, lock_children_first(tables))  # else: one per statement
        for table in tables:
            base.record(schema_editor, "table", table, "", app_label)
            old, new = quote_ident(table), deprecated_table_name(table)
            base.execute(schema_editor, f"ALTER TABLE {old} RENAME TO {rename_to(new)}")
            base.execute(schema_editor, f"CREATE VIEW {old} AS SELECT * FROM {quote_ident(new)}")

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = to_state.apps.get_model(app_label, self.name)
        if not self.allowed(schema_editor, model):
            return
        table = model._meta.db_table
        if not base.table_exists(schema_editor, deprecated_table_name(table)):
            base.forget_deprecation(schema_editor, "table", table)
            schema_editor.create_model(model)
            return
        for name in [table, *join_tables(model)]:
            base.forget_deprecation(schema_editor, "table", name)
            renamed = quote_ident(deprecated_table_name(name))
            base.execute(schema_editor, f"DROP VIEW IF EXISTS {quote_ident(name)}")
            base.execute(schema_editor, f"ALTER TABLE {renamed} RENAME TO {rename_to(name)}")

    def references_model(self, name: str, app_label: str) -> bool:
        return name.lower() == self.name.lower()

    def describe(self) -> str:
        return f"Deprecate model {self.name} (its table is renamed, not dropped)"

    @property
    def migration_name_fragment(self) -> str:
        return f"deprecate_{self.name.lower()}"


class DropDeprecatedTable(ZdtOperation):
    """Drop a table deprecated ``ZDT_DEPRECATION_CYCLES`` deploy cycles ago, else refuse.

    ``db_table`` is needed only when the model had a custom ``Meta.db_table``.
    """

    __module__ = PUBLIC_MODULE
    safe_category = "contract"
    deploy_cycle_gated = True
    category = OperationCategory.REMOVAL
    arguments = (("name", REQUIRED), ("db_table", None))

    def zdt_compat_effect(self) -> Effect:
        return Effect(dropped=((self.name, ""),))

    def __init__(self, name: str, db_table: str | None = None) -> None:
        self.name = name
        self.db_table = db_table

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Nothing: DeprecateTable already removed the model from the state."""

    def _allowed(self, app_label: str, schema_editor: Any) -> bool:
        """The model left the state, so ask the router by name."""
        alias = schema_editor.connection.alias
        return router.allow_migrate(alias, app_label, model_name=self.name.lower())

    def table(self, app_label: str) -> str:
        return self.db_table or f"{app_label}_{self.name.lower()}"

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if not self._allowed(app_label, schema_editor):
            return
        table = self.table(app_label)
        base.gate(schema_editor, "table", table, "", self.describe())
        for join in deprecated_join_tables(schema_editor, deprecated_table_name(table)):
            base.gate(schema_editor, "table", join, "", self.describe())
            self._drop(schema_editor, join)
        self._refuse_if_referenced(app_label, schema_editor, deprecated_table_name(table))
        self._drop(schema_editor, table)

    @staticmethod
    def _drop(schema_editor: Any, table: str) -> None:
        base.execute(schema_editor, f"DROP VIEW IF EXISTS {quote_ident(table)}")
        renamed = quote_ident(deprecated_table_name(table))
        base.execute(schema_editor, f"DROP TABLE IF EXISTS {renamed}")
        base.mark_dropped(schema_editor, "table", table, "", dropped=True)

    def _refuse_if_referenced(self, app_label: str, schema_editor: Any, renamed: str) -> None:
        found = referencing_constraints(schema_editor, renamed)
        if found:
            names = ", ".join(f"{table} ({constraint})" for table, constraint in found)
            raise UnsafeOperationError(
                base.located(
                    app_label,
                    f"{self.describe()}: foreign keys of other tables still point at it: "
                    f"{names}. Remove those fields (or deprecate those tables) first.",
                )
            )

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        """Only the ledger: unapplying the DeprecateTable before it re-creates the table."""
        if self._allowed(app_label, schema_editor):
            base.mark_dropped(schema_editor, "table", self.table(app_label), "", dropped=False)

    def references_model(self, name: str, app_label: str) -> bool:
        return name.lower() == self.name.lower()

    def describe(self) -> str:
        return f"Drop deprecated model {self.name}'s table"

    @property
    def migration_name_fragment(self) -> str:
        return f"drop_deprecated_{self.name.lower()}"
