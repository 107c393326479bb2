"""Where the example project and the test suite find PostgreSQL.

``DATABASE_URL`` (``postgres://user:password@host:port/name``) when set; otherwise the
local server on 127.0.0.1:5432 as user ``postgres``. There is deliberately no SQLite
fallback: everything this product does is PostgreSQL-specific.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/zero_downtime_example"

UNREACHABLE_HELP = (
    "django-zero-downtime needs a PostgreSQL server (13 or newer) and none answered at "
    "{where}. Start the local server (on Debian: `pg_ctlcluster <version> main start`), or "
    "point the project at another one with DATABASE_URL, e.g. "
    "`export DATABASE_URL=postgres://user:password@db.example:5432/zero_downtime_example`; "
    "the user needs the right to create databases so the tests can make their own. "
    "(Server said: {error})"
)


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


def parse_database_url(url: str) -> dict[str, Any]:
    """Turn a ``postgres://`` URL into a Django ``DATABASES`` entry."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise ValueError(
            f"DATABASE_URL must start with postgres:// (got {parts.scheme or 'no'} scheme): "
            "this product works on PostgreSQL only."
        )
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "postgres",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "OPTIONS": dict(parse_qsl(parts.query)),
    }


def describe(config: dict[str, Any]) -> str:
    host = config["HOST"] or "the local socket"
    return f"{host}:{config['PORT'] or 5432} (database {config['NAME']!r}, user {config['USER']!r})"


def connect_kwargs(config: dict[str, Any], dbname: str) -> dict[str, Any]:
    kwargs = {"dbname": dbname, "user": config["USER"], "password": config["PASSWORD"]}
    kwargs |= {"host": config["HOST"], "port": config["PORT"], "connect_timeout": 5}
    return {key: value for key, value in kwargs.items() if value} | config["OPTIONS"]


def ensure_database(config: dict[str, Any]) -> None:
    """Create the configured database when the server answers but it does not exist yet.

    Raises ``SystemExit`` with :data:`UNREACHABLE_HELP` when no server answers.
    """
    import psycopg

    try:
        psycopg.connect(**connect_kwargs(config, config["NAME"])).close()
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise SystemExit(_unreachable(config, exc)) from None
        _create_database(config)


def _create_database(config: dict[str, Any]) -> None:
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(**connect_kwargs(config, "postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
    except psycopg.Error as exc:
        raise SystemExit(_unreachable(config, exc)) from None


def _unreachable(config: dict[str, Any], exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return UNREACHABLE_HELP.format(where=describe(config), error=lines[0] if lines else repr(exc))
