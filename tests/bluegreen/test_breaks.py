"""Each kind of break is caught by the check *and* really breaks the previous release's
models on PostgreSQL; each safe pattern passes the check *and* the old models keep working."""

from __future__ import annotations

import pytest
from django.db import migrations, models
from django.db.migrations.operations.base import Operation
from django.db.models import Q

from django_zero_downtime.testing import OldCodeBroken, exercise_model
from tests.bluegreen.scenarios import APP, add, alter, apply_for_real, check, rules

AGE = Q(age__lte=150)
MGR = "manager_id"
TEXT = models.TextField()

BREAKS: dict[str, tuple[list[Operation], str]] = {
    "drop column": ([migrations.RemoveField("person", "last_name")], "ZDT502"),
    "rename column": ([migrations.RenameField("person", "last_name", "surname")], "ZDT502"),
    "rename column by db_column": (
        [alter("last_name", models.CharField(max_length=100, db_column="surname"))],
        "ZDT502",
    ),
    "drop table": ([migrations.DeleteModel("person")], "ZDT501"),
    "rename table": ([migrations.RenameModel("person", "human")], "ZDT501"),
    "type shrink varchar": (
        [alter("first_name", models.CharField(max_length=20))],
        "ZDT503",
    ),
    "type shrink integer": (
        [alter("age", models.SmallIntegerField(null=True))],
        "ZDT503",
    ),
    "type change": (
        [alter("nickname", models.IntegerField(null=True))],
        "ZDT503",
    ),
    "NOT NULL column without default": (
        [add("email", models.CharField(max_length=50, default="x"))],
        "ZDT504",
    ),
    "nullable column made NOT NULL": (
        [alter("nickname", models.CharField(max_length=50, default=""))],
        "ZDT505",
    ),
    "new CHECK that old writes violate": (
        [migrations.AddConstraint("person", models.CheckConstraint(condition=AGE, name="age_ok"))],
        "ZDT506",
    ),
    "new foreign key on a written column": (
        [alter(MGR, models.ForeignKey("self", models.DO_NOTHING, null=True, db_column=MGR))],
        "ZDT509",
    ),
    "database default removed": (
        [alter("score", models.IntegerField(default=0))],
        "ZDT508",
    ),
}  # fmt: skip

SAFE: dict[str, list[Operation]] = {
    "nullable add": [add("email", models.CharField(max_length=50, null=True))],
    "db_default add": [
        add("email", models.CharField(max_length=50, db_default="none"))
    ],
    "new table": [migrations.CreateModel("Pet", [("id", models.BigAutoField(primary_key=True))])],
    "widen varchar": [alter("first_name", models.CharField(max_length=200))],
    "varchar to text": [alter("first_name", TEXT)],
    "int to bigint": [alter("age", models.BigIntegerField(null=True))],
    "drop NOT NULL": [alter("first_name", models.CharField(max_length=100, null=True))],
    "add index": [migrations.AddIndex("person", models.Index(fields=["last_name"], name="p_last"))],
    "stop using a column (state only)": [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveField("person", "last_name")]
        )
    ],
}  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("case", BREAKS, ids=list(BREAKS))
def test_break_is_caught_and_real(case: str) -> None:
    operations, rule = BREAKS[case]
    findings = check(operations)
    assert rule in rules(findings), findings
    finding = next(f for f in findings if f.rule == rule)
    assert (finding.app, finding.migration, finding.operation_index) == (APP, "0002_new", 0)
    assert "compatapp.Person" in finding.message
    old_models = apply_for_real(operations)
    with pytest.raises(OldCodeBroken):
        exercise_model(old_models.get_model(APP, "Person"))


@pytest.mark.django_db
@pytest.mark.parametrize("case", SAFE, ids=list(SAFE))
def test_safe_pattern_passes_and_works(case: str) -> None:
    assert check(SAFE[case]) == []
    old_models = apply_for_real(SAFE[case])
    assert exercise_model(old_models.get_model(APP, "Person")) == 8


def test_finding_names_model_field_and_migration() -> None:
    [finding] = check([], [migrations.RemoveField("person", "last_name")])
    assert finding.migration == "0003_new"
    assert finding.operation == "RemoveField"
    assert "compatapp.Person.last_name (column compatapp_person.last_name)" in finding.message
    assert "DeprecateColumn" in finding.hint
    assert finding.severity == "error"


def test_fixed_within_one_atomic_migration_passes() -> None:
    """NOT NULL added and given a database default in the same atomic migration: no one saw
    the intermediate schema."""
    operations: list[Operation] = [
        add("email", models.CharField(max_length=50, default="x")),
        alter("email", models.CharField(max_length=50, db_default="x")),
    ]
    assert check(operations) == []


def test_intermediate_state_between_migrations_is_judged() -> None:
    """The previous release serves traffic between migration 0002 and 0003."""
    findings = check(
        [add("email", models.CharField(max_length=50, default="x"))],
        [alter("email", models.CharField(max_length=50, db_default="x"))],
    )
    assert [(f.rule, f.migration) for f in findings] == [("ZDT504", "0002_new")]


def test_non_atomic_migration_is_judged_after_each_operation() -> None:
    from django.db import connection

    from django_zero_downtime.bluegreen.compatibility import find_breaks
    from tests.bluegreen.scenarios import migration, previous_state

    operations: list[Operation] = [
        add("email", models.CharField(max_length=50, default="x")),
        alter("email", models.CharField(max_length=50, db_default="x")),
    ]
    step = (APP, migration("0002_new", operations, atomic=False))
    findings = find_breaks(previous_state(), [step], connection)
    assert [(f.rule, f.operation_index) for f in findings] == [("ZDT504", 0)]


def test_unique_constraint_is_a_warning() -> None:
    [finding] = check(
        [
            migrations.AlterField(
                "person", "last_name", models.CharField(max_length=100, unique=True)
            )
        ]
    )
    assert (finding.rule, finding.severity) == ("ZDT507", "warning")  # fmt: skip


def test_dropping_a_state_only_removed_column_later_still_passes_for_this_release() -> None:
    """Release N already stopped using last_name (state-only removal shipped before)."""
    stop_using = migrations.SeparateDatabaseAndState(
        state_operations=[migrations.RemoveField("person", "last_name")]
    )
    assert check([stop_using], [add("x", models.IntegerField(null=True))]) == []


def test_approved_break_is_a_warning_with_its_reason() -> None:
    from django.db import connection

    from django_zero_downtime.bluegreen.compatibility import find_breaks
    from tests.bluegreen.scenarios import migration, previous_state

    step = migration("0002_new", [migrations.RemoveField("person", "last_name")])
    step.zero_downtime = {"ZDT502": "previous release is already gone (maintenance window)"}
    [finding] = find_breaks(previous_state(), [(APP, step)], connection)
    assert finding.severity == "warning"
    assert "Approved: previous release is already gone" in finding.message


class Unreplayable(migrations.RunPython):
    def state_forwards(self, app_label: str, state: object) -> None:
        raise ValueError("needs a model that is not there")


def test_operation_that_cannot_be_replayed_is_a_clear_error() -> None:
    from django_zero_downtime.exceptions import ZeroDowntimeError

    with pytest.raises(
        ZeroDowntimeError, match=r"compatapp\.0002_new, operation 0 \(Unreplayable\)"
    ):
        check([Unreplayable(migrations.RunPython.noop)])
