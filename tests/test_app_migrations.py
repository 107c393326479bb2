"""The app's own ledger migrations apply and unapply on PostgreSQL."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

LEDGER_TABLES = {
    "django_zero_downtime_deploycycle",
    "django_zero_downtime_deprecation",
    "django_zero_downtime_backfillprogress",
    "django_zero_downtime_servingprocess",
}


def _tables() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


def _migrate(target: list[tuple[str, str | None]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


@pytest.mark.django_db(transaction=True)
def test_ledger_migrations_unapply_and_reapply() -> None:
    assert _tables() >= LEDGER_TABLES
    _migrate([("django_zero_downtime", None)])
    assert not LEDGER_TABLES & _tables()
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes("django_zero_downtime"))
    assert _tables() >= LEDGER_TABLES


@pytest.mark.django_db
def test_ledger_defaults_are_set_by_the_database() -> None:
    """Rows inserted by raw SQL (another client, an older release) still get timestamps."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_zero_downtime_deploycycle (release) VALUES ('r1') "
            "RETURNING started_at"
        )
        assert cursor.fetchone()[0] is not None


def test_the_served_releases_migration_passes_the_products_own_checker() -> None:
    """0003 adds a table and nullable columns only: no finding at all (an earlier draft
    renumbered cycles with an UPDATE and failed with ZDT301)."""
    out = StringIO()
    try:
        call_command(
            "safemigrate", "--check", "--all", "django_zero_downtime", stdout=out, stderr=out
        )
    except SystemExit as exc:
        assert not exc.code, out.getvalue()
    assert "0003_served_releases" not in out.getvalue()
    assert "0 error(s)" in out.getvalue()
