"""Safe alternatives, written as the Django code to put in the migration.

Every hint is filled in with the user's own model, field, table and constraint names, so it
can be pasted. The operations named here are Django's (``AddIndexConcurrently``,
``AddConstraintNotValid``, ``ValidateConstraint``) and this project's
(``django_zero_downtime.operations``).
"""

from __future__ import annotations

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
        return conf.get_settings().DEPRECATION_CYCLES
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


def add_not_null_column(model: str, field: str, field_code: str) -> str:
    return (
        "Add it with a database default that both versions get on insert "
        f"({ZDT_OPS}):\n"
        f'    zdt.AddColumnWithDefault("{model}", "{field}", {field_code})\n'
        "or make it nullable (null=True) or give it db_default=..."
    )


def add_column_rewrite(model: str, field: str) -> str:
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


def add_unique(table: str, columns: str, name: str) -> str:
    return (
        f"Build the index concurrently ({NON_ATOMIC}), then attach it (brief lock):\n"
        f'    RunSQL(\'CREATE UNIQUE INDEX CONCURRENTLY "{name}" ON "{table}" ({columns})\')\n'
        f'    RunSQL(\'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" UNIQUE USING INDEX '
        f'"{name}"\')\n'
        "wrapped in SeparateDatabaseAndState with the AlterField/AddConstraint as "
        "state_operations."
    )


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
