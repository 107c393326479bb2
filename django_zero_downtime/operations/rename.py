"""Rename a column over several releases: dual-write with a trigger, then complete."""

from __future__ import annotations

from typing import Any

from django.db.migrations.operations.base import OperationCategory
from django.db.migrations.state import ProjectState
from django.db.models import Field

from django_zero_downtime.exceptions import UnsafeOperationError
from django_zero_downtime.operations import base, ddl, dependents, references, twins
from django_zero_downtime.operations import batches as backfill
from django_zero_downtime.operations.base import PUBLIC_MODULE, REQUIRED
from django_zero_downtime.operations.batch_sql import BatchSql
from django_zero_downtime.operations.triggers import DualWriteTrigger, dual_write_pgid
from django_zero_downtime.sql.identifiers import quote_ident
from django_zero_downtime.traits import Effect


def rename_problem(field: Any, old: str | None, new: str | None) -> str | None:
    """Why ``field`` cannot be renamed by dual-writing, or None."""
    if field.many_to_many or field.primary_key or getattr(field, "generated", False):
        return "only plain columns can be dual-written (not a primary key, M2M or generated field)."
    if old == new:
        return f"the column name {old!r} does not change (db_column); use RenameField."
    return None


class _RenameBase(base.ModelOperation):
    def __init__(self, model_name: str, old_name: str, new_name: str) -> None:
        self.model_name = model_name
        self.old_name = old_name
        self.new_name = new_name

    def columns(self, new_field: Field) -> tuple[str, str]:
        """(old column, new column): the new field's column as the old name would have it."""
        if new_field.many_to_many:
            return "", ""
        return base.column_of(base.renamed_clone(new_field, self.old_name)), base.column_of(
            new_field
        )

    def target(
        self, app_label: str, schema_editor: Any, state: ProjectState
    ) -> tuple[Any, Field, str, tuple[str, str]] | None:
        """(model, new field, table, (old column, new column)) in ``state``; None where the
        operation does not run on this database (routers, ``allowed``)."""
        model = state.apps.get_model(app_label, self.model_name)
        if not self.allowed(schema_editor, model):
            return None
        field = model._meta.get_field(self.new_name)
        return model, field, model._meta.db_table, self.columns(field)

    def trigger(self, table: str, new_field: Field) -> DualWriteTrigger:
        old, new = self.columns(new_field)
        return DualWriteTrigger(table=table, old_column=old, new_column=new)

    def references_field(self, model_name: str, name: str, app_label: str) -> bool:
        names = {self.old_name.lower(), self.new_name.lower()}
        return self.references_model(model_name, app_label) and name.lower() in names


class DualWriteRename(_RenameBase):
    """Expand step of a column rename: new column, dual-write trigger, batched backfill.

    Afterwards the model state has the field under ``new_name``; both columns exist and the
    trigger keeps them equal for every writer (the previous release writes only the old
    one, the current release only the new one). Needs an ``atomic = False`` migration.
    """

    __module__ = PUBLIC_MODULE
    requires_non_atomic_migration = True
    safe_category = "expand"
    backfills_rows = True
    category = OperationCategory.ALTERATION
    arguments = (
        ("model_name", REQUIRED),
        ("old_name", REQUIRED),
        ("new_name", REQUIRED),
        ("batch_size", None),
        ("pause_s", None),
    )

    def zdt_compat_effect(self) -> Effect:
        return Effect(
            kept=((self.model_name, self.old_name),),
            filled=((self.model_name, self.new_name),),
            mirrored=((self.model_name, self.old_name, self.new_name),),
        )

    def __init__(
        self,
        model_name: str,
        old_name: str,
        new_name: str,
        batch_size: int | None = None,
        pause_s: float | None = None,
    ) -> None:
        super().__init__(model_name, old_name, new_name)
        self.batch_size = batch_size
        self.pause_s = pause_s

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Django's field rename, and the field renamed in ``Meta.indexes``/``constraints``
        (the database gets twins of those on the new column: they agree)."""
        key = (app_label, self.model_name.lower())
        references.unshare_referencing_fields(state, self.old_name)
        state.rename_field(app_label, key[1], self.old_name, self.new_name)
        model_state = state.models[key]
        table = model_state.options.get("db_table") or f"{app_label}_{key[1]}"
        references.rename_in_options(model_state, table, self.old_name, self.new_name)
        state.reload_model(*key, delay=True)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allowed(schema_editor, model):
            return
        connection = schema_editor.connection
        backfill.pk_column(model, self.describe())
        base.refuse_in_atomic_block(schema_editor, app_label, self.describe())
        base.require_ledger(schema_editor, self.describe())
        field = model._meta.get_field(self.new_name)
        problem = rename_problem(field, *self.columns(field))
        if problem:
            raise UnsafeOperationError(base.located(app_label, f"{self.describe()}: {problem}"))
        old, new = self.columns(field)
        self._expand(schema_editor, app_label, model, field)
        if base.collecting(schema_editor):
            base.note(schema_editor, f"copy {old} to {new} in batches: {copy_sql(model, old, new)}")
        else:
            self._backfill(connection, model, old, new)
        mapping = renamed_index_names(app_label, self.model_name, from_state, to_state)
        twins.build(schema_editor, model._meta.db_table, old, new, mapping)

    def _expand(self, schema_editor: Any, app_label: str, model: Any, field: Field) -> None:
        """New column, then trigger, then ledger row: each statement on its own, so
        ``safemigrate`` gives each its own short transaction, lock_timeout and retries.

        Rows the previous release writes between the two statements get no new value from
        the trigger, but they exist before the backfill reads its highest key, so it copies
        them; the current release, the only writer of the new column, is not deployed yet.
        """
        table = model._meta.db_table
        old, new = self.columns(field)
        add = f"ALTER TABLE {quote_ident(table)} ADD COLUMN IF NOT EXISTS {quote_ident(new)} "
        base.execute(schema_editor, add + base.column_type_sql(schema_editor, field))
        base.execute(schema_editor, self.trigger(table, field).install_sql)
        base.record(schema_editor, "column", table, old, app_label)

    def backfill_key(self, table: str) -> str:
        return f"dual-write:{table}:{self.old_name}->{self.new_name}"

    def _backfill(self, connection: Any, model: Any, old: str, new: str) -> int:
        table, pk = model._meta.db_table, backfill.pk_column(model, self.describe())
        label = f"{model._meta.label}: copy {old} → {new}"
        key = self.backfill_key(table)
        plan = backfill.make_plan(key, table, pk, self.batch_size, self.pause_s, label)
        batch = f"{quote_ident(pk)} BETWEEN $1 AND $2"
        # The copy sets new = old, exactly what its own trigger would do: it may skip it.
        copy = BatchSql(copy_sql(model, old, new, batch), (dual_write_pgid(table, old, new),))
        return backfill.run_backfill(connection, plan, copy)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        target = self.target(app_label, schema_editor, from_state)
        if target is None:
            return
        _, field, table, (old, new) = target
        base.execute(schema_editor, self.trigger(table, field).uninstall_sql)
        base.execute(
            schema_editor, f"ALTER TABLE {quote_ident(table)} DROP COLUMN {quote_ident(new)}"
        )
        base.forget_deprecation(schema_editor, "column", table, old)
        if not base.collecting(schema_editor):
            backfill.forget(schema_editor.connection, self.backfill_key(table))

    def describe(self) -> str:
        return (
            f"Rename field {self.old_name} on {self.model_name} to {self.new_name} "
            "(dual-write phase)"
        )

    @property
    def migration_name_fragment(self) -> str:
        return f"rename_{self.old_name.lower()}_{self.model_name.lower()}_{self.new_name.lower()}"


class CompleteDualWriteRename(_RenameBase):
    """Contract step of a column rename: drop the trigger and the old column.

    Gated like a drop of a deprecated column: refused until ``ZDT_DEPRECATION_CYCLES``
    deploy cycles have passed since the DualWriteRename. Before dropping, it copies any
    straggler values, and re-establishes NOT NULL on the new column without a long lock
    (CHECK NOT VALID, VALIDATE, SET NOT NULL). Needs an ``atomic = False`` migration.
    """

    __module__ = PUBLIC_MODULE
    requires_non_atomic_migration = True
    deploy_cycle_gated = True
    safe_category = "contract"
    category = OperationCategory.REMOVAL
    arguments = (("model_name", REQUIRED), ("old_name", REQUIRED), ("new_name", REQUIRED))

    def zdt_compat_effect(self) -> Effect:
        return Effect(
            dropped=((self.model_name, self.old_name),),
            unfilled=((self.model_name, self.new_name),),
        )

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Nothing: the state already has the field under its new name."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        target = self.target(app_label, schema_editor, to_state)
        if target is None:
            return
        model, field, table, (old, new) = target
        base.gate(schema_editor, "column", table, old, self.describe())
        base.refuse_in_atomic_block(schema_editor, app_label, self.describe())
        if base.column_exists(schema_editor, table, old):  # not yet dropped by an earlier try
            self._complete_new_column(schema_editor, model, field, old, new)
            twins.move_incoming(schema_editor, table, old, new)
        # One statement, one transaction: no moment without the trigger but with the old
        # column (whose NOT NULL, checks or default nobody would fill any more).
        drop = f"ALTER TABLE {quote_ident(table)} DROP COLUMN IF EXISTS {quote_ident(old)}"
        ddl.step(
            schema_editor, self.trigger(table, field).uninstall_sql.replace("; ", f"; {drop}; ", 1)
        )
        twins.finish_names(schema_editor, table)
        base.mark_dropped(schema_editor, "column", table, old, dropped=True)

    @staticmethod
    def _complete_new_column(
        schema_editor: Any, model: Any, field: Field, old: str, new: str
    ) -> None:
        """Everything the serving release's writes need on the new column, while the
        trigger still runs: the default first (its INSERTs may say DEFAULT), stragglers
        copied, then NOT NULL (CHECK NOT VALID, VALIDATE, SET NOT NULL), then any index or
        constraint an earlier expand did not build."""
        table = model._meta.db_table
        set_default(schema_editor, model, field, old)
        ddl.step(schema_editor, straggler_sql(table, old, new))
        if not field.null:
            ddl.set_not_null(schema_editor, table, new)
        twins.build(schema_editor, table, old, new, {})

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        target = self.target(app_label, schema_editor, from_state)
        if target is None:
            return
        _, field, table, (old, new) = target
        qt, qold, qnew = quote_ident(table), quote_ident(old), quote_ident(new)
        base.execute(
            schema_editor,
            f"ALTER TABLE {qt} ADD COLUMN {qold} {base.column_type_sql(schema_editor, field)}",
        )
        base.execute(schema_editor, f"UPDATE {qt} SET {qold} = {qnew}")
        base.execute(schema_editor, f"ALTER TABLE {qt} ALTER COLUMN {qnew} DROP NOT NULL")
        base.execute(schema_editor, self.trigger(table, field).install_sql)
        base.mark_dropped(schema_editor, "column", table, old, dropped=False)

    def describe(self) -> str:
        return (
            f"Complete renaming field {self.old_name} on {self.model_name} to "
            f"{self.new_name} (drop the old column)"
        )

    @property
    def migration_name_fragment(self) -> str:
        return (
            f"complete_rename_{self.old_name.lower()}_{self.model_name.lower()}_"
            f"{self.new_name.lower()}"
        )


def set_default(schema_editor: Any, model: Any, field: Field, old: str) -> None:
    """The field's ``db_default`` on the new column; without one, the old column's
    default (from ``pg_attrdef``; e.g. AddColumnWithDefault's), if it has one."""
    if field.has_db_default():
        ddl.set_db_default(schema_editor, model, field)
        return
    table = model._meta.db_table
    found = twins.read(schema_editor, lambda c: dependents.column_default(c, table, old), None)
    if found:
        qt, qc = quote_ident(table), quote_ident(base.column_of(field))
        ddl.step(schema_editor, f"ALTER TABLE {qt} ALTER COLUMN {qc} SET DEFAULT {found}")


def renamed_index_names(
    app_label: str, model_name: str, before: ProjectState, after: ProjectState
) -> dict[str, str]:
    """Old name -> new name of ``Meta.indexes`` whose generated name changed."""
    key = (app_label, model_name.lower())
    olds = before.models[key].options.get("indexes") or []
    news = after.models[key].options.get("indexes") or []
    return {o.name: n.name for o, n in zip(olds, news, strict=False) if o.name != n.name}


def straggler_sql(table: str, old: str, new: str) -> str:
    """Copy values the trigger could not have seen (NULL new, set old); normally no row.

    Runs while the trigger is still installed and only under ROW EXCLUSIVE, before the
    trigger is dropped in its own brief ACCESS EXCLUSIVE step.
    """
    qt, qold, qnew = quote_ident(table), quote_ident(old), quote_ident(new)
    return f"UPDATE {qt} SET {qnew} = {qold} WHERE {qnew} IS NULL AND {qold} IS NOT NULL"


def copy_sql(model: Any, old: str, new: str, where: str = "<batch of primary keys>") -> str:
    """One backfill batch of a dual-write rename (``where`` selects the batch)."""
    qt, qold, qnew = quote_ident(model._meta.db_table), quote_ident(old), quote_ident(new)
    return f"UPDATE {qt} SET {qnew} = {qold} WHERE {where} AND {qnew} IS DISTINCT FROM {qold}"
