"""The pytest plugin's fixtures, used the way a project's own tests use them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from django_zero_downtime.testing import Migrator, OldCodeBroken
from tests.bluegreen.conftest import UNDO_FORGETS_INDEX


def test_plugin_is_registered_by_its_entry_point(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.has_plugin("django_zero_downtime")


@pytest.mark.parametrize(
    ("app", "name"), [("people", "0001_initial"), ("django_zero_downtime", "0001")]
)
def test_forwards_backwards_of_this_repos_migrations(
    zdt_migrator: Migrator, app: str, name: str
) -> None:
    zdt_migrator.forwards_backwards(app, name)


def test_forwards_backwards_catches_a_reverse_that_forgets_something(
    git_app_db: Path, zdt_migrator: Migrator
) -> None:
    (git_app_db / "zdt_gitapp" / "migrations" / "0003_index.py").write_text(UNDO_FORGETS_INDEX)
    with pytest.raises(AssertionError, match=r"indexes left over: .*thing_id_idx"):
        zdt_migrator.forwards_backwards("zdt_gitapp", "0003")
    with connection.cursor() as cursor:  # what a fixed reverse_sql would have done
        cursor.execute("DROP INDEX thing_id_idx")


def test_previous_release_breaks_on_a_dropped_column(
    git_app_db: Path, zdt_migrator: Migrator
) -> None:
    with pytest.raises(
        OldCodeBroken, match=r'zdt_gitapp\.Thing: insert the widest row failed: column "name"'
    ):
        zdt_migrator.check_previous_release({"zdt_gitapp": "0001"})


def test_previous_release_works_when_nothing_breaks(
    git_app_db: Path, zdt_migrator: Migrator
) -> None:
    assert zdt_migrator.check_previous_release({"zdt_gitapp": "0002"}) == ["zdt_gitapp.Thing"]
    previous_and_new = {"people": "0001"}
    assert zdt_migrator.check_previous_release(previous_and_new, new=previous_and_new) == [
        "people.Person"
    ]


def test_check_against_the_migrations_applied_on_the_database(
    git_app_db: Path, zdt_migrator: Migrator, zdt_check_compatibility: Callable[..., Any]
) -> None:
    zdt_migrator.migrate({"zdt_gitapp": "0001"})
    [finding] = zdt_check_compatibility(database="default")
    assert (finding.rule, finding.migration) == ("ZDT502", "0002_drop_name")
    zdt_migrator.migrate({"zdt_gitapp": "0002"})
    assert zdt_check_compatibility(database="default") == []


def test_migrator_teardown_restores_the_latest_schema(
    zdt_migrator: Migrator, zdt_schema_snapshot: Callable[..., Any]
) -> None:
    latest = zdt_schema_snapshot()
    zdt_migrator.migrate({"people": None})
    assert zdt_schema_snapshot() != latest
    zdt_migrator.reset()
    assert zdt_schema_snapshot() == latest


@pytest.mark.django_db
def test_ledger_snapshot_and_restore() -> None:
    from django_zero_downtime.models import DeployCycle, Deprecation
    from django_zero_downtime.testing import ledger_snapshot, restore_ledger

    DeployCycle.objects.create(release="r1")
    Deprecation.objects.create(
        kind="column", table="t", column="c", app_label="a", migration="m", deprecated_in_cycle=1
    )
    before = ledger_snapshot()
    assert before is not None
    Deprecation.objects.filter(table="t").delete()
    DeployCycle.objects.create(release="r2")
    restore_ledger(before)
    assert "r1" in DeployCycle.objects.values_list("release", flat=True)
    assert not DeployCycle.objects.filter(release="r2").exists()
    assert Deprecation.objects.get(table="t").column == "c"
    assert ledger_snapshot() == before


def test_plugin_remembered_the_ledger_of_the_test_database(
    pytestconfig: pytest.Config, db: None
) -> None:
    from django_zero_downtime.testing.pytest_plugin import LEDGER

    assert LEDGER in pytestconfig.stash
