"""The operations in real migration files, applied by Django's migration executor."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings

from django_zero_downtime.exceptions import RefusedByRule
from django_zero_downtime.models import Deprecation
from tests.operations.conftest import release

APP = "tests.operations.zdtapp"


@pytest.fixture
def zdtapp(transactional_db: None) -> Iterator[MigrationExecutor]:
    from django.conf import settings as django_settings

    with override_settings(INSTALLED_APPS=[*django_settings.INSTALLED_APPS, APP]):
        executor = MigrationExecutor(connection)
        try:
            yield executor
        finally:
            executor.loader.build_graph()
            executor.migrate([("zdtapp", None)])


def migrate(executor: MigrationExecutor, name: str) -> None:
    executor.loader.build_graph()
    executor.migrate([("zdtapp", name)])


def test_seed_rename_through_migration_files(zdtapp: MigrationExecutor) -> None:
    release("1.0.0")
    migrate(zdtapp, "0001_initial")
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO zdtapp_person (first_name, last_name) VALUES ('a', 'b')")
    release("2.0.0")
    migrate(zdtapp, "0002_rename_last_name_person_surname")
    deprecation = Deprecation.objects.get(table="zdtapp_person")
    assert deprecation.migration == "zdtapp.0002_rename_last_name_person_surname"
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO zdtapp_person (first_name, last_name) VALUES ('c', 'd')")
        cursor.execute("SELECT last_name, surname, nickname FROM zdtapp_person ORDER BY id")
        assert cursor.fetchall() == [("b", "b", "none"), ("d", "d", "none")]
    for label in ("3.0.0", "4.0.0"):
        release(label)
        with pytest.raises(RefusedByRule, match="more release"):
            migrate(zdtapp, "0003_complete_rename_last_name_person_surname")
    release("5.0.0")
    migrate(zdtapp, "0003_complete_rename_last_name_person_surname")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM zdtapp_person ORDER BY id")
        assert cursor.fetchall() == [(1, "a", "b", "none"), (2, "c", "d", "none")]


def test_makemigrations_sees_no_changes_after_the_operations(zdtapp: MigrationExecutor) -> None:
    """State after the zdt operations equals the models: nothing for makemigrations."""
    call_command("makemigrations", "zdtapp", "--check", "--dry-run", verbosity=0)
