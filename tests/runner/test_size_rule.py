"""Acceptance of the size rule (ZDT401) on a real 2,000,000-row table whose statistics are
missing or stale: seen at its real size, catalog-only changes pass, a rewrite is refused
with an estimate and what to do instead."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from django_zero_downtime.runner import cost
from tests.runner.conftest import CREATE_ITEM, MigrationsPackage, applied, migration, safemigrate

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 2_000_000
OPS = "from django.db import migrations, models\nimport django_zero_downtime.operations\n\n\n"
RETYPE = (
    'Change the type without a rewrite: replace AlterField("item", "n", ...) with '
    'DeclareModelChange([AlterField("item", "n", ...)]) and RetypeField("item", "n") in an '
    'atomic = False migration, then CompleteRetypeField("item", "n") in a later release'
)


@pytest.fixture
def big(rapp: MigrationsPackage) -> MigrationsPackage:
    rapp.write(**{"0001_item": CREATE_ITEM})
    assert safemigrate("rapp").code == 0
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE rapp_item SET (autovacuum_enabled = false)")
        cursor.execute("INSERT INTO rapp_item (n) SELECT g FROM generate_series(1, %s) g", [ROWS])
    return rapp


def size() -> cost.TableSize:
    with connection.cursor() as cursor:
        return cost.table_size(cursor, '"rapp_item"')


def reltuples() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'rapp_item'")
        return float(cursor.fetchone()[0])


def near(rows: float) -> bool:
    return abs(rows - ROWS) <= ROWS * 0.03


def test_a_big_table_without_or_with_stale_statistics(big: MigrationsPackage) -> None:
    """One 2,000,000-row table for every case (it takes a while to fill)."""
    add = '        migrations.AddField("item", "note", models.TextField(null=True)),'
    default = (
        "        django_zero_downtime.operations.AddColumnWithDefault("
        '"item", "flag", models.IntegerField(default=7)),'
    )
    rename = '        django_zero_downtime.operations.DualWriteRename("item", "note", "memo"),'
    bigint = '        migrations.AlterField("item", "n", models.BigIntegerField(default=0)),'
    big.write(
        **{
            "0002_note": migration(["0001_item"], add),
            "0003_flag": OPS + migration(["0002_note"], default).split("\n\n\n", 1)[1],
            "0004_memo": OPS + migration(["0003_flag"], rename, atomic=False).split("\n\n\n", 1)[1],
            "0005_bigint": migration(["0004_memo"], bigint),
        }
    )
    result = safemigrate("rapp", "--plan")
    assert result.code == 1
    verdicts = re.findall(r"ZDT401 large-table \((.*)\): (ok|REFUSED)", result.out)
    assert all(v[1] == "ok" for v in verdicts[:-1]) and verdicts[-1][1] == "REFUSED"
    assert "rapp_item: catalog-only, instant at any size" in verdicts[0][0]
    refused = re.search(r"rapp_item: ([\d,]+) rows \(never analysed: sampled", verdicts[-1][0])
    assert refused and near(int(refused.group(1).replace(",", "")))
    assert "rewrite est." in verdicts[-1][0]
    assert RETYPE in result.out
    assert applied() == ["0001_item"]
    assert reltuples() == -1
    never = size()
    assert near(never.rows) and never.how.startswith("never analysed: sampled 3,000 of ")
    with connection.cursor() as cursor:  # what ANALYZE left when the table held 25 rows
        cursor.execute(
            "UPDATE pg_class SET reltuples = 25, relpages = 1 WHERE oid = 'rapp_item'::regclass"
        )
    stale = size()
    assert near(stale.rows) and stale.how.startswith("statistics out of date")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE rapp_item")
    fresh = size()
    assert near(fresh.rows) and fresh.how == "statistics"
