"""What each operation references: Django's optimizer (squashmigrations) relies on it to
decide which operations it may reorder or merge across ours."""

from __future__ import annotations

import pytest
from django.db import models

from django_zero_downtime import operations as zdt

FIELD_OPS = [
    zdt.AddColumnWithDefault("Person", "nick", models.CharField(max_length=9, default="x")),
    zdt.DeprecateColumn("Person", "nick"),
]
MODEL_OPS = [
    *FIELD_OPS,
    zdt.DropDeprecatedColumn("Person", "nick"),
    zdt.DualWriteRename("Person", "nick", "nickname"),
    zdt.CompleteDualWriteRename("Person", "nick", "nickname"),
    zdt.BatchedBackfill("Person", {"nick": "x"}),
]


@pytest.mark.parametrize("operation", MODEL_OPS, ids=lambda op: type(op).__name__)
def test_references_its_model_only(operation: object) -> None:
    assert operation.references_model("person", "people")  # type: ignore[attr-defined]
    assert not operation.references_model("Team", "people")  # type: ignore[attr-defined]


@pytest.mark.parametrize("operation", FIELD_OPS, ids=lambda op: type(op).__name__)
def test_references_its_field_only(operation: object) -> None:
    assert operation.references_field("Person", "NICK", "people")  # type: ignore[attr-defined]
    assert not operation.references_field("Person", "first_name", "people")  # type: ignore[attr-defined]
    assert not operation.references_field("Team", "nick", "people")  # type: ignore[attr-defined]


def test_rename_references_both_names() -> None:
    rename = zdt.DualWriteRename("Person", "nick", "nickname")
    assert rename.references_field("Person", "nick", "people")
    assert rename.references_field("Person", "nickname", "people")
    assert not rename.references_field("Person", "first_name", "people")
