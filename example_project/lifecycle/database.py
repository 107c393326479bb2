"""The demo's own database, and the consistency check of the renamed column.

The demo never touches the project's configured database: it works in a database of its
own (``<configured name>_lifecycle_demo`` unless told otherwise), which it marks with a
comment when it creates it and will only ever drop when it carries that mark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql

from example_project.database import connect_kwargs

MARK = "django-zero-downtime lifecycle demo (safe to drop)"
TABLE = "people_person"
FAMILY_COLUMNS = ("last_name", "surname")


class NotOurDatabase(RuntimeError):
    """The demo database name is taken by a database the demo did not create."""


def demo_config(config: dict[str, Any], name: str) -> dict[str, Any]:
    """Pure: the project's database settings pointed at database ``name``."""
    return {**config, "NAME": name}


def database_url(config: dict[str, Any]) -> str:
    """Pure: a ``postgres://`` URL for ``config`` (the form ``DATABASE_URL`` takes)."""
    auth = quote(config.get("USER") or "", safe="")
    if config.get("PASSWORD"):
        auth += ":" + quote(config["PASSWORD"], safe="")
    host = config.get("HOST") or ""
    port = f":{config['PORT']}" if config.get("PORT") else ""
    return f"postgres://{auth}{'@' if auth else ''}{host}{port}/{quote(config['NAME'], safe='')}"


def _admin(config: dict[str, Any]) -> psycopg.Connection[Any]:
    return psycopg.connect(**connect_kwargs(config, "postgres"), autocommit=True)


def _comment(conn: psycopg.Connection[Any], name: str) -> tuple[bool, str | None]:
    row = conn.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        (name,),
    ).fetchone()
    return (row is not None, row[0] if row else None)


def drop(config: dict[str, Any]) -> None:
    """Drop the demo database if it exists and carries the demo's mark."""
    name = config["NAME"]
    with _admin(config) as conn:
        exists, comment = _comment(conn, name)
        if not exists:
            return
        if comment != MARK:
            raise NotOurDatabase(
                f"Database {name!r} exists and was not created by the lifecycle demo; "
                "it is left alone. Pick another with --database-name."
            )
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def recreate(config: dict[str, Any]) -> None:
    """A fresh, empty demo database (dropping the previous run's)."""
    drop(config)
    ident = sql.Identifier(config["NAME"])
    with _admin(config) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(ident, sql.Literal(MARK)))


def connect(config: dict[str, Any]) -> psycopg.Connection[Any]:
    return psycopg.connect(**connect_kwargs(config, config["NAME"]), autocommit=True)


def seed_people(config: dict[str, Any], rows: int) -> None:
    """Release 1's existing data: ``rows`` people, inserted in one statement."""
    with connect(config) as conn:
        conn.execute(
            "INSERT INTO people_person (first_name, last_name) "
            "SELECT 'Seed' || g, 'Family' || g FROM generate_series(1, %s) AS g",
            (rows,),
        )


@dataclass(frozen=True)
class Consistency:
    """The family-name columns present and how many rows break the invariant."""

    columns: tuple[str, ...]
    rows: int
    differing: int
    missing: int

    @property
    def ok(self) -> bool:
        return self.differing == 0 and self.missing == 0


def consistency_query(columns: tuple[str, ...]) -> str:
    """Pure: rows, rows whose two columns differ, rows without a family name."""
    if set(FAMILY_COLUMNS) <= set(columns):
        differ = "count(*) FILTER (WHERE surname IS DISTINCT FROM last_name)"
        missing = "count(*) FILTER (WHERE surname IS NULL OR last_name IS NULL)"
    else:
        differ = "0"
        missing = f"count(*) FILTER (WHERE {columns[0]} IS NULL OR {columns[0]} = '')"
    return f"SELECT count(*), {differ}, {missing} FROM {TABLE}"


def check_consistency(config: dict[str, Any]) -> Consistency:
    """``surname`` = ``last_name`` on every row while both exist; no row without a name."""
    with connect(config) as conn:
        found = conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = %s AND column_name = ANY(%s) ORDER BY column_name",
            (TABLE, list(FAMILY_COLUMNS)),
        ).fetchall()
        columns = tuple(row[0] for row in found)
        if not columns:
            return Consistency(columns, 0, 0, 0)
        rows, differing, missing = conn.execute(consistency_query(columns)).fetchone() or (0, 0, 0)
    return Consistency(columns, rows, differing, missing)
