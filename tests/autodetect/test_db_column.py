"""A ``db_column`` change: the dual-write rename at the column level, under traffic."""

from __future__ import annotations

import time
from typing import Any

from django.db import migrations, models

from django_zero_downtime import operations as zdt
from tests.autodetect.harness import ROWS, Edit, Project, Writer, checksum, relfilenode
from tests.autodetect.harness import models as item_models
from tests.autodetect.test_index_paths import index_names, index_valid
from tests.lint.test_autodetector import shop_state

BEFORE = "    code = models.CharField(max_length=20, db_index=True)\n"
AFTER = '    code = models.CharField(max_length=20, db_index=True, db_column="sku")\n'


def test_makemigrations_writes_the_column_move_and_its_contract() -> None:
    from django_zero_downtime.autodetect.autodetector import rewrite_operations

    field = models.TextField(null=True, db_column="remark")
    out: Any = rewrite_operations(
        "shop", [migrations.AlterField("item", "note", field)], shop_state()
    )
    assert [type(op) for op in out] == [
        zdt.DualWriteColumnRename,
        zdt.CompleteDualWriteColumnRename,
    ]
    assert out[0].old_column == "note" and out[1].zero_downtime_phase == "contract"
    state = shop_state()
    out[0].state_forwards("shop", state)
    assert state.models["shop", "item"].fields["note"].db_column == "remark"
    assert out[0].deconstruct()[2]["old_column"] == "note"
    other = models.BigIntegerField(null=True, db_column="remark")  # a type change too: Django's
    assert rewrite_operations("shop", [migrations.AlterField("item", "note", other)], shop_state())


def test_db_column_change_moves_the_data_under_traffic_over_two_releases(project: Project) -> None:
    edit = Edit(project, item_models(BEFORE), item_models(AFTER))
    edit.fill_sql = (
        "INSERT INTO shop_item (name, qty, code) "
        "SELECT 'n' || g, g % 100, 'c' || g FROM generate_series(1, ROWS) g"
    )
    edit.insert_sql = "INSERT INTO shop_item (name, qty, code) VALUES ('w', 0, 'w')"
    edit.prepare()
    before = checksum(project, "shop_item", "id, name, code", ROWS)
    edit.run()  # expand under the previous release's writer (it writes `code`)
    assert "DualWriteColumnRename(" in project.migration_text("0002")
    assert 'zero_downtime_phase = "contract"' in project.migration_text("0003")
    assert "Held back shop.0003" in edit.outputs[-1]
    assert checksum(project, "shop_item", "id, name, sku", ROWS) == before
    node = relfilenode(project, "shop_item")
    # The contract runs while the release that writes `sku` serves.
    insert = "INSERT INTO shop_item (name, qty, sku) VALUES ('w', 0, 'w')"
    writer = Writer(project, insert, edit.update_sql, ROWS).start()
    try:
        project.ok("safemigrate", "--release", "r3")
        time.sleep(0.2)
    finally:
        writer.stop()
    writer.assert_unharmed()
    assert relfilenode(project, "shop_item") == node
    assert checksum(project, "shop_item", "id, name, sku", ROWS) == before
    assert project.one("SELECT count(*) FROM shop_item WHERE sku IS NULL") == 0
    assert (
        project.one(
            "SELECT is_nullable FROM information_schema.columns "
            "WHERE table_name = 'shop_item' AND column_name = 'code'"
        )
        == "YES"
    )
    indexes = index_names(project)
    assert not [name for name in indexes if "code" in name]
    assert [name for name in indexes if "sku" in name and name.endswith("_like")]
    assert all(index_valid(project, name) for name in indexes)
    project.ok("makemigrations", "--check", "--dry-run", "shop")
