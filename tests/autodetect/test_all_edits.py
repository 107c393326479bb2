"""Every makemigrations path at once on one full table under traffic (the default-run form
of the per-edit acceptance tests, which run with ZDT_LONG=1)."""

from __future__ import annotations

from tests.autodetect.harness import Edit, Project, models
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
