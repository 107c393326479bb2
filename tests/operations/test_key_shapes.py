"""Backfills on primary keys and tables the other tests do not use: text keys in the
column's collation order, negative keys with gaps, a ``db_column`` key on an upper-case
table, a schema-qualified ``db_table = '"schema"."table"'`` (Django's own reading of a
quoted name), and Django 5.2's ``CompositePrimaryKey`` (refused, naming the model and the
fix, before anything is changed)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import models
from django.db.migrations.operations import AlterField
from django.db.models import F
from django.test import override_settings

from django_zero_downtime.exceptions import UnsafeOperationError
from django_zero_downtime.operations import (
    AddFieldInSteps,
    AlterFieldInSteps,
    BatchedBackfill,
    CompleteRetypeField,
    DeclareModelChange,
    DeprecateColumn,
    DeprecateTable,
    DropDeprecatedColumn,
    DropDeprecatedTable,
    DualWriteRename,
    RetypeField,
)
from tests.operations.conftest import Lab

SCHEMA_TABLE = '"zdtlab_s"."things"'


def keyed(lab: Lab, name: str, pk: Any, **options: Any) -> Any:
    fields = [
        ("code", pk),
        ("a", models.IntegerField(null=True)),
        ("b", models.IntegerField(null=True)),
    ]
    return lab.create(name, fields, **options)


def copy_a_to_b(lab: Lab, name: str, table: str) -> list[tuple[Any, ...]]:
    lab.apply(BatchedBackfill(name, {"b": F("a")}, batch_size=7), atomic=False)
    return lab.sql(f"SELECT count(*), count(*) FILTER (WHERE b = a) FROM {table}")


def test_text_keys_in_the_column_collation_order(lab: Lab) -> None:
    keyed(lab, "V", models.CharField(max_length=20, primary_key=True))
    lab.sql(
        "INSERT INTO zdtlab_v (code, a) SELECT chr(65 + i % 26) || lower(chr(65 + (i * 7) % 26))"
        " || i || ' x', i FROM generate_series(1, 100) i"
    )
    lab.sql("INSERT INTO zdtlab_v (code, a) VALUES ('a', 1), ('B', 2), ('_z', 3), ('é', 4)")
    assert copy_a_to_b(lab, "V", "zdtlab_v") == [(104, 104)]
    lab.apply(DualWriteRename("V", "b", "c", batch_size=9), atomic=False)
    assert lab.sql("SELECT count(*) FROM zdtlab_v WHERE c = a") == [(104,)]


def test_negative_keys_with_gaps(lab: Lab) -> None:
    keyed(lab, "N", models.IntegerField(primary_key=True))
    lab.sql("INSERT INTO zdtlab_n (code, a) SELECT i, i FROM generate_series(-1000, 1000, 13) i")
    lab.sql("DELETE FROM zdtlab_n WHERE code BETWEEN -500 AND 300")
    assert copy_a_to_b(lab, "N", "zdtlab_n") == [(92, 92)]


def test_db_column_key_on_an_upper_case_table(lab: Lab) -> None:
    pk = models.BigAutoField(primary_key=True, db_column="Weird ID")
    keyed(lab, "W", pk, db_table="Upper_Case")
    lab.sql('INSERT INTO "Upper_Case" (a) SELECT i FROM generate_series(1, 50) i')
    assert copy_a_to_b(lab, "W", '"Upper_Case"') == [(50, 50)]


@pytest.fixture
def schema_table(lab: Lab) -> Iterator[Lab]:
    """A model whose ``db_table`` is ``'"zdtlab_s"."things"'``: Django creates (and
    queries) table ``things`` in schema ``zdtlab_s``."""
    lab.sql("CREATE SCHEMA zdtlab_s")
    try:
        keyed(lab, "S", models.BigAutoField(primary_key=True), db_table=SCHEMA_TABLE)
        lab.tables.discard(SCHEMA_TABLE)
        lab.sql(f"INSERT INTO {SCHEMA_TABLE} (a) SELECT i FROM generate_series(1, 30) i")
        yield lab
    finally:
        lab.sql("DROP SCHEMA zdtlab_s CASCADE")


def test_schema_qualified_table_backfill_and_rename(schema_table: Lab) -> None:
    assert copy_a_to_b(schema_table, "S", SCHEMA_TABLE) == [(30, 30)]
    schema_table.apply(DualWriteRename("S", "a", "c"), atomic=False)
    assert schema_table.sql(f"SELECT count(*) FROM {SCHEMA_TABLE} WHERE c = b") == [(30,)]


def test_schema_qualified_table_not_null_and_retype(schema_table: Lab) -> None:
    schema_table.sql(f"UPDATE {SCHEMA_TABLE} SET a = NULL WHERE a < 5")
    schema_table.apply(AlterFieldInSteps("S", "a", models.IntegerField(default=3)), atomic=False)
    assert schema_table.sql(f"SELECT count(*) FROM {SCHEMA_TABLE} WHERE a = 3") == [(4,)]
    bigint = models.BigIntegerField(default=3)
    schema_table.apply(DeclareModelChange([AlterField("S", "a", bigint)]))
    schema_table.apply(RetypeField("S", "a"), atomic=False)
    schema_table.apply(CompleteRetypeField("S", "a"), atomic=False)
    kind = schema_table.sql(
        "SELECT format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
        "WHERE attrelid = 'zdtlab_s.things'::regclass AND attname = 'a'"
    )
    assert kind == [("bigint", True)]


@override_settings(ZDT_DEPRECATION_CYCLES=0)
def test_schema_qualified_table_deprecated_and_dropped(schema_table: Lab) -> None:
    """The deprecated table is renamed within its schema and the view reads it there."""
    schema_table.apply(DeprecateColumn("S", "b"))
    schema_table.apply(DropDeprecatedColumn("S", "b"))
    schema_table.apply(DeprecateTable("S"))
    schema_table.sql(f"INSERT INTO {SCHEMA_TABLE} (a) VALUES (99)")  # through the view
    relations = (
        "SELECT relname, relkind FROM pg_class WHERE relnamespace = 'zdtlab_s'::regnamespace"
    )
    kinds = dict(schema_table.sql(relations + " AND relkind IN ('r', 'v')"))
    assert kinds == {"things": "v", "zdt_deprecated_things_4ae109fb": "r"}
    schema_table.unapply(DeprecateTable("S"))
    assert schema_table.sql(f"SELECT count(*) FROM {SCHEMA_TABLE}") == [(31,)]
    schema_table.apply(DeprecateTable("S"))
    schema_table.apply(DropDeprecatedTable("S", db_table=SCHEMA_TABLE))
    assert schema_table.sql(relations + " AND relkind IN ('r', 'v')") == []


def test_uuid_keys_on_the_not_null_and_retype_paths(lab: Lab) -> None:
    keyed(lab, "U", models.UUIDField(primary_key=True, default=uuid.uuid4))
    lab.sql(
        "INSERT INTO zdtlab_u (code, a) SELECT gen_random_uuid(), "
        "CASE WHEN i % 3 = 0 THEN NULL ELSE i END FROM generate_series(1, 40) i"
    )
    lab.apply(AlterFieldInSteps("U", "a", models.IntegerField(default=3)), atomic=False)
    lab.apply(DeclareModelChange([AlterField("U", "a", models.BigIntegerField(default=3))]))
    lab.apply(RetypeField("U", "a"), atomic=False)
    lab.apply(CompleteRetypeField("U", "a"), atomic=False)
    assert lab.sql("SELECT count(*) FROM zdtlab_u WHERE a = 3") == [(13,)]


@pytest.fixture
def composite(lab: Lab) -> Lab:
    lab.create(
        "C",
        [
            ("pk", models.CompositePrimaryKey("x", "y")),
            ("x", models.IntegerField()),
            ("y", models.IntegerField()),
            ("a", models.IntegerField(null=True)),
        ],
    )
    lab.sql("INSERT INTO zdtlab_c (x, y, a) SELECT i % 5, i, i FROM generate_series(1, 30) i")
    return lab


def columns(lab: Lab) -> list[tuple[Any, ...]]:
    return lab.sql(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'zdtlab_c'::regclass AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum"
    )


COMPOSITE = r"zdtlab\.C has a composite primary key \(x, y\).*single-column primary key"


@pytest.mark.parametrize(
    "operation",
    [
        BatchedBackfill("C", {"a": 1}),
        DualWriteRename("C", "a", "b"),
        AddFieldInSteps("C", "token", models.UUIDField(default=uuid.uuid4)),
    ],
    ids=["backfill", "rename", "add-field"],
)
def test_composite_primary_key_is_refused_before_any_change(composite: Lab, operation: Any) -> None:
    with pytest.raises(UnsafeOperationError, match=COMPOSITE):
        composite.apply(operation, atomic=False)
    assert columns(composite) == [("x",), ("y",), ("a",)]
    assert composite.sql("SELECT count(*) FROM zdtlab_c WHERE a = 1") == [(1,)]


def test_composite_primary_key_not_null_and_retype_are_refused(composite: Lab) -> None:
    composite.sql("UPDATE zdtlab_c SET a = NULL WHERE y < 3")
    steps = "Alter field a on C in short steps: "
    with pytest.raises(UnsafeOperationError, match=steps + COMPOSITE):
        composite.apply(AlterFieldInSteps("C", "a", models.IntegerField(default=0)), atomic=False)
    composite.apply(DeclareModelChange([AlterField("C", "a", models.BigIntegerField(null=True))]))
    with pytest.raises(UnsafeOperationError, match=r"Retyping zdtlab\.C\.a: " + COMPOSITE):
        composite.apply(RetypeField("C", "a"), atomic=False)
    assert columns(composite) == [("x",), ("y",), ("a",)]
