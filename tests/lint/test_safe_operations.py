"""This project's operations and the other safe changes produce no error finding."""

from __future__ import annotations

import pytest
from django.contrib.postgres.operations import AddConstraintNotValid, AddIndexConcurrently
from django.db import migrations, models
from django.db.migrations.operations.base import Operation
from django.db.models import Q

from django_zero_downtime import operations as zdt
from tests.lint.helpers import codes, lint


def safe_changes() -> list[Operation]:
    return [
        migrations.CreateModel("Box", [("id", models.BigAutoField(primary_key=True))]),
        migrations.AddField("item", "a", models.IntegerField(null=True)),
        migrations.AddField("item", "b", models.IntegerField(db_default=0)),
        migrations.AlterField("item", "name", models.CharField(max_length=99)),
        migrations.AlterField("item", "note", models.TextField(null=True, help_text="x")),
        migrations.AlterModelOptions("item", {"verbose_name": "thing"}),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveField("item", "count")]
        ),
        AddConstraintNotValid(
            "item", models.CheckConstraint(condition=Q(price__gte=0), name="price_gte_0")
        ),
        zdt.AddColumnWithDefault("item", "c", models.IntegerField(default=1)),
        zdt.DeprecateColumn("item", "code"),
        zdt.DropDeprecatedColumn("item", "code"),
        zdt.DeprecateTable("Category"),
    ]


@pytest.mark.parametrize("collect", [False, True])
def test_safe_changes_produce_no_error(collect: bool) -> None:
    findings = lint(safe_changes(), collect=collect)
    assert [f for f in findings if f.is_error] == []


def test_safe_changes_in_a_non_atomic_migration_with_concurrent_index() -> None:
    index = models.Index(fields=["name"], name="item_name_idx")
    operations = [
        zdt.DualWriteRename("item", "name", "title"),
        AddIndexConcurrently("item", index),
        zdt.BatchedBackfill("item", {"title": "x"}),
        zdt.CompleteDualWriteRename("item", "name", "title"),
    ]
    assert codes(operations, atomic=False) == []


@pytest.mark.parametrize(
    "operation",
    [
        zdt.DualWriteRename("item", "name", "title"),
        zdt.BatchedBackfill("item", {"name": "x"}),
    ],
)
def test_step_by_step_operations_need_atomic_false(operation: Operation) -> None:
    [finding] = lint([operation])
    assert (finding.rule, finding.name) == ("ZDT303", "needs-atomic-false")
    assert "atomic = False" in finding.hint
