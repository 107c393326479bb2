"""Transaction rules (ZDT3xx)."""

from __future__ import annotations

from django.contrib.postgres.operations import (
    AddConstraintNotValid,
    AddIndexConcurrently,
    ValidateConstraint,
)
from django.db import migrations, models
from django.db.models import Q

from tests.lint.helpers import codes, lint

noop = migrations.RunPython.noop


def test_run_python_with_schema_change_in_one_atomic_migration() -> None:
    operations = [
        migrations.AddField("item", "extra", models.IntegerField(null=True)),
        migrations.RunPython(noop, noop),
    ]
    [finding] = lint(operations)
    assert (finding.rule, finding.operation_index, finding.operation) == ("ZDT301", 1, "RunPython")
    assert '"shop_item"' in finding.message
    assert codes(operations, atomic=False) == []


def test_run_python_alone_or_with_new_tables_only_is_fine() -> None:
    assert codes([migrations.RunPython(noop, noop)]) == []
    create = migrations.CreateModel("Box", [("id", models.BigAutoField(primary_key=True))])
    assert codes([create, migrations.RunPython(noop, noop)]) == []


def test_state_only_alter_field_is_not_a_schema_change() -> None:
    help_text = models.CharField(max_length=10, help_text="shown in forms")
    operations = [migrations.AlterField("item", "name", help_text), migrations.RunPython(noop)]
    assert codes(operations) == []


def test_run_sql_update_counts_as_a_data_migration() -> None:
    operations = [
        migrations.AddField("item", "extra", models.IntegerField(null=True)),
        migrations.RunSQL("UPDATE shop_item SET extra = 1"),
    ]
    assert codes(operations) == ["ZDT301"]


def test_concurrent_index_in_atomic_migration() -> None:
    index = models.Index(fields=["name"], name="item_name_idx")
    assert codes([AddIndexConcurrently("item", index)]) == ["ZDT302"]
    assert codes([AddIndexConcurrently("item", index)], atomic=False) == []


def test_validate_in_the_migration_that_added_the_constraint() -> None:
    check = models.CheckConstraint(condition=Q(count__gte=0), name="count_gte_0")
    both = [AddConstraintNotValid("item", check), ValidateConstraint("item", "count_gte_0")]
    assert codes(both) == ["ZDT304"]
    assert codes(both, atomic=False) == []
