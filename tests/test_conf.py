"""Settings: defaults, validation with a message naming the setting, and the system check."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from django_zero_downtime import checks, conf


def test_defaults_match_the_rules_of_engagement() -> None:
    values = conf.get_settings()
    assert values.DEPRECATION_CYCLES == 3
    assert values.LARGE_TABLE_ROWS == 1_000_000
    assert values.LOCK_TIMEOUT_MS == 500
    assert values.REHEARSAL_BUDGET == 5.0


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ZDT_LOCK_TIMEOUT_MS", "500ms", "a positive integer"),
        ("ZDT_LOCK_TIMEOUT_MS", 0, "a positive integer"),
        ("ZDT_DEPRECATION_CYCLES", -1, "an integer >= 0"),
        ("ZDT_LARGE_TABLE_ROWS", True, "a positive integer"),
        ("ZDT_PRODUCTION", "yes", "True or False"),
        ("ZDT_RULES_IGNORE", "ZDT101", "a list of strings"),
        ("ZDT_RULES_SEVERITY", {"ZDT101": "fatal"}, "a dict of rule code"),
        ("ZDT_BASELINE", ["0001"], "a dict of app label"),
        ("ZDT_MIGRATION_DATABASE", "nope", "one of the DATABASES aliases (default)"),
        ("ZDT_REHEARSAL_BUDGET", -0.5, "a number >= 0"),
        ("ZDT_COMPAT_GIT_REF", "", "None or a git ref"),
    ],
)
def test_bad_value_names_the_setting(name: str, value: object, expected: str) -> None:
    with override_settings(**{name: value}), pytest.raises(ImproperlyConfigured) as caught:
        conf.get_settings()
    message = str(caught.value)
    assert message.startswith(f"{name} = {value!r} is not valid")
    assert expected in message


def test_good_values_are_read() -> None:
    with override_settings(
        ZDT_DEPRECATION_CYCLES=5,
        ZDT_RULES_IGNORE=["ZDT201"],
        ZDT_RULES_SEVERITY={"ZDT101": "warning"},
        ZDT_REHEARSAL_BUDGET=2,
        ZDT_COMPAT_GIT_REF="origin/main",
    ):
        values = conf.get_settings()
    assert values.DEPRECATION_CYCLES == 5
    assert values.RULES_IGNORE == ("ZDT201",)
    assert values.RULES_SEVERITY == {"ZDT101": "warning"}
    assert values.REHEARSAL_BUDGET == 2.0
    assert values.COMPAT_GIT_REF == "origin/main"


def test_system_check_reports_bad_setting_as_e001() -> None:
    with override_settings(ZDT_MAX_RETRIES="many"):
        messages = checks.check_settings()
    assert [m.id for m in messages] == ["zdt.E001"]
    assert "ZDT_MAX_RETRIES" in messages[0].msg


def test_system_check_warns_on_unknown_setting() -> None:
    with override_settings(ZDT_LOCK_TIMEOUT=500):
        messages = checks.check_settings()
    assert [m.id for m in messages] == ["zdt.W001"]
    assert "ZDT_LOCK_TIMEOUT " in messages[0].msg
    assert "ZDT_LOCK_TIMEOUT_MS" in (messages[0].hint or "")


def test_clean_settings_pass_the_check() -> None:
    assert checks.check_settings() == []


def test_every_setting_has_a_default_and_the_snapshot_is_immutable() -> None:
    values = conf.ZdtSettings()
    assert set(values.as_dict()) == set(conf.VALIDATORS)
    assert all(hasattr(conf.ZdtSettings, name) for name in conf.VALIDATORS)
    assert conf.ZdtSettings(MAX_RETRIES=2) == conf.ZdtSettings(MAX_RETRIES=2) != values
    with pytest.raises(AttributeError, match="immutable"):
        values.MAX_RETRIES = 1
    with pytest.raises(TypeError, match="LOCK_TIMEOUT"):
        conf.ZdtSettings(LOCK_TIMEOUT=1)
