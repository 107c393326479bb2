"""zdt.E010: manage.py check fails on an error finding in a new migration of the project."""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.core.management import call_command, load_command_class
from django.core.management.base import SystemCheckError
from django.test import override_settings

from django_zero_downtime.lint import gate
from django_zero_downtime.lint.system_check import is_first_party, migration_messages
from tests.lint.test_cli import SAFE, UNSAFE


def ids(messages: list) -> list[str]:
    return [message.id for message in messages]


def test_first_party_apps_are_the_projects_own() -> None:
    assert is_first_party(apps.get_app_config("people"))
    assert not is_first_party(apps.get_app_config("auth"))


@UNSAFE
def test_error_finding_in_new_migration_fails_check() -> None:
    with gate.judging():
        [message] = migration_messages()
    assert message.id == "zdt.E010"
    assert message.msg.startswith("people.0002_unsafe: ZDT101 drop-column:")
    assert message.obj == "tests/lint/fixtures/people_unsafe/0002_unsafe.py:9"
    assert "DeprecateColumn" in message.hint
    with gate.judging(), pytest.raises(SystemCheckError, match=r"zdt\.E010"):
        call_command("check", "--tag", "zero_downtime")


@UNSAFE
def test_check_from_the_command_line_judges(capsys: pytest.CaptureFixture[str]) -> None:
    command = load_command_class("django_zero_downtime", "check")
    with pytest.raises(SystemExit) as exc:
        command.run_from_argv(["manage.py", "check", "--tag", "zero_downtime"])
    assert exc.value.code == 1
    assert "zdt.E010" in capsys.readouterr().err


@UNSAFE
def test_outside_judgement_the_finding_is_a_warning() -> None:
    [message] = migration_messages()
    assert message.id == "zdt.W011"
    assert "manage.py check` fails on it" in message.hint
    call_command("check", "--tag", "zero_downtime")  # the test runner's path: no error


@SAFE
def test_safe_migrations_pass_check() -> None:
    assert migration_messages() == []


@UNSAFE
def test_baseline_and_severity_settings_apply() -> None:
    with override_settings(ZDT_BASELINE={"people": "0002_unsafe"}):
        assert migration_messages() == []
    with override_settings(ZDT_RULES_SEVERITY={"ZDT101": "warning"}):
        assert migration_messages() == []


def test_unknown_rule_codes_in_settings_warn() -> None:
    with override_settings(ZDT_RULES_IGNORE=["ZDT999", "ZDT401"]):
        messages = migration_messages()
    assert ids(messages) == ["zdt.W010"]
    assert "'ZDT999'" in messages[0].msg


@UNSAFE
def test_safemigrate_check_reports_in_its_format_instead_of_failing_system_checks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    command = load_command_class("django_zero_downtime", "safemigrate")
    argv = ["manage.py", "safemigrate", "--check", "--all", "--format", "json", "people"]
    with pytest.raises(SystemExit) as exc:
        command.run_from_argv(argv)  # the real path: parse argv, then system checks, handle
    assert exc.value.code == 1
    assert json.loads(capsys.readouterr().out)["findings"][0]["rule"] == "ZDT101"
