"""System check zdt.E040/E041: the compatibility check at merge time, from a git ref."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from django_zero_downtime import checks


def test_does_nothing_without_a_git_ref(git_app: Path) -> None:
    assert checks.check_compatibility() == []


def test_break_since_the_ref_is_e040(git_app: Path) -> None:
    with override_settings(ZDT_COMPAT_GIT_REF="HEAD"):
        messages = checks.check_compatibility()
    [message] = [m for m in messages if "zdt_gitapp" in m.msg]
    assert message.id == "zdt.E040"
    assert "ZDT502 column-removed: zdt_gitapp.Thing.name" in message.msg
    assert "DeprecateColumn" in (message.hint or "")


def test_manage_py_check_fails_on_it(git_app: Path) -> None:
    with (
        override_settings(ZDT_COMPAT_GIT_REF="HEAD"),
        pytest.raises(SystemCheckError, match=r"zdt\.E040"),
    ):
        call_command("check", "--tag", "zero_downtime")


def test_unknown_ref_is_e041(git_app: Path) -> None:
    with override_settings(ZDT_COMPAT_GIT_REF="no-such-ref"):
        [message] = checks.check_compatibility()
    assert message.id == "zdt.E041"
    assert "git fetch" in message.msg
