"""Type changes by a shadow column: the primary key widening with a referencing table."""

from __future__ import annotations

from tests.autodetect.harness import ROWS, Edit, Project, checksum, models, relfilenode
from tests.autodetect.test_index_paths import constraint_kinds

PART = """

class Part(models.Model):
    item = models.ForeignKey(Item, on_delete=models.CASCADE)
    n = models.IntegerField(default=0)
"""


def column_type(project: Project, table: str, column: str) -> str:
    return str(
        project.one(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attname = %s",
            [table, column],
        )
    )


def test_primary_key_widened_with_its_referencing_table(project: Project) -> None:
    before = models(extra="    id = models.AutoField(primary_key=True)", tail=PART)
    after = before.replace("models.AutoField(", "models.BigAutoField(")
    edit = Edit(project, before, after, releases=2)
    edit.insert_sql = (
        "WITH p AS (INSERT INTO shop_item (name, qty) VALUES ('w', 0) RETURNING id) "
        "INSERT INTO shop_part (item_id, n) SELECT id, 1 FROM p"
    )
    edit.prepare()
    with project.connect() as conn:
        conn.execute(
            "INSERT INTO shop_part (item_id, n) SELECT g, g FROM generate_series(1, %s) g", [ROWS]
        )
        conn.execute("ANALYZE shop_part")
    part_node = relfilenode(project, "shop_part")
    parts = checksum(project, "shop_part", "id, item_id, n", ROWS)
    edit.run()

    assert "DeclareModelChange(" in project.migration_text("0002")
    assert "RetypeField(" in project.migration_text("0003")
    contract = project.migration_text("0004")
    assert "CompleteRetypeField(" in contract and 'zero_downtime_phase = "contract"' in contract
    assert "Held back shop.0004" in edit.outputs[2]
    assert column_type(project, "shop_item", "id") == "bigint"
    assert column_type(project, "shop_part", "item_id") == "bigint"
    assert relfilenode(project, "shop_part") == part_node
    assert checksum(project, "shop_part", "id, item_id, n", ROWS) == parts
    kinds = constraint_kinds(project, "shop_part")
    assert [k for k in kinds.values() if k[0] == "f"] == [("f", True, True)]
    assert [k[0] for k in constraint_kinds(project).values()] == ["p"], constraint_kinds(project)
    with project.connect() as conn:  # the identity moved and continues after the old values
        new_id = conn.execute(
            "INSERT INTO shop_item (name, qty) VALUES ('x', 0) RETURNING id"
        ).fetchone()
        old_max = project.one("SELECT max(id) FROM shop_item WHERE name <> 'x'")
        assert new_id is not None and new_id[0] > old_max
        conn.execute("INSERT INTO shop_item (id, name, qty) VALUES (3000000000, 'big', 0)")
        conn.execute("INSERT INTO shop_part (item_id, n) VALUES (3000000000, 0)")
