"""Deprecate, wait ZDT_DEPRECATION_CYCLES deploy cycles, then drop: columns and tables."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, models
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings

from django_zero_downtime.exceptions import RefusedByRule, ZeroDowntimeError
from django_zero_downtime.models import Deprecation
from django_zero_downtime.operations import (
    CompleteDualWriteRename,
    DeprecateColumn,
    DeprecateTable,
    DropDeprecatedColumn,
    DropDeprecatedTable,
    DualWriteRename,
)
from tests.operations.conftest import Lab, person_fields, release

TABLE = "zdtlab_person"


def columns(lab: Lab, table: str = TABLE) -> list[str]:
    rows = lab.sql(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) "
        "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        [f'"{table}"'],
    )
    return [row[0] for row in rows]


def deprecated_person(lab: Lab) -> Lab:
    release("v1")
    lab.create("Person", person_fields())
    lab.apply(DeprecateColumn("Person", "last_name"))
    return lab


def test_deprecate_column_keeps_both_releases_working(lab: Lab) -> None:
    deprecated_person(lab)
    assert "last_name" in columns(lab)
    current = lab.model("Person")
    assert "last_name" not in [f.name for f in current._meta.get_fields()]
    current.objects.create(first_name="new")  # NOT NULL was dropped
    lab.model("Person", lab.history[-2]).objects.create(first_name="old", last_name="x")
    recorded = Deprecation.objects.get(table=TABLE)
    assert (recorded.kind, recorded.column, recorded.deprecated_in_cycle) == (
        "column",
        "last_name",
        1,
    )


@pytest.mark.parametrize("passed", [0, 1, 2])
def test_drop_is_refused_before_three_cycles(lab: Lab, passed: int) -> None:
    deprecated_person(lab)
    for n in range(passed):
        release(f"v{n + 2}")
    with pytest.raises(RefusedByRule) as refused:
        lab.apply(DropDeprecatedColumn("Person", "last_name"))
    remaining = 3 - passed
    assert f"{passed} of the required 3 deploy cycles" in str(refused.value)
    assert f"{remaining} more release" in str(refused.value)
    assert "last_name" in columns(lab)


def test_drop_is_allowed_after_three_cycles(lab: Lab) -> None:
    deprecated_person(lab)
    for label in ("v2", "v3", "v4"):
        release(label)
    lab.apply(DropDeprecatedColumn("Person", "last_name"))
    assert columns(lab) == ["id", "first_name"]
    assert Deprecation.objects.get(table=TABLE).dropped_at is not None


@override_settings(ZDT_DEPRECATION_CYCLES=1)
def test_number_of_cycles_is_configurable(lab: Lab) -> None:
    deprecated_person(lab)
    with pytest.raises(RefusedByRule, match="0 of the required 1"):
        lab.apply(DropDeprecatedColumn("Person", "last_name"))
    release("v2")
    lab.apply(DropDeprecatedColumn("Person", "last_name"))
    assert "last_name" not in columns(lab)


def test_drop_without_a_recorded_deprecation_is_refused(lab: Lab) -> None:
    lab.create("Person", person_fields())
    lab.apply(DeprecateColumn("Person", "last_name"))
    Deprecation.objects.all().delete()
    with pytest.raises(RefusedByRule, match="no deprecation of it is recorded"):
        lab.apply(DropDeprecatedColumn("Person", "last_name"))


def test_deprecated_foreign_key_no_longer_blocks_deleting_the_parent(lab: Lab) -> None:
    Team = lab.create("Team", [("id", models.BigAutoField(primary_key=True))])
    fields = [*person_fields(), ("team", models.ForeignKey("zdtlab.Team", models.CASCADE))]
    lab.create("Person", fields)
    team = Team.objects.create()
    lab.model("Person").objects.create(first_name="a", last_name="b", team_id=team.pk)
    lab.apply(DeprecateColumn("Person", "team"))
    lab.model("Team").objects.filter(pk=team.pk).delete()  # the current code knows no child
    for label in ("v2", "v3", "v4"):
        release(label)
    lab.apply(DropDeprecatedColumn("Person", "team"))
    assert "team_id" not in columns(lab)


def test_deprecate_then_drop_unapply_restores_the_column(lab: Lab) -> None:
    deprecated_person(lab)
    with override_settings(ZDT_DEPRECATION_CYCLES=0):
        drop = lab.apply(DropDeprecatedColumn("Person", "last_name"))
    assert drop and "last_name" not in columns(lab)
    lab.unapply(DropDeprecatedColumn("Person", "last_name"))
    lab.unapply(DeprecateColumn("Person", "last_name"))
    assert "last_name" in columns(lab)
    with pytest.raises(IntegrityError):
        lab.sql(f"INSERT INTO {TABLE} (first_name) VALUES ('x')")


def test_table_deprecation_keeps_the_previous_release_working(lab: Lab) -> None:
    release("v1")
    lab.create("Person", person_fields())
    lab.apply(DeprecateTable("Person"))
    assert ("zdtlab", "person") not in lab.state.models
    previous = lab.model("Person", lab.history[-2])
    row = previous.objects.create(first_name="a", last_name="b")
    previous.objects.filter(pk=row.pk).update(last_name="c")
    assert previous.objects.get(pk=row.pk).last_name == "c"
    previous.objects.filter(pk=row.pk).delete()
    assert lab.sql("SELECT relkind FROM pg_class WHERE relname = %s", [TABLE]) == [("v",)]


def test_table_drop_is_gated_and_then_drops_view_and_table(lab: Lab) -> None:
    release("v1")
    lab.create("Person", person_fields())
    lab.apply(DeprecateTable("Person"))
    release("v2")
    with pytest.raises(RefusedByRule, match="2 more releases needed"):
        lab.apply(DropDeprecatedTable("Person"))
    for label in ("v3", "v4"):
        release(label)
    lab.apply(DropDeprecatedTable("Person"))
    assert lab.sql("SELECT count(*) FROM pg_class WHERE relname LIKE %s", ["%zdtlab_person"]) == [
        (0,)
    ]


def test_table_deprecation_unapplies(lab: Lab) -> None:
    lab.create("Person", person_fields())
    lab.apply(DeprecateTable("Person"))
    lab.unapply(DeprecateTable("Person"))
    lab.model("Person").objects.create(first_name="a", last_name="b")
    assert lab.sql("SELECT relkind FROM pg_class WHERE relname = %s", [TABLE]) == [("r",)]
    assert not Deprecation.objects.exists()


def test_complete_rename_is_gated_from_the_dual_write_release(lab: Lab) -> None:
    release("v2")
    Person = lab.create("Person", person_fields())
    Person.objects.create(first_name="a", last_name="b")
    lab.apply(DualWriteRename("Person", "last_name", "surname"), atomic=False)
    complete = CompleteDualWriteRename("Person", "last_name", "surname")
    for label in ("v3", "v4"):
        release(label)
        with pytest.raises(RefusedByRule, match="last_name"):
            lab.apply(complete, atomic=False)
    release("v5")
    lab.apply(complete, atomic=False)
    assert columns(lab) == ["id", "first_name", "surname"]
    assert lab.sql(f"SELECT surname FROM {TABLE}") == [("b",)]
    assert lab.sql("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'zdt%%'") == [(0,)]
    assert lab.sql(
        "SELECT attnotnull FROM pg_attribute WHERE attname = 'surname' "
        f"AND attrelid = '{TABLE}'::regclass"
    ) == [(True,)]
    checks = f"SELECT count(*) FROM pg_constraint WHERE conrelid = '{TABLE}'::regclass"
    assert lab.sql(checks + " AND contype = 'c'") == [(0,)]


def test_complete_rename_unapplies_back_to_dual_write(lab: Lab) -> None:
    lab.create("Person", person_fields())
    lab.apply(DualWriteRename("Person", "last_name", "surname"), atomic=False)
    complete = CompleteDualWriteRename("Person", "last_name", "surname")
    with override_settings(ZDT_DEPRECATION_CYCLES=0):
        lab.apply(complete, atomic=False)
    lab.unapply(complete)
    lab.sql(f"INSERT INTO {TABLE} (first_name, last_name) VALUES ('a', 'old')")
    assert lab.sql(f"SELECT surname FROM {TABLE}") == [("old",)]


def test_missing_ledger_says_which_dependency_to_add(lab: Lab) -> None:
    lab.create("Person", person_fields())
    executor = MigrationExecutor(connection)
    executor.migrate([("django_zero_downtime", None)])
    try:
        with pytest.raises(ZeroDowntimeError) as missing:
            lab.apply(DeprecateColumn("Person", "last_name"))
        assert '("django_zero_downtime", "0001_initial")' in str(missing.value)
        assert "dependencies" in str(missing.value)
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes("django_zero_downtime"))


@override_settings(ZDT_DEPRECATION_CYCLES=0)
def test_complete_rename_runs_again_after_an_interrupted_apply(lab: Lab) -> None:
    lab.create("Person", person_fields())
    lab.apply(DualWriteRename("Person", "last_name", "surname"), atomic=False)
    complete = CompleteDualWriteRename("Person", "last_name", "surname")
    lab.apply(complete, atomic=False)
    with connection.schema_editor(atomic=False) as editor:
        complete.database_forwards("zdtlab", editor, lab.history[-2], lab.state)
    assert columns(lab) == ["id", "first_name", "surname"]


@override_settings(ZDT_DEPRECATION_CYCLES=0)
def test_table_drop_names_foreign_keys_still_pointing_at_it(lab: Lab) -> None:
    lab.create("Person", person_fields())
    fields = [
        ("id", models.BigAutoField(primary_key=True)),
        ("person", models.ForeignKey("zdtlab.Person", models.CASCADE)),
    ]
    lab.create("Pet", fields)
    lab.apply(DeprecateColumn("Pet", "person"))  # drops its FK constraint
    lab.create(
        "Badge",
        [
            ("id", models.BigAutoField(primary_key=True)),
            ("person", models.ForeignKey("zdtlab.Person", models.CASCADE)),
        ],
    )
    lab.apply(DeprecateTable("Person"))
    with pytest.raises(ZeroDowntimeError, match=r"zdtlab_badge \(zdtlab_badge_person_id_"):
        lab.apply(DropDeprecatedTable("Person"))
    assert lab.sql("SELECT relkind FROM pg_class WHERE relname = %s", [TABLE]) == [("v",)]


def test_foreign_key_drop_is_judged_by_its_column_also_when_only_collecting_sql(lab: Lab) -> None:
    """``safemigrate --plan`` collects SQL and judges the gate: the ledger has ``team_id``."""
    lab.create("Team", [("id", models.BigAutoField(primary_key=True))])
    fields = [*person_fields(), ("team", models.ForeignKey("zdtlab.Team", models.CASCADE))]
    lab.create("Person", fields)
    lab.apply(DeprecateColumn("Person", "team"))
    assert Deprecation.objects.get(table=TABLE).column == "team_id"
    drop = DropDeprecatedColumn("Person", "team")
    with (
        override_settings(ZDT_DEPRECATION_CYCLES=0),
        connection.schema_editor(collect_sql=True) as editor,
    ):
        drop.database_forwards("zdtlab", editor, lab.state, lab.state)
    assert any('DROP COLUMN IF EXISTS "team_id"' in sql for sql in editor.collected_sql)
    with (
        connection.schema_editor(collect_sql=True) as editor,
        pytest.raises(RefusedByRule, match="team_id"),
    ):
        drop.database_forwards("zdtlab", editor, lab.state, lab.state)


@override_settings(ZDT_DEPRECATION_CYCLES=0)
def test_table_with_a_many_to_many_field_takes_its_join_table_along(lab: Lab) -> None:
    release("v1")
    lab.create("Tag", [("id", models.BigAutoField(primary_key=True))])
    lab.create("Person", [*person_fields(), ("tags", models.ManyToManyField("zdtlab.Tag"))])
    lab.apply(DeprecateTable("Person"))
    previous = lab.model("Person", lab.history[-2])
    tag = lab.model("Tag", lab.history[-2]).objects.create()
    person = previous.objects.create(first_name="a", last_name="b")
    person.tags.add(tag)  # the previous release links through the join table's view
    assert list(previous.objects.get(pk=person.pk).tags.all()) == [tag]
    person.tags.remove(tag)
    kinds = lab.sql(
        "SELECT relname, relkind FROM pg_class WHERE relname IN (%s, %s)",
        [TABLE, "zdtlab_person_tags"],
    )
    assert sorted(kinds) == [("zdtlab_person", "v"), ("zdtlab_person_tags", "v")]
    lab.apply(DropDeprecatedTable("Person"))
    left = lab.sql("SELECT relname FROM pg_class WHERE relname LIKE %s", ["%zdtlab_person%"])
    assert left == []
    lab.model("Tag").objects.create()  # the other side is untouched
    lab.unapply(DropDeprecatedTable("Person"))
