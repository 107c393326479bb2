"""NOT NULL with makemigrations' one-off default (``preserve_default=False``), under traffic."""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

from django_zero_downtime import operations as zdt
from django_zero_downtime.autodetect.autodetector import rewrite_operations
from tests.autodetect.harness import Edit, Project
from tests.autodetect.harness import models as item_models
from tests.autodetect.test_column_paths import column
from tests.autodetect.test_index_paths import constraint_kinds
from tests.lint.test_autodetector import shop_state


def test_one_off_default_becomes_declare_then_enforce_with_that_default() -> None:
    field = models.TextField(default="none")
    alter = migrations.AlterField("item", "note", field, preserve_default=False)
    out: Any = rewrite_operations("shop", [alter], shop_state())
    assert [type(op) for op in out] == [zdt.DeclareModelChange, zdt.EnforceField]
    assert out[1].default == "none" and out[1].deconstruct()[2]["default"] == "none"
    state = shop_state()
    out[0].state_forwards("shop", state)
    assert not state.models["shop", "item"].fields["note"].has_default()
    assert "default" not in zdt.EnforceField("item", "note").deconstruct()[2]


BEFORE = "    note = models.CharField(max_length=20, null=True)\n"
AFTER = "    note = models.CharField(max_length=20)\n"


def test_nulls_are_filled_with_the_one_off_default_and_no_default_stays(project: Project) -> None:
    edit = Edit(project, item_models(BEFORE), item_models(AFTER), releases=2)
    edit.fill_sql = (
        "INSERT INTO shop_item (name, qty, note) SELECT 'n' || g, g % 100, "
        "CASE WHEN g % 3 = 0 THEN NULL ELSE 'x' END FROM generate_series(1, ROWS) g"
    )
    edit.insert_sql = "INSERT INTO shop_item (name, qty, note) VALUES ('w', 0, 'w')"
    edit.prepare()
    # makemigrations asks for a one-off default: 1) provide one, then the value.
    edit.answers = "1\n'none'\n"
    edit.run()
    assert "preserve_default=False" in project.migration_text("0002")
    contract = project.migration_text("0003")
    assert "EnforceField(" in contract and "default='none'" in contract
    assert column(project, "note")[1:] == ("NO", "")  # NOT NULL, no database default
    assert project.one("SELECT count(*) FROM shop_item WHERE note = 'none'") > 0
    assert not [kind for kind in constraint_kinds(project).values() if kind[0] == "c"]
