"""Every makemigrations path at once on one full table under traffic (the default-run form
of the per-edit acceptance tests, which run with ZDT_LONG=1)."""

from __future__ import annotations

from tests.autodetect.harness import ROWS, Edit, Project, Writer, fill, models, relfilenode
from tests.autodetect.test_column_paths import SHELF, column
from tests.autodetect.test_index_paths import UNIQUES, constraint_kinds, index_names, index_valid

BEFORE_FIELDS = """\
    code = models.CharField(max_length=20, null=True)
    tag = models.IntegerField(null=True)
    note = models.CharField(max_length=20, null=True)
"""
AFTER_FIELDS = """\
    code = models.CharField(max_length=20, null=True)
    tag = models.IntegerField(null=True)
    note = models.CharField(max_length=20, default="none")
    shelf = models.ForeignKey("Shelf", null=True, on_delete=models.SET_NULL)
    token = models.UUIDField(default=uuid.uuid4)
    score = models.FloatField(db_default=Random())
"""
AFTER_META = UNIQUES.replace(
    "        constraints = [",
    '        indexes = [models.Index(fields=["qty", "-name"], name="item_qty_idx")]\n'
    "        constraints = [\n"
    '            models.CheckConstraint(condition=models.Q(qty__gte=0), name="item_qty_gte_0"),',
)
IMPORTS = "import uuid\nfrom django.db.models.functions import Random\n"


def test_all_edits_apply_under_traffic_over_two_releases(project: Project) -> None:
    before = models(extra=BEFORE_FIELDS, tail=SHELF)
    after = IMPORTS + models(extra=AFTER_FIELDS, tail=AFTER_META + SHELF)
    after = after.replace("max_length=100)", "max_length=100, db_index=True)", 1)
    edit = Edit(project, before, after, releases=2)
    edit.fill_sql = (
        "INSERT INTO shop_item (name, qty, code, tag, note) SELECT 'n' || g, g % 100, 'c' || g, g,"
        " CASE WHEN g % 3 = 0 THEN NULL ELSE 'x' END FROM generate_series(1, ROWS) g"
    )
    edit.insert_sql = (
        "INSERT INTO shop_item (name, qty, tag, note) "
        "VALUES ('w', 0, -floor(random() * 2e9)::int, 'w')"
    )
    edit.prepare()
    edit.run()

    written = "\n".join(project.migration_text(p[:4]) for p in project.migrations()[1:])
    for name in (
        "AddFieldInSteps(",
        "AlterFieldInSteps(",
        "AddIndexInSteps(",
        "AddConstraintInSteps(",
    ):
        assert name in written
    assert 'contract migration (zero_downtime_phase = "contract")' in edit.outputs[0]
    assert "Held back shop." in edit.outputs[2] and "Held back" not in edit.outputs[3]

    kinds = constraint_kinds(project)
    assert kinds["item_qty_gte_0"] == ("c", True, False)
    assert kinds["item_name_code_uniq"] == ("u", True, True)
    assert kinds["item_tag_uniq"][0] == "u" and "item_code_partial_uniq" not in kinds
    assert [kind for kind in kinds.values() if kind[0] == "f"] == [("f", True, True)]
    assert all(index_valid(project, name) for name in index_names(project))
    assert any(name.endswith("_like") for name in index_names(project))
    assert column(project, "note")[1] == "NO" and column(project, "token")[1] == "NO"
    assert column(project, "score")[1] == "NO"
    assert project.one("SELECT count(DISTINCT token) = count(*) FROM shop_item")


RETYPE_BEFORE = """\
    body = models.TextField()
    count = models.IntegerField(default=0)
    note = models.CharField(max_length=20)
"""
RETYPE_AFTER = """\
    body = models.CharField(max_length=50)
    count = models.BigIntegerField(default=0)
    note = models.CharField(max_length=20, null=True)
    a = models.IntegerField(null=True)
    b = models.TextField(null=True)
"""


def test_retypes_and_combined_changes_apply_under_traffic(project: Project) -> None:
    """text -> varchar(n) and integer -> bigint by shadow columns, and catalog-only changes
    combined into one ALTER TABLE, on one full table under the previous release's writes."""
    edit = Edit(project, models(extra=RETYPE_BEFORE), models(extra=RETYPE_AFTER), releases=2)
    edit.fill_sql = (
        "INSERT INTO shop_item (name, qty, body, count, note) "
        "SELECT 'n' || g, g % 100, 'b' || g, g, 'x' FROM generate_series(1, ROWS) g"
    )
    edit.insert_sql = (
        "INSERT INTO shop_item (name, qty, body, count, note) VALUES ('w', 0, 'short', 5, 'w')"
    )
    edit.checked_columns = "id, name, body, count"
    edit.prepare()
    edit.run()
    written = "\n".join(project.migration_text(p[:4]) for p in project.migrations()[1:])
    assert written.count("CombinedAlterTable(") == 1
    assert written.count("CompleteRetypeField(") == 2 and written.count("RetypeField(") == 4
    types = {name: column(project, name)[:2] for name in ("body", "count", "note", "a", "b")}
    assert types == {
        "body": ("character varying", "NO"),
        "count": ("bigint", "NO"),
        "note": ("character varying", "YES"),
        "a": ("integer", "YES"),
        "b": ("text", "YES"),
    }


LABEL = """

class Label(models.Model):
    title = models.CharField(max_length=20)
    items = models.ManyToManyField(Item)
"""


def test_removed_model_and_its_join_table_stay_usable_for_the_previous_release(
    project: Project,
) -> None:
    project.write_models(models(tail=LABEL))
    project.ok("makemigrations", "shop")
    project.ok("safemigrate", "--release", "r1")
    fill(
        project,
        "INSERT INTO shop_item (name, qty) SELECT 'n' || g, 0 FROM generate_series(1, ROWS) g; "
        "INSERT INTO shop_label (title) SELECT 't' || g FROM generate_series(1, ROWS) g; "
        "INSERT INTO shop_label_items (label_id, item_id) "
        "SELECT g, g FROM generate_series(1, ROWS) g",
    )
    node = relfilenode(project, "shop_label")
    project.write_models(models())
    project.ok("makemigrations", "shop")
    assert "DeprecateTable(" in project.migration_text("0002")
    project.ok("safemigrate", "--check")
    old_release = Writer(
        project,
        "WITH l AS (INSERT INTO shop_label (title) VALUES ('w') RETURNING id) "
        "INSERT INTO shop_label_items (label_id, item_id) SELECT id, 1 FROM l",
        "UPDATE shop_label SET title = title || '' WHERE id = %s",
        ROWS,
    ).start()
    try:
        project.ok("safemigrate", "--release", "r2")
    finally:
        old_release.stop()
    old_release.assert_unharmed()
    kinds = {
        name: project.one("SELECT relkind FROM pg_class WHERE relname = %s", [name])
        for name in ("shop_label", "shop_label_items")
    }
    assert kinds == {"shop_label": "v", "shop_label_items": "v"}
    assert project.one("SELECT count(*) FROM shop_label") == ROWS + old_release.inserts
    assert project.one("SELECT count(*) FROM shop_label_items") == ROWS + old_release.inserts
    renamed = project.one(
        "SELECT relfilenode FROM pg_class WHERE relname LIKE 'zdt_deprecated_shop_label\\_%%' "
        "AND relname NOT LIKE '%%items%%'"
    )
    assert renamed == node  # renamed, not rewritten
    project.ok("makemigrations", "--check", "--dry-run", "shop")
