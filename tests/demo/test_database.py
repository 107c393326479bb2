"""The demo's own database (created, marked, dropped only when marked) and the
consistency check of the renamed column."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.conf import settings
from psycopg import sql

from example_project.database import connect_kwargs
from example_project.lifecycle import database
from tests.dbnames import test_database_name


@pytest.fixture
def scratch() -> Iterator[dict[str, Any]]:
    config = database.demo_config(settings.DATABASES["default"], test_database_name("demo_db"))
    yield config
    with psycopg.connect(**connect_kwargs(config, "postgres"), autocommit=True) as conn:
        ident = sql.Identifier(config["NAME"])
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))


def test_database_url_round_trips_through_the_projects_parser() -> None:
    from example_project.database import parse_database_url

    config = {"USER": "u s", "PASSWORD": "p@ss:/", "HOST": "db", "PORT": "5433", "NAME": "n"}
    parsed = parse_database_url(database.database_url(config))
    assert {k: parsed[k] for k in config} == config


@pytest.mark.slow
def test_recreate_marks_and_drop_removes(scratch: dict[str, Any]) -> None:
    database.recreate(scratch)
    database.recreate(scratch)  # its own mark: dropped and created again
    with database.connect(scratch) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (scratch["NAME"],)
    database.drop(scratch)
    with pytest.raises(psycopg.OperationalError):
        database.connect(scratch).close()


def test_a_database_without_the_mark_is_never_dropped(scratch: dict[str, Any]) -> None:
    with psycopg.connect(**connect_kwargs(scratch, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch["NAME"])))
    with pytest.raises(database.NotOurDatabase, match="not created by the lifecycle demo"):
        database.recreate(scratch)
    database.connect(scratch).close()  # still there


def _table(config: dict[str, Any], ddl: str, rows: str) -> None:
    with database.connect(config) as conn:
        conn.execute(f"CREATE TABLE people_person (id serial PRIMARY KEY, {ddl})")
        conn.execute(f"INSERT INTO people_person {rows}")


def test_consistency_counts_rows_whose_columns_differ(scratch: dict[str, Any]) -> None:
    database.recreate(scratch)
    _table(
        scratch,
        "last_name text, surname text",
        "(last_name, surname) VALUES ('a', 'a'), ('b', 'B'), ('c', NULL), (NULL, NULL)",
    )
    found = database.check_consistency(scratch)
    assert found.columns == ("last_name", "surname")
    assert (found.rows, found.differing, found.missing) == (4, 2, 2)
    assert not found.ok


def test_consistency_after_the_drop_requires_a_surname(scratch: dict[str, Any]) -> None:
    database.recreate(scratch)
    _table(scratch, "surname text", "(surname) VALUES ('a'), ('b')")
    assert database.check_consistency(scratch) == database.Consistency(("surname",), 2, 0, 0)
    with database.connect(scratch) as conn:
        conn.execute("INSERT INTO people_person (surname) VALUES ('')")
    assert database.check_consistency(scratch).missing == 1


def test_consistency_without_the_table(scratch: dict[str, Any]) -> None:
    database.recreate(scratch)
    assert database.check_consistency(scratch) == database.Consistency((), 0, 0, 0)
