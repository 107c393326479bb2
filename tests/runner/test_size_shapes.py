"""The size rule (ZDT401) on table shapes the 2,000,000-row acceptance test does not use:
a declaratively partitioned table (the parent has no rows or pages of its own: the
partitions are summed) and a schema-qualified ``db_table = '"schema"."table"'`` (sized in
its schema, not looked up unqualified and found missing)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import override_settings

from django_zero_downtime.runner import cost
from tests.runner.conftest import MigrationsPackage, migration, safemigrate

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 300_000
ITEM = (
    'migrations.CreateModel(name="Item", fields=[("id", models.BigAutoField(primary_key=True)),'
    ' ("n", models.IntegerField(default=0))]{options})'
)
PARTITIONED = migration(
    [],
    f"""        migrations.RunSQL(
            "CREATE TABLE rapp_item (id bigint PRIMARY KEY, n integer NOT NULL DEFAULT 0) "
            "PARTITION BY RANGE (id);"
            "CREATE TABLE rapp_item_a PARTITION OF rapp_item "
            "FOR VALUES FROM (MINVALUE) TO (100000);"
            "CREATE TABLE rapp_item_b PARTITION OF rapp_item "
            "FOR VALUES FROM (100000) TO (MAXVALUE);",
            state_operations=[{ITEM.format(options="")}],
        ),""",
)
SCHEMA_OPTIONS = """, options={"db_table": '"rapp_s"."item"'}"""
SCHEMA = migration(
    [],
    f"""        migrations.RunSQL("CREATE SCHEMA rapp_s", "DROP SCHEMA rapp_s CASCADE"),
        {ITEM.format(options=SCHEMA_OPTIONS)},""",
)
NOTE = '        migrations.AddField("item", "note", models.TextField(null=True)),'
RETYPE = (
    'Change the type without a rewrite: replace AlterField("item", "n", ...) with '
    'DeclareModelChange([AlterField("item", "n", ...)]) and RetypeField("item", "n") in an '
    'atomic = False migration, then CompleteRetypeField("item", "n") in a later release'
)
BIGINT = '        migrations.AlterField("item", "n", models.BigIntegerField(default=0)),'


def verdicts(out: str) -> list[tuple[str, str]]:
    return re.findall(r"ZDT401 large-table \((.*)\): (ok|REFUSED)", out)


def judged(rapp: MigrationsPackage, first: str, table: str) -> list[tuple[str, str]]:
    """Apply ``first``, fill ``table`` (no ANALYZE), then plan a nullable column and a
    rewrite to bigint."""
    rapp.write(**{"0001_item": first})
    assert safemigrate("rapp").code == 0
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (id, n) SELECT g, g FROM generate_series(1, {ROWS}) g")
    note, bigint = migration(["0001_item"], NOTE), migration(["0002_note"], BIGINT)
    rapp.write(**{"0002_note": note, "0003_bigint": bigint})
    result = safemigrate("rapp", "--plan")
    assert result.code == 1, result.out
    assert RETYPE in result.out
    return verdicts(result.out)


@override_settings(ZDT_LARGE_TABLE_ROWS=100_000)
def test_a_partitioned_table_is_the_sum_of_its_partitions(rapp: MigrationsPackage) -> None:
    note, bigint = judged(rapp, PARTITIONED, "rapp_item")
    assert note == ("rapp_item: catalog-only, instant at any size", "ok")
    assert bigint[1] == "REFUSED"
    assert bigint[0].startswith("rapp_item: 300,000 rows (2 partitions: counted)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE rapp_item")
        size = cost.table_size(cursor, '"rapp_item"')
    assert (size.rows, size.how) == (ROWS, "2 partitions: statistics")
    assert size.total_bytes > size.heap_bytes > 10 * cost.MB


@override_settings(ZDT_LARGE_TABLE_ROWS=100_000)
def test_a_schema_qualified_db_table_is_sized_in_its_schema(rapp: MigrationsPackage) -> None:
    try:
        note, bigint = judged(rapp, SCHEMA, "rapp_s.item")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA IF EXISTS rapp_s CASCADE")
    assert note == ("item: catalog-only, instant at any size", "ok")
    assert bigint[1] == "REFUSED"
    sampled = r"item: 300,000 rows \(never analysed: sampled [\d,]+ of [\d,]+ pages\)"
    assert re.match(sampled, bigint[0])
