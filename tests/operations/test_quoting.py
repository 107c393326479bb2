"""Generated SQL quotes identifiers: uppercase, spaces, double quotes, reserved words."""

from __future__ import annotations

import pytest
from django.db import models
from django.db.models import F
from django.test import override_settings

from django_zero_downtime.operations import (
    AddColumnWithDefault,
    BatchedBackfill,
    CompleteDualWriteRename,
    DeprecateColumn,
    DeprecateTable,
    DropDeprecatedColumn,
    DropDeprecatedTable,
    DualWriteRename,
)
from django_zero_downtime.sql.identifiers import quote_ident
from tests.operations.conftest import Lab

ODD = 'We "Odd" Table'
Q_ODD = quote_ident(ODD)


def odd_table(lab: Lab) -> Lab:
    lab.declare(
        "Odd",
        [
            ("id", models.BigAutoField(primary_key=True)),
            ("Order", models.CharField(max_length=20)),
            ("last", models.CharField(max_length=20, db_column='Last "Name" x')),
        ],
        f'CREATE TABLE {Q_ODD} (id bigserial PRIMARY KEY, "Order" varchar(20) NOT NULL, '
        '"Last ""Name"" x" varchar(20) NOT NULL)',
        db_table=ODD,
    )
    lab.sql(f'INSERT INTO {Q_ODD} ("Order", "Last ""Name"" x") VALUES (\'o1\', \'l1\')')
    return lab


def test_quote_ident_doubles_embedded_quotes() -> None:
    assert quote_ident('a "b"') == '"a ""b"""'
    assert quote_ident("select") == '"select"'


@override_settings(ZDT_DEPRECATION_CYCLES=0)
def test_dual_write_rename_with_odd_names(lab: Lab) -> None:
    odd_table(lab)
    lab.apply(DualWriteRename("Odd", "Order", "select"), atomic=False)
    lab.sql(f'INSERT INTO {Q_ODD} ("Order", "Last ""Name"" x") VALUES (\'o2\', \'l\')')
    lab.sql(f'INSERT INTO {Q_ODD} ("select", "Last ""Name"" x") VALUES (\'s3\', \'l\')')
    rows = lab.sql(f'SELECT "Order", "select" FROM {Q_ODD} ORDER BY id')
    assert rows == [("o1", "o1"), ("o2", "o2"), ("s3", "s3")]
    lab.apply(CompleteDualWriteRename("Odd", "Order", "select"), atomic=False)
    assert lab.sql(f'SELECT "select" FROM {Q_ODD} ORDER BY id') == [("o1",), ("o2",), ("s3",)]


def test_add_column_with_default_with_odd_names(lab: Lab) -> None:
    odd_table(lab)
    field = models.CharField(max_length=5, default="it's", db_column='Nick "N" name')
    lab.apply(AddColumnWithDefault("Odd", "nick", field))
    lab.sql(f'INSERT INTO {Q_ODD} ("Order", "Last ""Name"" x") VALUES (\'o\', \'l\')')
    assert lab.sql(f'SELECT DISTINCT "Nick ""N"" name" FROM {Q_ODD}') == [("it's",)]
    lab.unapply(AddColumnWithDefault("Odd", "nick", field))


@override_settings(ZDT_DEPRECATION_CYCLES=0)
def test_deprecate_and_drop_column_with_odd_names(lab: Lab) -> None:
    odd_table(lab)
    lab.apply(DeprecateColumn("Odd", "last"))
    lab.sql(f"INSERT INTO {Q_ODD} (\"Order\") VALUES ('no last')")
    lab.apply(DropDeprecatedColumn("Odd", "last", column='Last "Name" x'))
    assert lab.sql(f"SELECT * FROM {Q_ODD} ORDER BY id") == [(1, "o1"), (2, "no last")]


@override_settings(ZDT_DEPRECATION_CYCLES=0)
def test_deprecate_and_drop_table_with_odd_names(lab: Lab) -> None:
    odd_table(lab)
    lab.apply(DeprecateTable("Odd"))
    assert lab.sql(f'SELECT "Order" FROM {Q_ODD}') == [("o1",)]
    lab.apply(DropDeprecatedTable("Odd", db_table=ODD))
    assert lab.sql("SELECT to_regclass(%s)", [Q_ODD]) == [(None,)]


def test_batched_backfill_with_odd_names(lab: Lab) -> None:
    lab.create(
        "Upper",
        [
            ("Key", models.BigAutoField(primary_key=True, db_column="Key Col")),
            ("select", models.IntegerField(null=True)),
        ],
        db_table="Upper Case Select",
    )
    lab.sql('INSERT INTO "Upper Case Select" ("select") SELECT NULL FROM generate_series(1, 25)')
    lab.apply(BatchedBackfill("Upper", {"select": F("Key")}, batch_size=10), atomic=False)
    assert lab.sql('SELECT count(*) FROM "Upper Case Select" WHERE "select" = "Key Col"') == [(25,)]


@pytest.mark.parametrize("reserved", ["user", "table", "group"])
def test_reserved_word_table(lab: Lab, reserved: str) -> None:
    lab.declare(
        "R",
        [("id", models.BigAutoField(primary_key=True)), ("a", models.IntegerField())],
        f'CREATE TABLE "{reserved}" (id bigserial PRIMARY KEY, a integer NOT NULL)',
        db_table=reserved,
    )
    lab.apply(AddColumnWithDefault("R", "b", models.IntegerField(default=4)))
    lab.apply(DualWriteRename("R", "a", "c"), atomic=False)
    lab.sql(f'INSERT INTO "{reserved}" (a) VALUES (1)')
    assert lab.sql(f'SELECT a, b, c FROM "{reserved}"') == [(1, 4, 1)]
