"""The shared SQL lexing helpers (pure, no database)."""

from __future__ import annotations

import pytest

from django_zero_downtime.sql import lexing as sqltext
from django_zero_downtime.sql.parse import relation_of


def _clean(sql: str) -> list[str]:
    return [sqltext.clean_text(s.tokens) for s in sqltext.split_statements(sql)]


def test_multi_statement_input_is_split_and_sources_kept() -> None:
    statements = sqltext.split_statements("ALTER TABLE a DROP x;\n\n  CREATE TABLE b (id int);")
    assert [s.sql for s in statements] == ["ALTER TABLE a DROP x;", "CREATE TABLE b (id int);"]


def test_comment_only_and_empty_statements_are_skipped() -> None:
    sql = "-- just a note\n;  ; /* block\n comment */ ; SELECT 1"
    assert _clean(sql) == ["SELECT 1"]


def test_comments_are_dropped_and_spaces_collapsed() -> None:
    sql = "ALTER   TABLE a -- DROP TABLE x;\n  ADD /* ; DROP */ b int;"
    assert _clean(sql) == ["ALTER TABLE a ADD b int"]


def test_semicolon_inside_string_does_not_split() -> None:
    assert _clean("INSERT INTO t VALUES ('a;b'); SELECT 2") == [
        "INSERT INTO t VALUES ('')",
        "SELECT 2",
    ]


def test_dollar_quoted_body_is_one_blanked_literal() -> None:
    sql = (
        "CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN DROP TABLE x; END $body$ "
        "LANGUAGE plpgsql; DO $$ BEGIN ALTER TABLE y DROP z; END $$;"
    )
    assert _clean(sql) == [
        "CREATE FUNCTION f() RETURNS trigger AS '' LANGUAGE plpgsql",
        "DO ''",
    ]


def test_quoted_identifier_is_kept_not_blanked() -> None:
    assert _clean('DROP TABLE "we;ird"') == ['DROP TABLE "we;ird"']


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ('"Foo"', "Foo"),
        ('"say ""hi"""', 'say "hi"'),
        ("FooBar", "foobar"),
        ('"MiXeD"', "MiXeD"),
    ],
)
def test_unquote_identifier(name: str, expected: str) -> None:
    assert sqltext.unquote_identifier(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ('public."Foo"', "Foo"),
        ("Public.Foo", "foo"),
        ('"my.schema"."a""b"', 'a"b'),
        ("t", "t"),
    ],
)
def test_unqualified_name_drops_schema(name: str, expected: str) -> None:
    assert sqltext.unqualified_name(name) == expected


def test_split_commas_respects_parentheses_and_quotes() -> None:
    text = "ADD c numeric(10, 2), DROP \"a,b\", ADD CHECK (x IN ('1,2', ')')) , "
    assert sqltext.split_commas(text) == [
        "ADD c numeric(10, 2)",
        'DROP "a,b"',
        "ADD CHECK (x IN ('1,2', ')'))",
    ]


def test_split_top_level_over_any_items() -> None:
    items = ["a", "(", ",", ")", ",", "b", ","]
    assert sqltext.split_top_level(items, str) == [["a", "(", ",", ")"], ["b"]]


@pytest.mark.parametrize(
    ("sql", "table", "expected"),
    [
        ('ALTER TABLE "sales"."orders" ALTER COLUMN "n" TYPE bigint', "orders", '"sales"."orders"'),
        ("CREATE INDEX i ON Sales.Orders (n)", "orders", '"sales"."orders"'),
        ('ALTER TABLE "orders" ADD COLUMN "n" integer', "orders", None),
        ('UPDATE "orders" SET n = 1 FROM "x" WHERE "x"."orders" = 1', "orders", None),
        ('ALTER TABLE IF EXISTS ONLY "s"."orders" ADD c int', "orders", '"s"."orders"'),
        ('ALTER TABLE "a.b" ADD COLUMN c int', "a.b", None),
    ],
)
def test_relation_of_keeps_the_schema(sql: str, table: str, expected: str | None) -> None:
    assert relation_of(sql, table) == expected
