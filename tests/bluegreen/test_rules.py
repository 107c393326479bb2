"""Pure decision logic: type compatibility and the schema comparison, without a database."""

from __future__ import annotations

import pytest

from django_zero_downtime.bluegreen.schema import Column, Table, compare_schemas, type_compatible


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("integer", "integer"),
        ("integer", "bigint"),
        ("smallint", "integer"),
        ("varchar(100)", "varchar(200)"),
        ("varchar(100)", "text"),
        ("varchar(100)", "varchar"),
        ("numeric(10, 2)", "numeric(12, 2)"),
    ],
)
def test_compatible_types(old: str, new: str) -> None:
    assert type_compatible(old, new)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("bigint", "integer"),
        ("integer", "smallint"),
        ("varchar(100)", "varchar(99)"),
        ("text", "varchar(100)"),
        ("numeric(10, 2)", "numeric(10, 3)"),
        ("numeric(12, 2)", "numeric(10, 2)"),
        ("integer", "varchar(20)"),
        ("timestamp with time zone", "date"),
    ],
)
def test_incompatible_types(old: str, new: str) -> None:
    assert not type_compatible(old, new)


def _table(**columns: Column) -> Table:
    return Table("app.Model", dict(columns))


def test_filled_column_counts_as_having_a_default() -> None:
    old = {"t": _table(a=Column("integer", False, False, "a"))}
    required = Column("integer", False, False, "b")
    assert [
        b.rule for b in compare_schemas(old, {"t": _table(a=old["t"].columns["a"], b=required)})
    ] == ["ZDT504"]
    filled = Column("integer", False, False, "b", filled=True)
    assert compare_schemas(old, {"t": _table(a=old["t"].columns["a"], b=filled)}) == []


def test_tables_the_previous_release_does_not_use_are_ignored() -> None:
    assert compare_schemas({}, {"new": _table(x=Column("integer", False, False, "x"))}) == []
