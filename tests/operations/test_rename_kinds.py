"""DualWriteRename / CompleteDualWriteRename on the field kinds real models have.

Each case: the renamed column's catalog after the contract equals what a fresh migrate of
the final model creates (tests/operations/catalog.py), and the model state agrees.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import IntegrityError, models
from django.db.models import Q
from django.db.models.functions import Lower
from django.test import override_settings

from django_zero_downtime.operations import CompleteDualWriteRename, DualWriteRename
from tests.operations.catalog import column_catalog
from tests.operations.conftest import APP, Lab

FRESH = "zdtfresh"


@pytest.fixture
def fresh(transactional_db: None) -> Iterator[Lab]:
    lab = Lab(FRESH)
    try:
        yield lab
    finally:
        lab.drop_all()


def pk() -> Any:
    return models.BigAutoField(primary_key=True)


def item_fields(names: tuple[str, str, str, str], app: str) -> list[tuple[str, Any]]:
    code, title, level, parent = names
    return [
        ("id", pk()),
        (parent, models.ForeignKey(f"{app}.Parent", models.CASCADE, to_field=code)),
        (title, models.CharField(max_length=50, db_index=True)),
        (level, models.IntegerField(db_default=7)),
        ("slot", models.IntegerField(default=0)),
    ]


def item_options(title: str, level: str, app: str) -> dict[str, Any]:
    return {
        "unique_together": {(title, "slot")},
        "constraints": [
            models.CheckConstraint(
                condition=Q(**{f"{level}__gte": 0}), name=f"{app}_item_level_gte"
            ),
            models.UniqueConstraint(
                fields=[title], condition=Q(slot__gt=5), name=f"{app}_item_title_when_slot"
            ),
        ],
        "indexes": [
            models.Index(Lower(title), name=f"{app}_item_lower_title"),
            models.Index(fields=[title, "-slot"], name=f"{app}_item_title_slot_idx"),
        ],
    }


def build(lab: Lab, names: tuple[str, str, str, str]) -> None:
    code, title, level, _ = names
    lab.create("Parent", [("id", pk()), (code, models.CharField(max_length=20, unique=True))])
    lab.create("Item", item_fields(names, lab.app), **item_options(title, level, lab.app))


OLD = ("code", "title", "level", "parent")
NEW = ("ref", "name", "rank", "owner")
RENAMES = [
    ("Parent", "code", "ref"),
    ("Item", "title", "name"),
    ("Item", "level", "rank"),
    ("Item", "parent", "owner"),
]


@override_settings(ZDT_DEPRECATION_CYCLES=0)
def test_every_kind_matches_a_fresh_migrate(lab: Lab, fresh: Lab) -> None:
    build(lab, OLD)
    Parent, Item = lab.model("Parent"), lab.model("Item")
    Parent.objects.create(code="p1")
    Item.objects.create(parent_id="p1", title="a", slot=1)
    for model, old, new in RENAMES:
        lab.apply(DualWriteRename(model, old, new), atomic=False)
    for model, old, new in RENAMES:
        lab.apply(CompleteDualWriteRename(model, old, new), atomic=False)
    build(fresh, NEW)
    columns = (("parent", "ref"), ("item", "name"), ("item", "rank"), ("item", "owner_id"))
    for table, column in columns:
        got = column_catalog(f"{APP}_{table}", column, APP)
        want = column_catalog(f"{FRESH}_{table}", column, FRESH)
        assert got == want, (table, column)
    lab.sql("INSERT INTO zdtlab_item (owner_id, name, slot) VALUES ('p1', 'b', 2)")
    assert lab.sql("SELECT rank FROM zdtlab_item WHERE name = 'b'") == [(7,)]
    with pytest.raises(IntegrityError):
        lab.sql("INSERT INTO zdtlab_item (owner_id, name, slot) VALUES ('p1', 'b', 2)")
