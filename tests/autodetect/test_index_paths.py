"""Indexes and unique constraints on a full table under traffic (acceptance, PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.autodetect.harness import LONG, Edit, Project, models

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not LONG, reason="one edit per table: ZDT_LONG=1 (test_all_edits runs them together)"
    ),
]


def index_valid(project: Project, name: str) -> bool:
    return bool(
        project.one("SELECT indisvalid FROM pg_index WHERE indexrelid = %s::regclass", [name])
    )


def index_names(project: Project, table: str = "shop_item") -> set[str]:
    with project.connect() as conn:
        rows = conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        return {row[0] for row in rows}


def test_db_index_on_existing_field_is_built_concurrently(project: Project) -> None:
    edit = Edit(
        project,
        models(),
        models().replace("max_length=100)", "max_length=100, db_index=True)"),
    )
    edit.prepare()
    edit.run()
    text = project.migration_text("0002")
    assert "AlterFieldInSteps(" in text and "atomic = False" in text
    names = index_names(project)
    like = [n for n in names if n.endswith("_like")]
    assert len(like) == 1 and len(names) == 3, names
    assert all(index_valid(project, name) for name in names)


def constraint_kinds(
    project: Project, table: str = "shop_item"
) -> dict[str, tuple[str, bool, bool]]:
    """name -> (contype, validated, deferrable) of the table's constraints."""
    with project.connect() as conn:
        rows = conn.execute(
            "SELECT conname, contype, convalidated, condeferrable FROM pg_constraint "
            "WHERE conrelid = %s::regclass",
            [table],
        )
        return {row[0]: (row[1], row[2], row[3]) for row in rows}


def test_meta_index_is_built_concurrently(project: Project) -> None:
    tail = """
    class Meta:
        indexes = [models.Index(fields=["qty", "-name"], name="item_qty_idx")]
"""
    edit = Edit(project, models(), models(tail=tail))
    edit.prepare()
    edit.run()
    assert "AddIndexInSteps(" in project.migration_text("0002")
    assert index_valid(project, "item_qty_idx")


def test_unique_true_becomes_a_constraint_using_the_concurrent_index(project: Project) -> None:
    before = models(extra="    code = models.CharField(max_length=20, null=True)")
    after = before.replace("max_length=20, null=True)", "max_length=20, null=True, unique=True)")
    edit = Edit(project, before, after)
    edit.fill_sql = edit.fill_sql.replace("(name, qty)", "(name, qty, code)").replace(
        "g % 100", "g % 100, 'c' || g"
    )
    edit.prepare()
    edit.run()
    kinds = constraint_kinds(project)
    unique = [name for name, kind in kinds.items() if kind[0] == "u"]
    assert len(unique) == 1 and kinds[unique[0]][1], kinds
    assert any(name.endswith("_like") for name in index_names(project))


UNIQUES = """
    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["name", "code"], name="item_name_code_uniq",
                deferrable=models.Deferrable.DEFERRED,
            ),
            models.UniqueConstraint(
                fields=["code"], condition=models.Q(qty__gt=1000), name="item_code_partial_uniq"
            ),
            models.UniqueConstraint(fields=["tag"], name="item_tag_uniq", nulls_distinct=False),
        ]
"""


def test_unique_constraints_multi_column_deferrable_partial_and_nulls_not_distinct(
    project: Project,
) -> None:
    extra = "    code = models.CharField(max_length=20, null=True)\n"
    extra += "    tag = models.IntegerField(null=True)"
    before = models(extra=extra)
    edit = Edit(project, before, models(extra=extra, tail=UNIQUES))
    edit.fill_sql = edit.fill_sql.replace("(name, qty)", "(name, qty, code, tag)").replace(
        "g % 100", "g % 100, 'c' || g, g"
    )
    # NULLs are not distinct in item_tag_uniq: the writer gives each row its own tag.
    edit.insert_sql = (
        "INSERT INTO shop_item (name, qty, tag) VALUES ('w', 0, -floor(random() * 2e9)::int)"
    )
    edit.prepare()
    edit.run()
    assert "AddConstraintInSteps(" in project.migration_text("0002")
    kinds = constraint_kinds(project)
    assert kinds["item_name_code_uniq"] == ("u", True, True)
    assert kinds["item_tag_uniq"][0] == "u"
    assert "item_code_partial_uniq" not in kinds  # a partial unique stays an index
    assert index_valid(project, "item_code_partial_uniq")
    definition = project.one("SELECT pg_get_indexdef('item_tag_uniq'::regclass)")
    assert "NULLS NOT DISTINCT" in definition


def test_check_constraint_is_added_not_valid_then_validated(project: Project) -> None:
    tail = """
    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(qty__gte=0), name="item_qty_gte_0")
        ]
"""
    edit = Edit(project, models(), models(tail=tail), releases=2)
    edit.prepare()
    edit.run()
    assert "DeclareModelChange(" in project.migration_text("0002")
    contract = project.migration_text("0003")
    assert "EnforceConstraint(" in contract and 'zero_downtime_phase = "contract"' in contract
    assert 'contract migration (zero_downtime_phase = "contract")' in edit.outputs[0]
    assert "Held back shop.0003" in edit.outputs[2]
    assert constraint_kinds(project)["item_qty_gte_0"] == ("c", True, False)
