"""New foreign keys, NOT NULL and callable defaults on a full table under traffic."""

from __future__ import annotations

import pytest

from tests.autodetect.harness import LONG, Edit, Project, models
from tests.autodetect.test_index_paths import constraint_kinds, index_valid

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not LONG, reason="one edit per table: ZDT_LONG=1 (test_all_edits runs them together)"
    ),
]

SHELF = """

class Shelf(models.Model):
    label = models.CharField(max_length=10)
"""


def column(project: Project, name: str) -> tuple[str, str, str]:
    """(type, is_nullable, default) of shop_item.<name>."""
    return project.one(
        "SELECT data_type, is_nullable, coalesce(column_default, '') "
        "FROM information_schema.columns WHERE table_name = 'shop_item' AND column_name = %s",
        [name],
    )


def test_new_foreign_key_gets_concurrent_index_and_validated_constraint(project: Project) -> None:
    before = models(tail=SHELF)
    after = models(
        extra='    shelf = models.ForeignKey("Shelf", null=True, on_delete=models.SET_NULL)',
        tail=SHELF,
    )
    edit = Edit(project, before, after)
    edit.prepare()
    edit.run()
    assert "AddFieldInSteps(" in project.migration_text("0002")
    foreign = [kind for kind in constraint_kinds(project).values() if kind[0] == "f"]
    assert foreign == [("f", True, True)]  # validated; Django's FKs are DEFERRABLE
    index = project.one(
        "SELECT indexname FROM pg_indexes "
        "WHERE tablename = 'shop_item' AND indexdef LIKE '%shelf_id%'"
    )
    assert index_valid(project, index)


def test_null_to_not_null_fills_nulls_from_the_default_then_sets_not_null(project: Project) -> None:
    before = models(extra="    note = models.CharField(max_length=20, null=True)")
    after = models(extra='    note = models.CharField(max_length=20, default="none")')
    edit = Edit(project, before, after, releases=2)
    edit.fill_sql = edit.fill_sql.replace("(name, qty)", "(name, qty, note)").replace(
        "g % 100", "g % 100, CASE WHEN g % 3 = 0 THEN NULL ELSE 'x' END"
    )
    edit.insert_sql = "INSERT INTO shop_item (name, qty, note) VALUES ('w', 0, 'w')"
    edit.prepare()
    edit.run()
    assert "EnforceField(" in project.migration_text("0003")
    assert column(project, "note")[1] == "NO"
    assert project.one("SELECT count(*) FROM shop_item WHERE note = 'none'") > 0
    assert not [kind for kind in constraint_kinds(project).values() if kind[0] == "c"]


def test_callable_default_uuid_is_added_nullable_backfilled_and_made_not_null(
    project: Project,
) -> None:
    after = models(extra="    token = models.UUIDField(default=uuid.uuid4)")
    edit = Edit(project, models(), "import uuid\n" + after)
    edit.prepare()
    edit.run()
    assert "AddFieldInSteps(" in project.migration_text("0002")
    kind, nullable, default = column(project, "token")
    assert (kind, nullable) == ("uuid", "NO") and "gen_random_uuid()" in default
    assert project.one("SELECT count(DISTINCT token) = count(*) FROM shop_item")


def test_volatile_db_default_does_not_rewrite_the_table(project: Project) -> None:
    after = models(
        extra="    score = models.FloatField(db_default=Random())",
    )
    edit = Edit(project, models(), "from django.db.models.functions import Random\n" + after)
    edit.prepare()
    edit.run()
    _, nullable, default = column(project, "score")
    assert nullable == "NO" and "random()" in default
    assert project.one("SELECT count(*) FROM shop_item WHERE score IS NULL") == 0
