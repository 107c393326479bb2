"""makemigrations combines catalog-only changes to one table into one ALTER TABLE (seed 004)."""

from __future__ import annotations

from typing import Any

from django.db import connection, migrations, models
from django.db.migrations.writer import MigrationWriter

from django_zero_downtime import operations as zdt
from django_zero_downtime.autodetect.combine import combine
from django_zero_downtime.lint.collect import SqlCollector, offline_connection
from django_zero_downtime.sql.combine import one_statement
from tests.autodetect.harness import Edit, Project
from tests.autodetect.harness import models as item_models
from tests.lint.helpers import make_migration
from tests.lint.test_autodetector import shop_state

EDITS: list[Any] = [
    migrations.AddField("item", "a", models.IntegerField(null=True)),
    migrations.AddField("item", "b", models.CharField(max_length=20, null=True)),
    migrations.AlterField("item", "name", models.CharField(max_length=50)),
]


def test_statements_of_one_table_become_one_and_a_column_named_twice_stays_apart() -> None:
    q = '"shop_item"'
    combined = one_statement(
        [
            f'ALTER TABLE {q} ADD COLUMN "a" integer NULL',
            f"ALTER TABLE {q} ADD COLUMN \"c\" varchar(10) DEFAULT 'x, y' NULL",
        ]
    )
    assert combined == (
        f'ALTER TABLE {q} ADD COLUMN "a" integer NULL, ADD COLUMN "c" varchar(10) '
        "DEFAULT 'x, y' NULL"
    )
    twice = [
        f'ALTER TABLE {q} ADD COLUMN "a" int DEFAULT 0',
        f'ALTER TABLE {q} ALTER "a" DROP DEFAULT',
    ]
    assert one_statement(twice) is None
    assert one_statement([f'ALTER TABLE {q} ADD COLUMN "a" int', "CREATE INDEX i ON t (a)"]) is None


def test_consecutive_catalog_only_changes_are_combined_and_the_rest_kept() -> None:
    index = migrations.AddIndex("item", models.Index(fields=["name"], name="item_name_idx"))
    out: Any = combine("shop", [*EDITS, index], shop_state())
    assert [type(op) for op in out] == [zdt.CombinedAlterTable, migrations.AddIndex]
    assert out[0].operations == EDITS
    rewrite = migrations.AlterField("item", "count", models.BigIntegerField(default=0))
    alone = combine("shop", [EDITS[0], rewrite, EDITS[1]], shop_state())
    assert [type(op) for op in alone] == [
        migrations.AddField,
        migrations.AlterField,
        migrations.AddField,
    ]


def shape(op: Any) -> Any:
    name, args, kwargs = op.deconstruct()
    return name, args, {k: v.deconstruct()[1:] if k == "field" else v for k, v in kwargs.items()}


def test_state_sql_and_writer_round_trip() -> None:
    combined = zdt.CombinedAlterTable("item", EDITS)
    separate, together = shop_state(), shop_state()
    for op in EDITS:
        op.state_forwards("shop", separate)
    combined.state_forwards("shop", together)
    assert (
        together.models["shop", "item"].fields.keys()
        == separate.models["shop", "item"].fields.keys()
    )
    for name, field in separate.models["shop", "item"].fields.items():
        assert together.models["shop", "item"].fields[name].deconstruct() == field.deconstruct()
    migration = make_migration("0002_combined", [combined])
    text = MigrationWriter(migration).as_string()
    assert "django_zero_downtime.operations.CombinedAlterTable(" in text
    scope: dict[str, Any] = {}
    exec(compile(text, "0002_combined.py", "exec"), scope)
    [loaded] = scope["Migration"].operations
    assert loaded.deconstruct()[2]["model_name"] == "item"
    assert [shape(op) for op in loaded.operations] == [shape(op) for op in EDITS]
    assert combined.describe().startswith("Combined changes to item (one statement")
    assert combined.migration_name_fragment.startswith("combined_item_")
    collector = SqlCollector(offline_connection(connection.alias))
    after = shop_state()
    combined.state_forwards("shop", after)
    [forwards] = collector.render("shop", combined, shop_state(), after)
    backwards_op: Any = migrations.RunPython(migrations.RunPython.noop)
    backwards_op.database_forwards = lambda app, editor, old, new: combined.database_backwards(
        app, editor, new, old
    )
    [backwards] = collector.render("shop", backwards_op, after, shop_state())
    assert forwards.count("ALTER TABLE") == 1 and forwards.count("ADD COLUMN") == 2
    assert backwards.count("ALTER TABLE") == 1 and backwards.count("DROP COLUMN") == 2


BEFORE = "    note = models.CharField(max_length=20)\n    code = models.CharField(max_length=20)\n"
AFTER = (
    "    note = models.CharField(max_length=20, null=True)\n"
    "    code = models.CharField(max_length=50)\n"
    "    a = models.IntegerField(null=True)\n"
    "    b = models.TextField(null=True)\n"
)


def test_makemigrations_writes_one_lock_for_the_table_under_traffic(project: Project) -> None:
    edit = Edit(project, item_models(BEFORE), item_models(AFTER))
    edit.fill_sql = (
        "INSERT INTO shop_item (name, qty, note, code) "
        "SELECT 'n' || g, g % 100, 'x', 'c' FROM generate_series(1, ROWS) g"
    )
    edit.insert_sql = "INSERT INTO shop_item (name, qty, note, code) VALUES ('w', 0, 'w', 'c')"
    edit.prepare()
    edit.run()  # --check clean, safemigrate at the size rule, writer unharmed, no rewrite
    text = project.migration_text("0002")
    assert text.count("CombinedAlterTable(") == 1
    sql = project.ok("sqlmigrate", "shop", "0002")
    assert sql.count("ALTER TABLE") == 1, sql
    assert (
        project.one(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'shop_item' "
            "AND column_name IN ('a', 'b')"
        )
        == 2
    )


def test_the_checker_judges_each_inner_operation_and_the_combined_statement() -> None:
    from tests.lint.helpers import codes

    not_null = migrations.AddField("item", "c", models.IntegerField())  # no default: breaks
    assert codes([zdt.CombinedAlterTable("item", EDITS)]) == []
    found = codes([zdt.CombinedAlterTable("item", [EDITS[0], not_null])])
    assert found and set(found) == set(codes([not_null]))
