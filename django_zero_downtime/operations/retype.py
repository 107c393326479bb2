"""Change a column's type without rewriting the table: a shadow column, swapped in later.

:class:`RetypeField` (expand) adds a shadow column of the new type next to the column (and
next to every foreign key column of other tables that references it, when the column is
the primary key), keeps it equal with a trigger that casts and refuses values that do not
fit, backfills it in batches, sets its NOT NULL by the check path and builds its indexes
concurrently. Every release keeps reading and writing the column under its own name.

:class:`CompleteRetypeField` (contract) swaps the shadow in under one brief lock: renames,
the primary key moved ``USING INDEX``, unique constraints attached, referencing foreign keys
re-pointed ``NOT VALID`` (validated afterwards, each in its own transaction), identity,
sequence and default moved. The old column stays, renamed ``<column>_zdt_old`` and
deprecated in the ledger: drop it after the cycles with ``DropDeprecatedColumn``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.db.migrations.operations.base import OperationCategory
from django.db.migrations.state import ProjectState

from django_zero_downtime.exceptions import UnsafeOperationError
from django_zero_downtime.operations import base, ddl, indexing, retype_multi, twins
from django_zero_downtime.operations import batches as backfill
from django_zero_downtime.operations.base import PUBLIC_MODULE, REQUIRED
from django_zero_downtime.operations.indexing import IndexShape
from django_zero_downtime.operations.retype_sql import RetypeTrigger, swap_sql
from django_zero_downtime.sql.identifiers import quote_ident, zdt_name


def side_name(column: str, suffix: str) -> str:
    """``<column>_zdt_new`` / ``<column>_zdt_old``, or a hashed name when too long."""
    name = f"{column}_zdt_{suffix}"
    return name if len(name.encode()) <= 63 else zdt_name(suffix, column)


@dataclass(frozen=True)
class Target:
    """One column to retype: the field's own, or a foreign key column that references it."""

    table: str
    column: str
    pk_column: str
    new_type: str
    null: bool
    primary_key: bool = False
    unique: bool = False
    indexed: bool = False
    like: bool = False
    """varchar/text with an index: Django's ``_like`` twin (pattern ops) is built too."""
    references: tuple[str, str] | None = None
    """(table, column) a foreign key column points at (re-pointed at the swap)."""
    index_names: tuple[tuple[str, str], ...] = ()
    """(shadow's index, Django's name for the column's index): renamed at the swap."""
    old_type: str = ""
    """The column's type now: the trigger casts a write of the shadow back into it."""

    @property
    def shadow(self) -> str:
        return side_name(self.column, "new")

    @property
    def old(self) -> str:
        return side_name(self.column, "old")

    def index_name(self, kind: str) -> str:
        return zdt_name(f"rt{kind}", self.table, self.column)


def _target(schema_editor: Any, model: Any, field: Any, references: Any = None) -> Target:
    column = base.column_of(field)
    new_type = base.column_type_sql(schema_editor, field)
    indexed = bool(getattr(field, "db_index", False)) or field.unique or field.primary_key
    like = indexed and new_type.split("(")[0] in ("varchar", "text") and not field.primary_key
    target = Target(
        table=model._meta.db_table,
        column=column,
        pk_column=backfill.pk_column(model, f"Retyping {model._meta.label}.{field.name}"),
        new_type=new_type,
        null=field.null,
        primary_key=field.primary_key,
        unique=field.unique and not field.primary_key,
        indexed=bool(getattr(field, "db_index", False)) and not field.unique,
        like=like,
        references=references,
    )
    return replace(target, index_names=_index_names(schema_editor, target))


def _index_names(schema_editor: Any, target: Target) -> tuple[tuple[str, str], ...]:
    def django(suffix: str) -> str:
        return indexing.unquoted(
            schema_editor._create_index_name(target.table, [target.column], suffix=suffix)
        )

    names = []
    if target.indexed or (target.references and not target.unique):
        names.append((target.index_name("i"), django("")))
    if target.like:
        names.append((target.index_name("l"), django("_like")))
    return tuple(names)


def targets(schema_editor: Any, model: Any, field: Any) -> list[Target]:
    """The field's column, then every foreign key column that references it (their type
    follows the target's, in Django and in the database)."""
    found = [_target(schema_editor, model, field)]
    for relation in model._meta.related_objects:
        remote = relation.field
        if relation.many_to_many:
            raise UnsafeOperationError(
                f"{model._meta.label}.{field.name} is referenced by the many-to-many "
                f"{remote.model._meta.label}.{remote.name}: its join table is not retyped yet."
            )
        if remote.concrete and remote.target_field.column == field.column:
            found.append(
                _target(schema_editor, remote.model, remote, (found[0].table, found[0].column))
            )
    return found


LIVE_TYPE = (
    "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
    "WHERE attrelid = to_regclass(%s) AND attname = %s AND NOT attisdropped"
)


def with_old_types(schema_editor: Any, found: list[Target]) -> list[Target]:
    """``found`` with each column's type as the database has it now (the state has the
    new type already: ``DeclareModelChange`` came first); "" when it cannot be read."""

    def live(target: Target) -> str:
        def reader(cursor: Any) -> str:
            cursor.execute(LIVE_TYPE, [quote_ident(target.table), target.column])
            row = cursor.fetchone()
            return str(row[0]) if row else ""

        return str(twins.read(schema_editor, reader, ""))

    return [replace(t, old_type=live(t)) for t in found]


class _RetypeBase(base.FieldOperation):
    requires_non_atomic_migration = True
    cheap_at_any_size = True
    category = OperationCategory.ALTERATION
    arguments = (("model_name", REQUIRED), ("name", REQUIRED))

    def __init__(self, model_name: str, name: str) -> None:
        self.model_name = model_name
        self.name = name

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Nothing: the type change is in the state through ``DeclareModelChange``."""

    def targets(self, app_label: str, schema_editor: Any, state: Any) -> list[Target] | None:
        model = state.apps.get_model(app_label, self.model_name)
        if not self.allowed(schema_editor, model):
            return None
        return targets(schema_editor, model, model._meta.get_field(self.name))


class RetypeField(_RetypeBase):
    """Expand step of a type change: shadow columns, cast trigger, backfill, indexes."""

    __module__ = PUBLIC_MODULE
    safe_category = "expand"
    backfills_rows = True

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        found = self.targets(app_label, schema_editor, to_state)
        if found is None:
            return
        found = with_old_types(schema_editor, found)
        base.refuse_in_atomic_block(schema_editor, app_label, self.describe())
        base.require_ledger(schema_editor, self.describe())
        for target in found:
            self._expand(schema_editor, target)
        for target in found:
            self._fill(schema_editor, target)
            if not target.null:
                ddl.set_not_null(schema_editor, target.table, target.shadow)
            build_indexes(schema_editor, target)
            retype_multi.build(schema_editor, target)

    @staticmethod
    def _expand(schema_editor: Any, target: Target) -> None:
        qt, qs = quote_ident(target.table), quote_ident(target.shadow)
        ddl.step(schema_editor, f"ALTER TABLE {qt} ADD COLUMN IF NOT EXISTS {qs} {target.new_type}")
        ddl.step(schema_editor, RetypeTrigger.of(target).install_sql)

    def _fill(self, schema_editor: Any, target: Target) -> None:
        """A no-op UPDATE per batch: the trigger computes the shadow (one cast, one check)."""
        qt, qs, qc = (
            quote_ident(target.table),
            quote_ident(target.shadow),
            quote_ident(target.column),
        )
        if base.collecting(schema_editor):
            base.note(
                schema_editor,
                f"fill in batches (the trigger casts): UPDATE {qt} SET {qs} = NULL "
                f"WHERE ... AND {qs} IS NULL AND {qc} IS NOT NULL",
            )
            return
        key = f"retype:{target.table}.{target.column}"
        plan = backfill.make_plan(key, target.table, target.pk_column, None, None)

        def update(cursor: Any, after: Any, upto: Any) -> int:
            where, params = backfill.range_condition(target.pk_column, after, upto)
            cursor.execute(
                f"UPDATE {qt} SET {qs} = NULL WHERE {where} AND {qs} IS NULL AND {qc} IS NOT NULL",
                params,
            )
            return int(cursor.rowcount)

        backfill.run_backfill(schema_editor.connection, plan, update)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        found = self.targets(app_label, schema_editor, from_state)
        for target in found or []:
            base.execute(schema_editor, RetypeTrigger.of(target).uninstall_sql)
            qt, qs = quote_ident(target.table), quote_ident(target.shadow)
            base.execute(schema_editor, f"ALTER TABLE {qt} DROP COLUMN IF EXISTS {qs}")
            if not base.collecting(schema_editor):
                backfill.forget(schema_editor.connection, f"retype:{target.table}.{target.column}")

    def describe(self) -> str:
        return f"Retype field {self.name} on {self.model_name} by a shadow column (expand)"

    @property
    def migration_name_fragment(self) -> str:
        return f"retype_{self.model_name.lower()}_{self.name.lower()}"


def build_indexes(schema_editor: Any, target: Target) -> None:
    """The shadow's indexes, concurrently: unique for a primary key or unique column."""
    qt, qs = quote_ident(target.table), quote_ident(target.shadow)
    unique = target.primary_key or target.unique
    if unique or target.indexed or target.references:
        kind = "UNIQUE INDEX" if unique else "INDEX"
        name = target.index_name("u" if unique else "i")
        sql = f"CREATE {kind} CONCURRENTLY {quote_ident(name)} ON {qt} ({qs})"
        indexing.build_index(schema_editor, name, sql, IndexShape(unique, (target.shadow,), False))
    if target.like:
        ops = "varchar_pattern_ops" if target.new_type.startswith("varchar") else "text_pattern_ops"
        name = target.index_name("l")
        sql = f"CREATE INDEX CONCURRENTLY {quote_ident(name)} ON {qt} ({qs} {ops})"
        indexing.build_index(schema_editor, name, sql, IndexShape(False, (target.shadow,), False))


def validate_foreign_keys(schema_editor: Any, found: list[Target]) -> None:
    """VALIDATE each foreign key the swap re-created NOT VALID, each in its own transaction
    (SHARE UPDATE EXCLUSIVE on the referencing table: reads and writes go on)."""
    tables = sorted({quote_ident(target.table) for target in found})
    if base.collecting(schema_editor):
        base.note(schema_editor, f"VALIDATE CONSTRAINT each re-created foreign key on {tables}")
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype = 'f' "
            "AND NOT convalidated AND (conrelid = ANY(%s::regclass[]) "
            "OR confrelid = ANY(%s::regclass[]))",
            [tables, tables],
        )
        pending = cursor.fetchall()
    for table, name in pending:
        ddl.step(schema_editor, f"ALTER TABLE {table} VALIDATE CONSTRAINT {quote_ident(name)}")


class CompleteRetypeField(_RetypeBase):
    """Contract step of a type change: swap the shadow columns in under one brief lock."""

    __module__ = PUBLIC_MODULE
    safe_category = "contract"
    zero_downtime_phase = "contract"

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        found = self.targets(app_label, schema_editor, to_state)
        if found is None:
            return
        base.refuse_in_atomic_block(schema_editor, app_label, self.describe())
        if base.collecting(schema_editor) or base.column_exists(
            schema_editor, found[0].table, found[0].shadow
        ):
            multi = [
                retype_multi.swap_sql(retype_multi.composites(schema_editor, t), t.table)
                for t in found
            ]
            ddl.step(schema_editor, swap_sql(found, "".join(multi)))
        validate_foreign_keys(schema_editor, found)
        for target in found:
            base.record(schema_editor, "column", target.table, target.old, app_label)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        raise UnsafeOperationError(
            f"{self.describe()} cannot be unapplied: the old column keeps the old values only "
            "up to the swap. Fix forward with a new migration."
        )

    def describe(self) -> str:
        return f"Complete retyping field {self.name} on {self.model_name}: swap (contract)"

    @property
    def migration_name_fragment(self) -> str:
        return f"complete_retype_{self.model_name.lower()}_{self.name.lower()}"
