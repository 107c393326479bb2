"""Type-change facts from PostgreSQL's cast rules (pure; the server test checks them live)."""

from __future__ import annotations

import pytest

from django_zero_downtime.sql.types import parse_type, type_change


@pytest.mark.parametrize(
    ("old", "new", "rewrites", "rebuilds"),
    [
        ("varchar(10)", "VARCHAR ( 20 )", False, False),
        ("character varying(10)", "text", False, False),
        ("varchar(10)", "varchar", False, False),
        ("varchar(20)", "varchar(10)", True, False),
        ("varchar", "varchar(10)", True, False),
        ("text", "varchar(10)", True, False),
        ("text", "varchar", False, False),
        ("integer", "bigint", True, False),
        ("numeric(8,2)", "numeric(10,2)", False, False),
        ("numeric(8,2)", "numeric(10,3)", True, False),
        ("numeric(8,2)", "numeric", False, False),
        ("numeric", "numeric(8,2)", True, False),
        ("timestamp(3) without time zone", "timestamp(6)", False, False),
        ("timestamp(6)", "timestamp(3)", True, False),
        ("timestamp without time zone", "timestamp with time zone", False, True),
        ("cidr", "inet", False, False),
        ("inet", "cidr", True, False),
        ("char(5)", "char(10)", True, False),
        ("json", "jsonb", True, False),
        ("int[]", "bigint[]", True, False),
        ("Text", "text", False, False),
    ],
)
def test_type_change(old: str, new: str, rewrites: bool, rebuilds: bool) -> None:
    change = type_change(old, new)
    assert (change.rewrites, change.rebuilds_indexes) == (rewrites, rebuilds)


def test_timestamptz_rewrites_when_the_session_is_not_utc() -> None:
    assert type_change("timestamp", "timestamptz", utc=False).rewrites


def test_old_writers_fit_widening_only() -> None:
    assert type_change("integer", "bigint").old_writers_ok
    assert not type_change("bigint", "integer").old_writers_ok
    assert not type_change("varchar(20)", "varchar(10)").old_writers_ok


def test_unknown_type_is_assumed_to_rewrite() -> None:
    change = type_change(None, "text")
    assert change.rewrites and not change.known
    assert parse_type("double precision") is not None
