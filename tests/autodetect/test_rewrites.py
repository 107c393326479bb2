"""Which operations makemigrations writes for each edit, and the contract split (no database)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import migrations, models
from django.db.models.functions import Now, Random

from django_zero_downtime import operations as zdt
from django_zero_downtime.autodetect.autodetector import rewrite_changes, rewrite_operations
from django_zero_downtime.autodetect.phases import mark_contract
from tests.lint.helpers import make_migration
from tests.lint.test_autodetector import shop_state


def rewrite(*operations: Any) -> list[type]:
    return [type(op) for op in rewrite_operations("shop", list(operations), shop_state())]


CHECK = models.CheckConstraint(condition=models.Q(count__gte=0), name="count_gte_0")
UNIQUE = models.UniqueConstraint(fields=["name", "note"], name="name_note_uniq")


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        (migrations.AddConstraint("item", UNIQUE), [zdt.AddConstraintInSteps]),
        (migrations.AddConstraint("item", CHECK), [zdt.DeclareModelChange, zdt.EnforceConstraint]),
        (
            migrations.AlterField("item", "name", models.CharField(max_length=10, db_index=True)),
            [zdt.AlterFieldInSteps],
        ),
        (
            migrations.AlterField("item", "name", models.CharField(max_length=10, unique=True)),
            [zdt.AlterFieldInSteps],
        ),
        (
            migrations.AlterField("item", "note", models.TextField(default="")),
            [zdt.DeclareModelChange, zdt.EnforceField],
        ),
        (
            migrations.AddField(
                "item", "other", models.ForeignKey("shop.Category", models.CASCADE, null=True)
            ),
            [zdt.AddFieldInSteps],
        ),
        (
            migrations.AddField("item", "token", models.UUIDField(default=uuid.uuid4)),
            [zdt.AddFieldInSteps],
        ),
        (
            migrations.AddField("item", "data", models.JSONField(default=dict)),
            [zdt.AddFieldInSteps],
        ),
        (
            migrations.AddField("item", "score", models.FloatField(db_default=Random())),
            [zdt.AddFieldInSteps],
        ),
        (
            migrations.AddField("item", "seen", models.DateTimeField(db_default=Now())),
            [migrations.AddField],
        ),
        (
            migrations.AlterField("item", "note", models.TextField(null=True, help_text="x")),
            [migrations.AlterField],
        ),
        (migrations.DeleteModel("Category"), [zdt.DeprecateTable]),
        (migrations.RenameModel("Item", "Product"), [zdt.RenameModelWithView]),
        (
            migrations.AlterField("item", "count", models.BigIntegerField(default=0)),
            [zdt.DeclareModelChange, zdt.RetypeField, zdt.CompleteRetypeField],
        ),
        (
            migrations.AlterField("item", "name", models.CharField(max_length=5)),
            [zdt.DeclareModelChange, zdt.RetypeField, zdt.CompleteRetypeField],
        ),
        (
            migrations.AlterField("item", "name", models.CharField(max_length=50)),
            [migrations.AlterField],  # widening varchar: catalog only
        ),
        (
            migrations.AlterField("item", "count", models.CharField(max_length=5)),
            [migrations.AlterField],  # no plain cast path: left to Django, reported
        ),
    ],
    ids=lambda value: "" if isinstance(value, list) else type(value).__name__,
)
def test_each_edit_gets_its_path(operation: Any, expected: list[type]) -> None:
    assert rewrite(operation) == expected


def test_exclusion_constraints_are_left_to_django_and_refused_by_the_operation() -> None:
    from django.contrib.postgres.constraints import ExclusionConstraint

    exclusion = ExclusionConstraint(name="no_overlap", expressions=[("name", "=")])
    assert rewrite(migrations.AddConstraint("item", exclusion)) == [migrations.AddConstraint]
    with pytest.raises(Exception, match="no NOT VALID or USING INDEX form"):
        zdt.AddConstraintInSteps("item", exclusion)


def test_contract_steps_move_to_their_own_last_migration() -> None:
    first = make_migration("auto_1", [migrations.AddConstraint("item", CHECK)])
    first.dependencies = [("shop", "0001_initial")]  # type: ignore[misc]
    second = make_migration(
        "auto_2", [migrations.AddField("item", "n", models.IntegerField(null=True))]
    )
    second.dependencies = [("shop", "auto_1")]  # type: ignore[misc]
    out = rewrite_changes({"shop": [first, second]}, shop_state())["shop"]
    assert [m.name for m in out] == ["auto_1", "auto_2", "auto_2_contract"]
    contract = out[-1]
    assert [type(op) for op in contract.operations] == [zdt.EnforceConstraint]
    assert contract.zero_downtime_phase == "contract"  # type: ignore[attr-defined]
    assert contract.atomic is False and ("shop", "auto_2") in contract.dependencies
    assert [type(op) for op in out[0].operations] == [zdt.DeclareModelChange]


def test_mark_contract_adds_the_attribute_once(tmp_path: Any) -> None:
    path = tmp_path / "0003_x.py"
    path.write_text("class Migration(migrations.Migration):\n\n    atomic = False\n\n    x = 1\n")
    mark_contract(str(path))
    mark_contract(str(path))
    text = path.read_text()
    assert text.count('zero_downtime_phase = "contract"') == 1
    assert text.index("atomic = False") < text.index("zero_downtime_phase")


def test_a_removed_and_an_added_field_of_the_same_kind_is_a_likely_rename() -> None:
    from django_zero_downtime.autodetect.guesses import likely_renames, refusal

    migration = make_migration(
        "auto_1",
        [
            migrations.RemoveField("item", "name"),
            migrations.AddField("item", "title", models.CharField(max_length=10)),
            migrations.AddField("item", "other", models.CharField(max_length=11)),
        ],
    )
    found = likely_renames({"shop": [migration]}, shop_state())
    assert found == ["shop.item: name -> title"]
    assert "without --noinput" in refusal(found)
    assert "--rename shop.item.name:title" in refusal(found)
