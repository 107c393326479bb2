"""The ZDT110 hint renders the model beside only what it points to (lint/rules/indexes.py),
and gets the SQL a render of the whole project gives."""

from __future__ import annotations

from typing import Any

from django.db import connection, models
from django.db.migrations.state import ModelState, ProjectState

from django_zero_downtime.lint.collect import SqlCollector
from django_zero_downtime.lint.rules.indexes import _render_alone


def _project() -> ProjectState:
    state = ProjectState()
    fk: Any = models.ForeignKey
    state.add_model(ModelState("shop", "Owner", [("id", models.BigAutoField(primary_key=True))]))
    state.add_model(
        ModelState(
            "shop",
            "Store",
            [
                ("code", models.CharField(max_length=10, primary_key=True)),
                ("owner", fk("shop.owner", models.CASCADE)),
            ],
        )
    )
    state.add_model(
        ModelState(
            "shop",
            "Item",
            [
                ("id", models.BigAutoField(primary_key=True)),
                ("name", models.CharField(max_length=50)),
                ("store", fk("shop.store", models.CASCADE, db_column="shop_code")),
                ("tags", models.ManyToManyField("shop.owner")),
            ],
        )
    )
    state.add_model(ModelState("shop", "Unrelated", [("id", models.AutoField(primary_key=True))]))
    return state


def _sql(model: Any, constraint: models.UniqueConstraint) -> str:
    editor = SqlCollector(connection).editor_class(connection, collect_sql=True, atomic=False)
    return str(constraint.create_sql(model, editor))


def test_the_hint_sql_equals_the_whole_projects_and_renders_only_related_models() -> None:
    state = _project()
    constraint = models.UniqueConstraint(
        fields=["store", "name"], name="item_store_name", condition=models.Q(name__gt="")
    )
    alone = _render_alone(state, "shop", "Item")
    whole = state.clone().apps.get_model("shop", "Item")
    assert _sql(alone, constraint) == _sql(whole, constraint)
    assert '"shop_code"' in _sql(alone, constraint)
    registry = {m._meta.model_name for m in alone._meta.apps.get_models()}
    assert "unrelated" not in registry and {"store", "owner"} <= registry
