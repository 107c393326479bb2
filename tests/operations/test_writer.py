"""Every operation serialises through Django's migration writer and reads like Django's."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest
from django.db import migrations, models
from django.db.migrations.writer import MigrationWriter
from django.db.models import F, Q

import django_zero_downtime.operations as zdt_ops
from django_zero_downtime.operations import (
    AddColumnWithDefault,
    BatchedBackfill,
    CompleteDualWriteRename,
    DeprecateColumn,
    DeprecateTable,
    DropDeprecatedColumn,
    DropDeprecatedTable,
    DualWriteRename,
)

NEW_PATHS = [
    zdt_ops.AddIndexInSteps("Person", models.Index(fields=["-surname"], name="person_sn_idx")),
    zdt_ops.AddConstraintInSteps(
        "Person",
        models.UniqueConstraint(
            fields=["surname"], name="sn_uniq", deferrable=models.Deferrable.DEFERRED
        ),
    ),
    zdt_ops.AddFieldInSteps("Person", "token", models.UUIDField(default=uuid.uuid4)),
    zdt_ops.AlterFieldInSteps("Person", "surname", models.CharField(max_length=9, unique=True)),
    zdt_ops.DeclareModelChange(
        [migrations.AlterField("Person", "surname", models.CharField(max_length=9))]
    ),
    zdt_ops.EnforceField("Person", "surname"),
    zdt_ops.EnforceConstraint("Person", "age_gte_0"),
    zdt_ops.RetypeField("Person", "id"),
    zdt_ops.CompleteRetypeField("Person", "id"),
    zdt_ops.RenameModelWithView("Person", "Human"),
    zdt_ops.EnforceField("Person", "surname", default="none"),
    zdt_ops.CombinedAlterTable(
        "Person",
        [
            migrations.AddField("Person", "a", models.IntegerField(null=True)),
            migrations.AlterField("Person", "surname", models.CharField(max_length=90)),
        ],
    ),
    zdt_ops.DualWriteColumnRename(
        "Person", "surname", models.CharField(max_length=9, db_column="sn"), "surname"
    ),
    zdt_ops.CompleteDualWriteColumnRename("Person", "surname", "surname"),
]

OPERATIONS = [
    AddColumnWithDefault("Person", "nickname", models.CharField(max_length=20, default="")),
    DualWriteRename("Person", "last_name", "surname"),
    DualWriteRename("Person", "last_name", "surname", batch_size=500, pause_s=0.1),
    CompleteDualWriteRename("Person", "last_name", "surname"),
    DeprecateColumn("Person", "middle_name"),
    DropDeprecatedColumn("Person", "middle_name"),
    DropDeprecatedColumn("Person", "team", column="team_ref"),
    DeprecateTable("Legacy"),
    DropDeprecatedTable("Legacy"),
    DropDeprecatedTable("Legacy", db_table="old_legacy"),
    BatchedBackfill("Person", {"surname": F("last_name")}, where=Q(surname__isnull=True)),
    BatchedBackfill("Person", {"score": 0}, batch_size=100, pause_s=0.5, key="score-zero"),
    *NEW_PATHS,
]


def _written(operations: Sequence[migrations.operations.base.Operation]) -> str:
    migration = type("Migration", (migrations.Migration,), {"operations": operations})
    return MigrationWriter(migration("0002_zdt", "people")).as_string()


def test_writer_emits_the_frozen_public_import_path() -> None:
    text = _written(OPERATIONS)
    assert "import django_zero_downtime.operations\n" in text.splitlines(keepends=True)
    assert "django_zero_downtime.operations.rename" not in text
    assert "django_zero_downtime.operations.columns" not in text
    for operation in OPERATIONS:
        assert f"django_zero_downtime.operations.{type(operation).__name__}(" in text


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: type(op).__name__)
def test_round_trip_through_the_writer(operation: migrations.operations.base.Operation) -> None:
    namespace: dict[str, object] = {}
    exec(_written([operation]), namespace)
    (rebuilt,) = namespace["Migration"].operations  # type: ignore[attr-defined]
    assert type(rebuilt) is type(operation)
    assert _normal(rebuilt) == _normal(operation)


def _normal(operation: migrations.operations.base.Operation) -> tuple[object, ...]:
    """deconstruct(), with fields by their own deconstruction (fields compare by identity)."""
    name, args, kwargs = operation.deconstruct()
    kwargs = {key: _value(value) for key, value in kwargs.items()}
    return name, tuple(args), kwargs


def _value(value: object) -> object:
    if isinstance(value, models.Field):
        return value.deconstruct()[1:]
    if isinstance(value, list) and all(
        isinstance(v, migrations.operations.base.Operation) for v in value
    ):
        return [_normal(inner) for inner in value]
    return value


def test_public_names_live_in_the_public_module() -> None:
    for name in zdt_ops.__all__:
        assert getattr(zdt_ops, name).__module__ == "django_zero_downtime.operations"


@pytest.mark.parametrize(
    ("operation", "description", "fragment"),
    [
        (OPERATIONS[0], "Add field nickname to Person with a database default", "person_nickname"),
        (
            OPERATIONS[1],
            "Rename field last_name on Person to surname (dual-write phase)",
            "rename_last_name_person_surname",
        ),
        (
            OPERATIONS[3],
            "Complete renaming field last_name on Person to surname (drop the old column)",
            "complete_rename_last_name_person_surname",
        ),
        (
            OPERATIONS[4],
            "Deprecate field middle_name on Person (the column stays)",
            "deprecate_person_middle_name",
        ),
        (
            OPERATIONS[5],
            "Drop deprecated field middle_name from Person",
            "drop_deprecated_person_middle_name",
        ),
        (
            OPERATIONS[7],
            "Deprecate model Legacy (its table is renamed, not dropped)",
            "deprecate_legacy",
        ),
        (OPERATIONS[8], "Drop deprecated model Legacy's table", "drop_deprecated_legacy"),
        (
            OPERATIONS[10],
            "Backfill surname on Person in batches",
            "backfill_person_surname",
        ),
    ],
)
def test_describe_and_name_fragment(
    operation: migrations.operations.base.Operation, description: str, fragment: str
) -> None:
    assert operation.describe() == description
    assert operation.migration_name_fragment == fragment


def test_operations_with_different_arguments_are_not_equal() -> None:
    base = _normal(DualWriteRename("Person", "a", "b"))
    assert base == _normal(DualWriteRename("Person", "a", "b"))
    assert base != _normal(DualWriteRename("Person", "a", "c"))
    assert base != _normal(DualWriteRename("Person", "a", "b", batch_size=5))


def test_flags_for_the_linter_and_the_runner() -> None:
    non_atomic = {type(op).__name__ for op in OPERATIONS if op.requires_non_atomic_migration}
    gated = {type(op).__name__ for op in OPERATIONS if op.deploy_cycle_gated}
    assert non_atomic == {
        "DualWriteRename",
        "CompleteDualWriteRename",
        "BatchedBackfill",
        "AddIndexInSteps",
        "AddConstraintInSteps",
        "AddFieldInSteps",
        "AlterFieldInSteps",
        "EnforceField",
        "EnforceConstraint",
        "RetypeField",
        "CompleteRetypeField",
        "DualWriteColumnRename",
        "CompleteDualWriteColumnRename",
    }
    assert "CombinedAlterTable" not in non_atomic  # plain DDL: atomic like its operations
    assert gated == {"CompleteDualWriteRename", "DropDeprecatedColumn", "DropDeprecatedTable"}
