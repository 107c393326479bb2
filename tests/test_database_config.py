"""Where the example project and the tests find PostgreSQL, and what they say when they can't."""

from __future__ import annotations

import socket

import pytest

from example_project.database import ensure_database, parse_database_url


def test_url_becomes_a_postgresql_entry() -> None:
    config = parse_database_url("postgres://app:s%40cret@db.internal:6543/shop?sslmode=require")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"]) == ("app", "s@cret")
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", "6543", "shop")
    assert config["OPTIONS"] == {"sslmode": "require"}


def test_non_postgres_url_is_refused_not_silently_sqlite() -> None:
    with pytest.raises(ValueError, match="PostgreSQL only"):
        parse_database_url("sqlite:///db.sqlite3")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_server_gives_one_paragraph_with_the_fix() -> None:
    config = parse_database_url(f"postgres://postgres@127.0.0.1:{_free_port()}/nothing")
    with pytest.raises(SystemExit) as caught:
        ensure_database(config)
    message = str(caught.value)
    assert "none answered at 127.0.0.1" in message
    assert "DATABASE_URL" in message
    assert "\n" not in message


def test_missing_database_is_created() -> None:
    import psycopg

    from example_project.database import connect_kwargs

    config = parse_database_url("postgres://postgres@127.0.0.1:5432/zdt_created_by_test")
    with psycopg.connect(**connect_kwargs(config, "postgres"), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS zdt_created_by_test")
        ensure_database(config)
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = 'zdt_created_by_test'")
        assert found.fetchone() == (1,)
        conn.execute("DROP DATABASE zdt_created_by_test")
