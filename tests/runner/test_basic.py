"""safemigrate applies, plans, reports, refuses backwards targets (real PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.runner.conftest import (
    ADD_NOTE,
    CREATE_ITEM,
    MigrationsPackage,
    applied,
    migration,
    safemigrate,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_applies_pending_migrations_and_writes_report(
    rapp: MigrationsPackage, tmp_path: Path
) -> None:
    rapp.write(**{"0001_item": CREATE_ITEM, "0002_note": ADD_NOTE})
    report = tmp_path / "report.json"
    result = safemigrate("rapp", "--release", "r1", "--report", str(report))
    assert result.code == 0, result.err
    assert applied() == ["0001_item", "0002_note"]
    data = json.loads(report.read_text())
    assert data["outcome"] == "applied"
    assert data["release"] == "r1"
    assert data["applied"] == ["rapp.0001_item", "rapp.0002_note"]


def test_usage_errors_exit_3_not_2(
    rapp: MigrationsPackage, capsys: pytest.CaptureFixture[str]
) -> None:
    """2 means "gave up on locks, retry later": a typo must not look like that."""
    from django_zero_downtime.management.commands.safemigrate import Command

    with pytest.raises(SystemExit) as caught:
        Command().run_from_argv(["manage.py", "safemigrate", "--lock-timeout", "soon"])
    assert caught.value.code == 3
    assert "--lock-timeout: invalid int value: 'soon'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        Command().run_from_argv(["manage.py", "safemigrate", "--max-retries", "-1"])
    assert caught.value.code == 3
    assert "--max-retries -1 is not valid" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        Command().run_from_argv(["manage.py", "safemigrate", "--release", " "])
    assert caught.value.code == 3


def test_malformed_approval_names_the_file_and_the_fix(rapp: MigrationsPackage) -> None:
    bad = migration(["0001_item"], ADD_NOTE.split("operations = [\n")[1].split("\n    ]")[0],
                    extra='    zero_downtime = ["ZDT401"]\n')  # fmt: skip
    rapp.write(**{"0001_item": CREATE_ITEM, "0002_note": bad})
    result = safemigrate("rapp")
    assert result.code == 3
    assert f"{rapp.path}/0002_note.py" in result.err
    assert "must be a dict of rule code to reason" in result.err
    assert "Traceback" not in result.err
    assert applied() == []


def test_unknown_app_and_migration_are_clear_errors(rapp: MigrationsPackage) -> None:
    rapp.write(**{"0001_item": CREATE_ITEM})
    result = safemigrate("rapp", "0099")
    assert result.code == 3 and "Cannot find a migration matching '0099'" in result.err
    result = safemigrate("contenttypes_nope")
    assert result.code == 3 and "'contenttypes_nope' does not have migrations" in result.err
