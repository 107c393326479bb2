"""The plan's states reused by the apply (runner/plan.py StateTrail): applying does not
replay the history a second time, and operations inserted after the plan are handled."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, migrations, models
from django.db.migrations.state import ModelState, ProjectState

from django_zero_downtime.runner.apply import Applier
from django_zero_downtime.runner.plan import StateTrail
from tests.runner.conftest import CREATE_ITEM, MigrationsPackage, migration, safemigrate


def _state(models_count: int = 1) -> ProjectState:
    state = ProjectState()
    for number in range(models_count):
        fields: list[tuple[str, models.Field[Any, Any]]] = [
            ("id", models.AutoField(primary_key=True))
        ]
        state.add_model(ModelState("shop", f"m{number}", fields))
    return state


def test_each_operation_gets_the_state_before_it_and_the_one_after() -> None:
    first, second = migrations.RunSQL("SELECT 1"), migrations.RunSQL("SELECT 2")
    s0, s1, final = _state(), _state(), _state()
    trail = StateTrail()
    trail.keep(first, s0)
    trail.keep(second, s1)
    trail.finish(final)
    assert trail.states(first) == (s0, s1)
    assert trail.states(second) == (s1, final)
    assert trail.states(migrations.RunSQL("SELECT 3")) is None


def test_a_full_trail_stops_keeping_and_leaves_the_rest_to_the_replay() -> None:
    ops = [migrations.RunSQL(f"SELECT {n}") for n in range(3)]
    trail = StateTrail(limit=2)
    for operation in ops:
        trail.keep(operation, _state(2))
    trail.finish(_state(2))
    assert trail.states(ops[0]) is not None
    assert trail.states(ops[1]) is None  # its to_state was never kept
    assert trail.states(ops[2]) is None and trail.final is None


def _applier(trail: StateTrail) -> Applier:
    applier = Applier(connection, None, None, {}, print)  # type: ignore[arg-type]
    applier.trail = trail
    return applier


def test_an_inserted_python_operation_keeps_the_trail_and_a_state_change_ends_it() -> None:
    kept_op = migrations.RunSQL("SELECT 1")
    before, final = _state(), _state()
    trail = StateTrail()
    trail.keep(kept_op, before)
    trail.finish(final)
    applier = _applier(trail)
    migration = migrations.Migration("0002_x", "shop")
    inserted = migrations.RunPython(migrations.RunPython.noop)
    assert applier.states(migration, inserted, before)[0] is before
    assert applier.trail is trail and applier.states(migration, kept_op, before) == (before, final)
    added = migrations.AddField("m0", "note", models.TextField(null=True))
    old, new = applier.states(migration, added, final)
    assert applier.trail is None
    assert "note" in new.models["shop", "m0"].fields
    assert "note" not in old.models["shop", "m0"].fields  # the given state is left as it was


RENAME = migration(
    ["0001_item"],
    """        migrations.RenameModel("Item", "Thing"),
        migrations.AlterField("thing", "n", models.BigIntegerField(default=0)),
        migrations.RenameField("thing", "n", "count"),
        migrations.AddField("thing", "note", models.TextField(null=True)),""",
)


@pytest.mark.django_db(transaction=True)
def test_the_apply_uses_the_plans_states_also_after_an_inserted_rename_of_content_types(
    rapp: MigrationsPackage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """contenttypes inserts ``RenameContentType`` after ``RenameModel`` in ``pre_migrate``,
    after the plan was collected (wagtail's history does this)."""
    hits: list[bool] = []
    original = StateTrail.states

    def states(self: StateTrail, operation: Any) -> Any:
        found = original(self, operation)
        hits.append(found is not None)
        return found

    monkeypatch.setattr(StateTrail, "states", states)
    rapp.write(**{"0001_item": CREATE_ITEM, "0002_rename": RENAME})
    result = safemigrate("rapp")
    assert result.code == 0, result.err + result.out
    assert hits.count(True) == 5 and hits.count(False) == 1  # one RenameContentType
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, "rapp_thing")
    assert {c.name for c in columns} == {"id", "count", "note"}
    # post_migrate ran with the trail's final models: the renamed model's content type
    assert ContentType.objects.filter(app_label="rapp", model="thing").exists()
