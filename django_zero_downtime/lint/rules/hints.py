"""Safe alternatives, written as the Django code to put in the migration.

Every hint is filled in with the user's own model, field, table and constraint names, so it
can be pasted. The operations named here are Django's (``AddIndexConcurrently``,
``AddConstraintNotValid``, ``ValidateConstraint``) and this project's
(``django_zero_downtime.operations``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.migrations.writer import MigrationWriter

from django_zero_downtime import conf

NON_ATOMIC = "in a migration with `atomic = False`"
ZDT_OPS = "from django_zero_downtime import operations as zdt"


def code(value: Any) -> str:
    """The Python source the migration writer would write for ``value``."""
    try:
        return MigrationWriter.serialize(value)[0]
    except Exception:  # an object the writer cannot serialise: fall back to its repr
        return repr(value)


def cycles() -> int:
    try:
        return int(conf.value("DEPRECATION_CYCLES"))
    except Exception:  # invalid settings are reported by zdt.E001; hints use the default
        return 3


def drop_column(model: str, field: str) -> str:
    return (
        f"Deprecate it now and drop it after {cycles()} deploy cycles ({ZDT_OPS}):\n"
        f'    zdt.DeprecateColumn("{model}", "{field}")\n'
        f'later, in its own migration:  zdt.DropDeprecatedColumn("{model}", "{field}")'
    )


def drop_table(model: str) -> str:
    return (
        f"Deprecate the table now and drop it after {cycles()} deploy cycles ({ZDT_OPS}):\n"
        f'    zdt.DeprecateTable("{model}")\n'
        f'later, in its own migration:  zdt.DropDeprecatedTable("{model}")'
    )


def rename_column(model: str, old: str, new: str, field_code: str) -> str:
    keep = _with_kwarg(field_code, f'db_column="{old}"')
    return (
        f"Keep the column and rename only the Python attribute: {keep}.\n"
        f"Or rename it in expand/contract steps that both versions survive ({ZDT_OPS}),\n"
        f'{NON_ATOMIC} that depends on ("django_zero_downtime", "0001_initial"):\n'
        f'    zdt.DualWriteRename("{model}", "{old}", "{new}")\n'
        f'after {cycles()} deploy cycles:  zdt.CompleteDualWriteRename("{model}", "{old}", "{new}")'
    )


def _with_kwarg(call: str, kwarg: str) -> str:
    """``models.F(a=1)`` + ``b=2`` -> ``models.F(a=1, b=2)``."""
    if not call.endswith(")"):
        return f"{call} with {kwarg}"
    head = call[:-1]
    return f"{head}{kwarg})" if head.endswith("(") else f"{head}, {kwarg})"


def rename_table(model: str, old_table: str) -> str:
    return (
        f'Keep the table name: set db_table = "{old_table}" in {model}.Meta, which makes '
        "the rename state-only (no SQL)."
    )


def alter_type(model: str, field: str, field_code: str) -> str:
    return (
        "Change the type in expand/contract steps instead of in place:\n"
        f'    migrations.AddField("{model}", "{field}_new", {field_code})  # nullable\n'
        f"    zdt.BatchedBackfill(...) copying {field} into {field}_new (atomic = False)\n"
        f'    zdt.DualWriteRename / zdt.DeprecateColumn("{model}", "{field}") once reads '
        "use the new column."
    )


def alter_type_sql(model: str, field: str) -> str:
    return (
        f"Change the type in expand/contract steps: add a new column for {model}.{field}, "
        "backfill it in batches (zdt.BatchedBackfill, atomic = False), switch reads, then "
        "deprecate the old column."
    )


def set_not_null_sql(table: str, column: str) -> str:
    name = _name(table, column, "not_null")
    return (
        f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" CHECK ("{column}" IS NOT NULL) NOT '
        f'VALID; then in a later migration ALTER TABLE "{table}" VALIDATE CONSTRAINT "{name}"; '
        "then SET NOT NULL (PostgreSQL 12+ uses the validated check and skips the scan)."
    )


def _name(table: str, column: str, suffix: str) -> str:
    """A constraint/index name qualified by the table, cut to 63 bytes at a ``_`` boundary."""
    name = f"{table}_{column}_{suffix}"
    if len(name) <= 63:
        return name
    return f"{table[:40].rstrip('_')}_{column[:12]}_{suffix}"[:63]


NO_ONLINE_EXCLUSION = (
    "There is no online path for an exclusion constraint: PostgreSQL builds its index under "
    "ACCESS EXCLUSIVE and cannot attach one built CONCURRENTLY. Add it while the table is "
    "small or in a maintenance window, and approve the finding with a reason."
)


def set_not_null(model: str, field: str, column: str, table: str) -> str:
    name = f"{table}_{column}_not_null"[:63]
    return (
        "Prove NOT NULL with a constraint first (PostgreSQL 12+ then skips the scan):\n"
        f'    AddConstraintNotValid("{model}", models.CheckConstraint('
        f'condition=models.Q({field}__isnull=False), name="{name}"))\n'
        f'    ValidateConstraint("{model}", "{name}")  # next migration, no write lock\n'
        f'then AlterField(null=False) and RemoveConstraint("{model}", "{name}").'
    )


def add_not_null_column(model: str, field: str, field_code: str, field_obj: Any = None) -> str:
    from django_zero_downtime.operations.columns import default_problem

    problem = default_problem(field_obj) if field_obj is not None else None
    if problem is None:
        return (
            "Add it with a database default that both versions get on insert "
            f"({ZDT_OPS}):\n"
            f'    zdt.AddColumnWithDefault("{model}", "{field}", {field_code})\n'
            "or make it nullable (null=True) or give it a constant db_default=..."
        )
    return (
        f"zdt.AddColumnWithDefault cannot add it ({problem.split(';')[0].rstrip('.')}). "
        f'Add "{field}" with null=True (and without unique/db_index), fill it with '
        f"zdt.BatchedBackfill in an atomic = False migration, build any index with "
        "AddIndexConcurrently, then make it NOT NULL through a validated CHECK constraint "
        "(see ZDT106) once no running release inserts without it."
    )


def add_column_rewrite(model: str, field: str, stored_generated: bool = False) -> str:
    if stored_generated:
        return (
            "There is no online path for a stored generated column: PostgreSQL computes it "
            "for every row under ACCESS EXCLUSIVE. Use db_persist=False on PostgreSQL 18+ "
            f'(virtual, nothing stored), or add "{field}" as a plain nullable column kept up '
            "to date by a trigger and filled with zdt.BatchedBackfill (atomic = False)."
        )
    return (
        f'Add "{field}" as a plain nullable column, fill it with zdt.BatchedBackfill in an '
        "atomic = False migration, then add the default/identity/constraint separately."
    )


def create_index(model: str, index_code: str, field: str = "") -> str:
    instead = f"Drop db_index/the index from the field {field} and build" if field else "Build"
    return (
        f"{instead} it without blocking writes, "
        f"{NON_ATOMIC} of its own:\n"
        f'    AddIndexConcurrently("{model}", {index_code})\n'
        "(from django.contrib.postgres.operations import AddIndexConcurrently)"
    )


def add_unique(table: str, columns: str, name: str, deferrable: str = "") -> str:
    return (
        f"Build the index concurrently ({NON_ATOMIC}), then attach it (brief lock):\n"
        f'    RunSQL(\'CREATE UNIQUE INDEX CONCURRENTLY "{name}" ON "{table}" ({columns})\')\n'
        f'    RunSQL(\'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" UNIQUE USING INDEX '
        f'"{name}"{deferrable}\')\n'
        "wrapped in SeparateDatabaseAndState with the AlterField/AddConstraint as "
        "state_operations."
    )


def add_unique_index(model: str, index_sql: str, name: str, constraint_code: str) -> str:
    """A UniqueConstraint Django builds as a unique *index* (condition, include, opclasses,
    expressions): the same index, built concurrently, with the constraint as state."""
    concurrent = index_sql.replace("CREATE UNIQUE INDEX", "CREATE UNIQUE INDEX CONCURRENTLY", 1)
    reverse = f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"'
    return (
        f"Build the same unique index without blocking writes ({NON_ATOMIC}):\n"
        "    migrations.SeparateDatabaseAndState(\n"
        f"        database_operations=[migrations.RunSQL({concurrent!r}, {reverse!r})],\n"
        f'        state_operations=[migrations.AddConstraint("{model}", {constraint_code})],\n'
        "    )"
    )


def index_name(table: str, column: str, suffix: str = "idx") -> str:
    """An index name qualified by its table (index names are schema-wide), within Django's
    30 characters: whole words where they fit, else cut parts and a hash of the full name."""
    name = f"{table}_{column}_{suffix}"
    if len(name) <= 30:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:6]
    room = (30 - len(suffix) - len(digest) - 3) // 2
    return f"{table[:room].rstrip('_')}_{column[:room].rstrip('_')}_{digest}_{suffix}"


def add_foreign_key(table: str, column: str, target: str, name: str) -> str:
    return (
        "Add the field with db_constraint=False, then add and validate the constraint in "
        "two migrations (RunSQL in SeparateDatabaseAndState):\n"
        f'    ALTER TABLE "{table}" ADD CONSTRAINT "{name}" FOREIGN KEY ("{column}") '
        f"REFERENCES {target} NOT VALID;\n"
        f'    ALTER TABLE "{table}" VALIDATE CONSTRAINT "{name}";  -- no write lock'
    )


def add_check(model: str, constraint_code: str, name: str) -> str:
    return (
        "Add it NOT VALID, validate it in the next migration "
        "(from django.contrib.postgres.operations):\n"
        f'    AddConstraintNotValid("{model}", {constraint_code})\n'
        f'    ValidateConstraint("{model}", "{name}")'
    )


def drop_index(model: str, name: str) -> str:
    return (
        f'RemoveIndexConcurrently("{model}", "{name}") {NON_ATOMIC} '
        "(from django.contrib.postgres.operations)."
    )


def non_atomic(what: str) -> str:
    return f"Put {what} {NON_ATOMIC} that contains nothing else."
