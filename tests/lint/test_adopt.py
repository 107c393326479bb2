"""``safemigrate --adopt``, the baseline file, and when zdt.E010 stops a command."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from django_zero_downtime.lint import baseline, gate
from django_zero_downtime.lint.system_check import baseline_messages, migration_messages
from tests.lint.test_cli import UNSAFE


def adopt(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("safemigrate", "--adopt", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    with override_settings(ZDT_BASELINE_FILE=str(tmp_path / baseline.FILE_NAME)):
        yield tmp_path


@UNSAFE
def test_adopt_records_every_app_and_silences_shipped_history(root: Path) -> None:
    with gate.judging():
        assert [m.id for m in migration_messages()] == ["zdt.E010"]
    code, out = adopt()
    assert code == 0, out
    recorded = json.loads((root / baseline.FILE_NAME).read_text())
    assert recorded["version"] == 1
    assert recorded["migrations"]["people"] == "0002_unsafe"
    assert recorded["migrations"]["auth"].startswith("00")  # installed packages too
    assert "Commit it" in out and "zero_downtime_baseline.json" in out
    with gate.judging():
        assert migration_messages() == []
        assert baseline_messages() == []
    assert adopt() == (0, adopt()[1]) and "up to date" in adopt()[1]


@UNSAFE
def test_rerun_after_new_migrations_needs_force(root: Path) -> None:
    adopt()
    old = json.loads((root / baseline.FILE_NAME).read_text())["migrations"]
    baseline.write({**old, "people": "0001_initial"}, root / baseline.FILE_NAME)
    code, out = adopt()
    assert code == 1
    assert "people: 0001_initial -> 0002_unsafe (1 migration(s))" in out
    assert "--force" in out
    assert baseline.read_file()["people"] == "0001_initial"  # nothing written
    code, out = adopt("--force")
    assert code == 0 and "Moved" in out
    assert baseline.read_file()["people"] == "0002_unsafe"


@UNSAFE
@pytest.mark.django_db
def test_baseline_naming_a_missing_migration(root: Path) -> None:
    baseline.write({"people": "0009_typo"}, root / baseline.FILE_NAME)
    [warning] = baseline_messages()
    assert warning.id == "zdt.W012"
    with gate.judging():
        [error] = baseline_messages()
    assert error.id == "zdt.E012"
    assert '"people": "0009_typo"' in error.msg
    assert '"0002_unsafe"' in error.hint and "--adopt --force" in error.hint
    assert "showmigrations" not in error.hint
    call_command("showmigrations", "--plan", skip_checks=False, stdout=io.StringIO())  # not stopped
    with gate.judging():  # the typo exempts nothing: the new migration is still judged
        assert "zdt.E010" in [m.id for m in migration_messages()]
    code, _ = adopt("--force")  # the fix the hint gives works
    assert code == 0 and baseline_messages() == []


def test_malformed_baseline_file_is_named(root: Path) -> None:
    (root / baseline.FILE_NAME).write_text("{not json")
    [warning] = baseline_messages()
    assert "zero_downtime_baseline.json is not valid JSON" in warning.msg
    with pytest.raises(baseline.BaselineError, match="--adopt --force"):
        baseline.read_file()


@UNSAFE
@pytest.mark.django_db
def test_migrate_is_stopped_only_when_its_plan_contains_the_flagged_migration() -> None:
    assert ("people", "0002_unsafe") in gate.forward_plan("default", None, None)
    assert gate.forward_plan("default", "people", "0001") == frozenset()
    quiet = {"skip_checks": False, "stdout": io.StringIO()}
    call_command("migrate", "people", "0001", **quiet)  # a target that excludes it: runs
    call_command("migrate", "--plan", **quiet)  # Django's plan: runs
    with pytest.raises(SystemCheckError, match=r"zdt\.E010"):
        call_command("migrate", "people", "0002_unsafe", **quiet)


@UNSAFE
@pytest.mark.django_db
def test_safemigrate_plan_runs_while_apply_is_stopped() -> None:
    out = io.StringIO()
    with contextlib.suppress(SystemExit):
        call_command("safemigrate", "--plan", "people", skip_checks=False, stdout=out)
    assert "0002_unsafe" in out.getvalue()
    with pytest.raises(SystemCheckError, match=r"zdt\.E010"):
        call_command("safemigrate", "people", skip_checks=False, stdout=io.StringIO())
