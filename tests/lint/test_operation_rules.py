"""Operation rules (ZDT1xx): each positive and negative, judged against the state before."""

from __future__ import annotations

import pytest
from django.contrib.postgres.operations import (
    AddConstraintNotValid,
    AddIndexConcurrently,
    RemoveIndexConcurrently,
    ValidateConstraint,
)
from django.db import migrations, models
from django.db.models import Q

from tests.lint.helpers import codes, lint


def test_drop_column_flagged_with_filled_in_hint() -> None:
    [finding] = lint([migrations.RemoveField("item", "note")])
    assert (finding.rule, finding.name, finding.severity) == ("ZDT101", "drop-column", "error")
    assert '"shop_item"."note"' in finding.message
    assert 'zdt.DeprecateColumn("Item", "note")' in finding.hint
    assert 'zdt.DropDeprecatedColumn("Item", "note")' in finding.hint
    assert (finding.app, finding.migration, finding.operation_index) == ("shop", "0002_change", 0)
    assert finding.operation == "RemoveField"


def test_drop_many_to_many_drops_the_join_table() -> None:
    [finding] = lint([migrations.RemoveField("item", "tags")])
    assert finding.rule == "ZDT103"
    assert '"shop_item_tags"' in finding.message


def test_field_of_table_created_in_same_migration_is_safe() -> None:
    operations = [
        migrations.CreateModel("Box", [("id", models.BigAutoField(primary_key=True))]),
        migrations.AddField("box", "size", models.IntegerField()),
        migrations.AddIndex("box", models.Index(fields=["size"], name="box_size_idx")),
        migrations.RemoveField("box", "size"),
    ]
    assert codes(operations) == []


def test_rename_field_flagged_with_dual_write_hint() -> None:
    [finding] = lint([migrations.RenameField("item", "name", "title")])
    assert finding.rule == "ZDT102"
    assert 'zdt.DualWriteRename("Item", "name", "title")' in finding.hint
    assert 'db_column="name"' in finding.hint


def test_rename_field_keeping_db_column_is_state_only() -> None:
    assert codes([migrations.RenameField("item", "code", "sku")]) == []


def test_alter_field_db_column_change_is_a_rename() -> None:
    operation = migrations.AlterField("item", "code", models.CharField(max_length=20))
    assert codes([operation]) == ["ZDT102"]


def test_alter_field_adding_db_column_equal_to_name_is_not_a_rename() -> None:
    field = models.CharField(max_length=10, db_column="name")
    assert codes([migrations.AlterField("item", "name", field)]) == []


def test_delete_model_and_its_hint() -> None:
    [finding] = lint([migrations.DeleteModel("Item")])
    assert finding.rule == "ZDT103"
    assert 'zdt.DeprecateTable("Item")' in finding.hint


def test_unmanaged_and_proxy_models_have_no_table() -> None:
    operations = [
        migrations.CreateModel(
            "Ext", [("id", models.IntegerField(primary_key=True))], options={"managed": False}
        ),
    ]
    assert codes([*operations, migrations.DeleteModel("Ext")]) == []


def test_rename_model_renames_the_default_table() -> None:
    [finding] = lint([migrations.RenameModel("Item", "Product")])
    assert finding.rule == "ZDT104"
    assert 'db_table = "shop_item"' in finding.hint


def test_rename_model_with_explicit_db_table_is_state_only() -> None:
    operations = [
        migrations.AlterModelTable("category", "shop_category"),  # same as default: no change
        migrations.RenameModel("Category", "Kind"),
    ]
    assert codes(operations) == []


def test_alter_model_table_to_a_new_name() -> None:
    assert codes([migrations.AlterModelTable("item", "items")]) == ["ZDT104"]


@pytest.mark.parametrize(
    "field",
    [
        models.CharField(max_length=200),  # widen varchar
        models.TextField(),  # varchar -> text
        models.CharField(max_length=10, help_text="changed"),  # non-db attribute
        models.CharField(max_length=10, null=True),  # DROP NOT NULL
        models.CharField(max_length=10, default="x"),  # Python default: no SQL
        models.CharField(max_length=10, db_default="x"),  # SET DEFAULT: brief
    ],
)
def test_alter_field_changes_that_do_not_rewrite_are_not_flagged(field: models.Field) -> None:
    assert codes([migrations.AlterField("item", "name", field)]) == []


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("name", models.CharField(max_length=5)),  # shrink varchar
        ("name", models.IntegerField()),
        ("note", models.CharField(max_length=10, null=True)),  # text -> varchar(10)
        ("price", models.DecimalField(max_digits=8, decimal_places=3)),  # scale change
        ("count", models.BigIntegerField(default=0)),  # int -> bigint
    ],
)
def test_alter_field_type_changes_that_rewrite(name: str, field: models.Field) -> None:
    [finding] = lint([migrations.AlterField("item", name, field)])
    assert finding.rule == "ZDT105"
    assert "rewrites the table" in finding.message


def test_numeric_more_precision_same_scale_is_safe() -> None:
    field = models.DecimalField(max_digits=12, decimal_places=2)
    assert codes([migrations.AlterField("item", "price", field)]) == []


def test_set_not_null_flagged_with_check_constraint_hint() -> None:
    [finding] = lint([migrations.AlterField("item", "note", models.TextField())])
    assert finding.rule == "ZDT106"
    assert "AddConstraintNotValid" in finding.hint and "note__isnull=False" in finding.hint


def test_add_nullable_or_db_default_column_is_safe() -> None:
    operations = [
        migrations.AddField("item", "a", models.IntegerField(null=True)),
        migrations.AddField("item", "b", models.IntegerField(db_default=0)),
        migrations.AddField("item", "c", models.ManyToManyField("shop.Category")),
    ]
    assert codes(operations) == []


def test_three_operations_altering_one_table_warn_once() -> None:
    operations = [
        migrations.AddField("item", name, models.IntegerField(null=True)) for name in "abc"
    ]
    findings = lint(operations)
    assert [(f.rule, f.severity, f.operation_index) for f in findings] == [
        ("ZDT216", "warning", None)
    ]
    assert '3 separate ALTER TABLE statements on "shop_item"' in findings[0].message


def test_add_not_null_column_without_db_default() -> None:
    [finding] = lint([migrations.AddField("item", "stock", models.IntegerField(default=0))])
    assert finding.rule == "ZDT107"
    assert 'zdt.AddColumnWithDefault("Item", "stock", models.IntegerField(default=0))' in (
        finding.hint
    )


def test_add_identity_column_rewrites() -> None:
    operation = migrations.AddField("category", "seq", models.SmallAutoField(unique=True))
    assert "ZDT108" in codes([operation])


def test_add_indexed_unique_and_foreign_key_columns() -> None:
    assert codes(
        [migrations.AddField("item", "a", models.IntegerField(null=True, db_index=True))]
    ) == ["ZDT109"]
    assert codes(
        [migrations.AddField("item", "b", models.IntegerField(null=True, unique=True))]
    ) == ["ZDT110"]
    fk = models.ForeignKey("shop.Category", models.CASCADE, null=True, related_name="+")
    assert codes([migrations.AddField("item", "c", fk)]) == ["ZDT109"]  # the index only:
    # Django adds the constraint inline, and a column with no default is NULL in every
    # row, so PostgreSQL validates nothing (tests/sql: "ADD COLUMN x int REFERENCES p").
    unindexed = models.ForeignKey(
        "shop.Category", models.CASCADE, null=True, db_index=False, related_name="+"
    )
    assert codes([migrations.AddField("item", "e", unindexed)]) == []
    filled = models.ForeignKey(
        "shop.Category", models.CASCADE, db_default=1, db_index=False, related_name="+"
    )
    assert codes([migrations.AddField("item", "f", filled)]) == ["ZDT111"]
    no_constraint = models.ForeignKey(
        "shop.Category",
        models.CASCADE,
        null=True,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    assert codes([migrations.AddField("item", "d", no_constraint)]) == []


def test_alter_field_adding_index_or_unique() -> None:
    indexed = models.CharField(max_length=10, db_index=True)
    unique = models.CharField(max_length=10, unique=True)
    assert codes([migrations.AlterField("item", "name", indexed)]) == ["ZDT109"]
    assert codes([migrations.AlterField("item", "name", unique)]) == ["ZDT110"]


def test_alter_field_same_foreign_key_made_nullable_is_safe() -> None:
    fk = models.ForeignKey("shop.Category", models.CASCADE, null=True)
    assert codes([migrations.AlterField("item", "category", fk)]) == []


def test_add_index_and_its_concurrent_alternative() -> None:
    index = models.Index(fields=["name"], name="item_name_idx")
    [finding] = lint([migrations.AddIndex("item", index)])
    assert finding.rule == "ZDT109"
    assert "AddIndexConcurrently(\"Item\", models.Index(fields=['name']" in finding.hint
    assert codes([AddIndexConcurrently("item", index)], atomic=False) == []


def test_unique_together_and_unique_constraint() -> None:
    assert codes([migrations.AlterUniqueTogether("item", {("name", "price")})]) == ["ZDT110"]
    constraint = models.UniqueConstraint(fields=["name"], name="uniq_name")
    assert codes([migrations.AddConstraint("item", constraint)]) == ["ZDT110"]


def test_check_constraint_validated_under_lock_but_not_valid_is_safe() -> None:
    check = models.CheckConstraint(condition=Q(count__gte=0), name="count_gte_0")
    [finding] = lint([migrations.AddConstraint("item", check)])
    assert finding.rule == "ZDT112"
    assert 'ValidateConstraint("Item", "count_gte_0")' in finding.hint
    assert codes([AddConstraintNotValid("item", check)]) == []
    assert codes([ValidateConstraint("item", "count_gte_0")]) == []


def test_remove_index_warns_and_concurrent_removal_does_not() -> None:
    add = migrations.AddIndex("item", models.Index(fields=["name"], name="item_name_idx"))
    first = lint([add, migrations.RemoveIndex("item", "item_name_idx")])
    assert [f.rule for f in first] == ["ZDT109", "ZDT113"]
    assert first[1].severity == "warning"
    assert codes([add, RemoveIndexConcurrently("item", "item_name_idx")], atomic=False) == [
        "ZDT109"
    ]


def test_drop_database_default_of_not_null_column() -> None:
    add = migrations.AddField("item", "level", models.IntegerField(db_default=1))
    drop = migrations.AlterField("item", "level", models.IntegerField(default=1))
    assert codes([add, drop]) == ["ZDT114"]


class Mystery(migrations.operations.base.Operation):
    def state_forwards(self, app_label: str, state: object) -> None:
        pass

    def database_forwards(self, *args: object) -> None:
        raise RuntimeError("talks to an API")


def test_unknown_operation_is_a_warning_never_a_crash() -> None:
    findings = lint([Mystery()], collect=True)
    assert [(f.rule, f.severity) for f in findings] == [("ZDT190", "warning")]
    assert "tests.lint.test_operation_rules.Mystery" in findings[0].message


def test_unchanged_unique_together_and_kept_db_default_are_not_flagged() -> None:
    together = migrations.AlterUniqueTogether("item", {("name", "price")})
    assert codes([together, together]) == ["ZDT110"]  # the second one adds nothing
    add = migrations.AddField("item", "level", models.IntegerField(db_default=1))
    keep = migrations.AlterField("item", "level", models.IntegerField(db_default=2))
    assert codes([add, keep]) == []


def test_plain_integer_column_does_not_rewrite() -> None:
    operation = migrations.AddField("category", "rank", models.IntegerField(null=True))
    assert codes([operation]) == []


def test_foreign_key_hint_names_the_target_table_and_column() -> None:
    fk = models.ForeignKey(
        "shop.Category", models.CASCADE, db_default=1, db_index=False, related_name="+"
    )
    [finding] = lint([migrations.AddField("item", "main", fk)])
    assert finding.rule == "ZDT111"
    assert 'FOREIGN KEY ("main_id") REFERENCES "shop_category" ("id") NOT VALID' in finding.hint


def test_volatile_db_default_rewrites_and_stable_one_does_not() -> None:
    from django.contrib.postgres.functions import RandomUUID
    from django.db.models.functions import Now

    volatile = migrations.AddField("item", "key", models.UUIDField(db_default=RandomUUID()))
    clock = models.DateTimeField(db_default=models.Func(function="clock_timestamp"))
    stable = migrations.AddField("item", "at", models.DateTimeField(db_default=Now()))
    assert codes([volatile]) == ["ZDT108"]
    assert codes([migrations.AddField("item", "clock", clock)]) == ["ZDT108"]
    assert codes([stable]) == []


def test_dropping_the_identity_breaks_old_inserts() -> None:
    to_integer = migrations.AlterField("category", "id", models.BigIntegerField(primary_key=True))
    [finding] = lint([to_integer])
    assert (finding.rule, finding.severity, finding.operation_index) == ("ZDT114", "error", 0)


def test_default_dropped_and_restored_in_one_transaction_is_not_reported() -> None:
    add = migrations.AddField("item", "level", models.IntegerField(db_default=1))
    drop = migrations.AlterField("item", "level", models.IntegerField())
    restore = migrations.AlterField("item", "level", models.IntegerField(db_default=3))
    assert codes([add, drop, restore]) == ["ZDT216"]  # three ALTER TABLEs, but no break
    assert sorted(codes([add, drop, restore], atomic=False)) == ["ZDT114", "ZDT216"]


def test_set_not_null_proved_by_a_check_validated_in_an_earlier_migration() -> None:
    from django.contrib.postgres.operations import AddConstraintNotValid, ValidateConstraint

    from django_zero_downtime.lint.collect import offline_connection
    from django_zero_downtime.lint.engine import Linter
    from tests.lint.helpers import initial_operations, make_migration

    check = models.CheckConstraint(condition=models.Q(note__isnull=False), name="note_nn")
    steps = [
        make_migration("0001_initial", initial_operations()),
        make_migration("0002_check", [AddConstraintNotValid("item", check)]),
        make_migration("0003_validate", [ValidateConstraint("item", "note_nn")], atomic=False),
        make_migration(
            "0004_not_null", [migrations.AlterField("item", "note", models.TextField())]
        ),
    ]
    result = Linter(offline_connection("default")).run(steps, {("shop", "0004_not_null")})
    assert [f.rule for f in result.findings] == []
    unvalidated = [steps[0], steps[1], steps[3]]
    result = Linter(offline_connection("default")).run(unvalidated, {("shop", "0004_not_null")})
    assert [f.rule for f in result.findings] == ["ZDT106"]


def test_not_null_hint_never_suggests_an_operation_that_refuses_the_field() -> None:
    import uuid

    callable_default = models.UUIDField(default=uuid.uuid4)
    [finding] = lint([migrations.AddField("item", "token", callable_default)])
    assert finding.rule == "ZDT107" and "cannot add it" in finding.hint
    assert "zdt.AddColumnWithDefault(" not in finding.hint
    constant = models.IntegerField(default=0)
    [finding] = lint([migrations.AddField("item", "level", constant)])
    assert 'zdt.AddColumnWithDefault("Item", "level"' in finding.hint


def test_unique_constraint_hint_keeps_condition_include_and_deferrable() -> None:
    partial = models.UniqueConstraint(
        fields=["name"], name="item_name_uq", condition=models.Q(count__gt=0), include=["code"]
    )
    [finding] = lint([migrations.AddConstraint("item", partial)])
    assert 'CREATE UNIQUE INDEX CONCURRENTLY "item_name_uq" ON "shop_item" ("name")' in finding.hint
    assert 'INCLUDE ("legacy_code") WHERE "count" > 0' in finding.hint
    assert "USING INDEX" not in finding.hint  # a partial index cannot back a constraint
    deferred = models.UniqueConstraint(
        fields=["name"], name="item_name_uq", deferrable=models.Deferrable.DEFERRED
    )
    [finding] = lint([migrations.AddConstraint("item", deferred)])
    assert 'USING INDEX "item_name_uq" DEFERRABLE INITIALLY DEFERRED' in finding.hint


def test_exclusion_constraint_and_stored_generated_column_say_there_is_no_online_path() -> None:
    from django.contrib.postgres.constraints import ExclusionConstraint

    exclusion = ExclusionConstraint(name="no_overlap", expressions=[("count", "=")])
    [finding] = lint([migrations.AddConstraint("item", exclusion)])
    assert finding.rule == "ZDT110" and "no online path" in finding.hint
    generated = models.GeneratedField(
        expression=models.F("count") * 2, output_field=models.IntegerField(), db_persist=True
    )
    [finding] = lint([migrations.AddField("item", "double", generated)])
    assert finding.rule == "ZDT108" and "no online path" in finding.hint


def test_index_names_in_hints_are_qualified_by_the_table() -> None:
    field = models.IntegerField(null=True, db_index=True)
    [finding] = lint([migrations.AddField("item", "a_rather_long_field_name", field)])
    name = finding.hint.split('name="')[1].split('"')[0]
    assert name.startswith("shop_item_") and len(name) <= 30
