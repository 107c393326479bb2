"""The ``migrate`` override: refused in production (pointing at safemigrate), guarded always."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test.utils import override_settings

from django_zero_downtime.exceptions import MigrationInWebProcessError
from django_zero_downtime.guard import runtime as guard
from tests.runner.conftest import ADD_NOTE, CREATE_ITEM, MigrationsPackage, applied, safemigrate

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(*args: str) -> None:
    call_command("migrate", *args, stdout=StringIO(), stderr=StringIO(), verbosity=0)


@override_settings(ZDT_PRODUCTION=True)
def test_migrate_is_refused_in_production_and_points_at_safemigrate(
    rapp: MigrationsPackage,
) -> None:
    rapp.write(**{"0001_item": CREATE_ITEM})
    with pytest.raises(CommandError, match=r"manage\.py safemigrate rapp --release") as caught:
        migrate("rapp")
    assert caught.value.returncode == 1
    assert applied() == []


@override_settings(ZDT_PRODUCTION=True)
def test_backwards_migrate_in_production_says_fix_forward(rapp: MigrationsPackage) -> None:
    rapp.write(**{"0001_item": CREATE_ITEM, "0002_note": ADD_NOTE})
    assert safemigrate("rapp").code == 0
    with pytest.raises(CommandError, match="fix forward with a new migration"):
        migrate("rapp", "0001")
    assert applied() == ["0001_item", "0002_note"]


def test_migrate_outside_production_is_djangos(rapp: MigrationsPackage) -> None:
    rapp.write(**{"0001_item": CREATE_ITEM, "0002_note": ADD_NOTE})
    migrate("rapp")
    assert applied() == ["0001_item", "0002_note"]
    migrate("rapp", "0001")  # development may go backwards
    assert applied() == ["0001_item"]


def test_migrate_asks_the_web_process_guard_first(
    rapp: MigrationsPackage, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def refuse(command: str = "migrate") -> None:
        calls.append(command)
        raise MigrationInWebProcessError("in a web process")

    monkeypatch.setattr(guard, "refuse_if_web_process", refuse)
    rapp.write(**{"0001_item": CREATE_ITEM})
    with pytest.raises(MigrationInWebProcessError):
        migrate("rapp")
    assert calls == ["migrate"]
    assert applied() == []
    assert safemigrate("rapp").code == 3  # safemigrate asks the guard too
    assert calls == ["migrate", "safemigrate"]
