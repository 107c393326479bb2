"""makemigrations rewrite: which operations become safe ones, split by atomicity, composed."""

from __future__ import annotations

from typing import Any

import pgtrigger.migrations
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.core.management.commands import makemigrations
from django.db import migrations, models
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.state import ProjectState

from django_zero_downtime import operations as zdt
from django_zero_downtime.autodetect.autodetector import (
    LEDGER,
    ZeroDowntimeAutodetectorMixin,
    compose,
    rewrite_changes,
    rewrite_operations,
    split_by_atomicity,
)
from tests.lint.helpers import initial_operations, make_migration


def shop_state() -> ProjectState:
    state = ProjectState()
    for operation in initial_operations():
        operation.state_forwards("shop", state)
    return state


def rewrite(*operations: Any) -> list[Any]:
    return rewrite_operations("shop", list(operations), shop_state())


def test_unsafe_operations_on_existing_tables_become_safe_ones() -> None:
    index = models.Index(fields=["name"], name="item_name_idx")
    out = rewrite(
        migrations.RenameField("item", "name", "title"),
        migrations.RemoveField("item", "note"),
        migrations.AddField("item", "stock", models.IntegerField(default=0)),
        migrations.AddIndex("item", index),
        migrations.RemoveIndex("item", "item_name_idx"),
    )
    assert [type(op) for op in out] == [
        zdt.DualWriteRename,
        zdt.DeprecateColumn,
        zdt.AddColumnWithDefault,
        zdt.AddIndexInSteps,  # CONCURRENTLY, adopting a valid index, rebuilding an INVALID one
        RemoveIndexConcurrently,
    ]
    assert (out[0].model_name, out[0].old_name, out[0].new_name) == ("item", "name", "title")


def test_safe_or_unrewritable_operations_are_kept() -> None:
    kept = [
        migrations.RenameField("item", "code", "sku"),  # db_column keeps the column
        migrations.RemoveField("item", "tags"),  # many-to-many: a join table
        migrations.AddField("item", "a", models.IntegerField(null=True)),
        migrations.AddField("item", "b", models.DateTimeField(default=lambda: None)),
        migrations.AddField("item", "c", models.IntegerField(default=1), preserve_default=False),
        migrations.CreateModel("Box", [("id", models.BigAutoField(primary_key=True))]),
        migrations.AddIndex("box", models.Index(fields=["id"], name="box_idx")),
    ]
    assert rewrite(*kept) == kept


def test_split_by_atomicity_keeps_order_names_and_dependencies() -> None:
    migration = make_migration(
        "auto_1",
        [
            zdt.DualWriteRename("item", "name", "title"),
            migrations.AddField("item", "a", models.IntegerField(null=True)),
            AddIndexConcurrently("item", models.Index(fields=["a"], name="a_idx")),
        ],
    )
    migration.dependencies = [("shop", "0001_initial")]  # type: ignore[misc]
    parts = split_by_atomicity(migration)
    assert [p.name for p in parts] == ["auto_1_zdt0", "auto_1_zdt1", "auto_1"]
    assert [p.atomic for p in parts] == [False, True, False]
    assert parts[0].dependencies == [("shop", "0001_initial")]
    assert parts[2].dependencies == [("shop", "auto_1_zdt1")]


def test_rewrite_changes_adds_the_ledger_dependency() -> None:
    migration = make_migration("auto_1", [migrations.RemoveField("item", "note")])
    changes = rewrite_changes({"shop": [migration]}, shop_state())
    [written] = changes["shop"]
    assert isinstance(written.operations[0], zdt.DeprecateColumn)
    assert LEDGER in written.dependencies and written.atomic


def test_compose_goes_over_the_current_autodetector() -> None:
    current = makemigrations.Command.autodetector  # pgtrigger's, installed at ready()
    composed = compose(current)
    assert issubclass(composed, ZeroDowntimeAutodetectorMixin)
    assert issubclass(composed, pgtrigger.migrations.MigrationAutodetectorMixin)
    assert compose(composed) is composed and compose(current) is composed
    assert issubclass(compose(MigrationAutodetector), MigrationAutodetector)


def test_update_refuses_to_merge_non_atomic_operations_with_others() -> None:
    import pytest
    from django.core.management.base import CommandError

    from django_zero_downtime.management.commands.makemigrations import check_atomicity

    mixed = make_migration(
        "0002_x",
        [zdt.DualWriteRename("item", "name", "title"), migrations.RemoveField("item", "note")],
    )
    with pytest.raises(CommandError, match="without --update"):
        check_atomicity(mixed)
    alone = make_migration("0002_y", [zdt.DualWriteRename("item", "name", "title")])
    check_atomicity(alone)
    assert alone.atomic is False
