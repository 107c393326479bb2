"""System checks (tag ``zero_downtime``).

Ids: ``zdt.E001`` a ``ZDT_*`` setting is invalid; ``zdt.W001`` an unknown ``ZDT_*`` setting
(likely a typo). Other features register their checks from their own modules; every id is
listed in docs/checks.md.
"""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from django_zero_downtime import conf

TAG = "zero_downtime"


@checks.register(TAG)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """zdt.E001 / zdt.W001: every ``ZDT_*`` setting is valid and known."""
    messages: list[checks.CheckMessage] = []
    try:
        conf.get_settings()
    except ImproperlyConfigured as exc:
        messages.append(checks.Error(str(exc), id="zdt.E001"))
    for name in conf.unknown_settings():
        messages.append(
            checks.Warning(
                f"{name} is not a django-zero-downtime setting and is ignored.",
                hint=f"Known settings: {', '.join(conf.SETTING_NAMES)}.",
                id="zdt.W001",
            )
        )
    return messages


@checks.register(TAG)
def check_compatibility(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """zdt.E040 / zdt.W040: the previous release (ZDT_COMPAT_GIT_REF) breaks on the new
    schema; zdt.E041: the check could not run. Does nothing unless ZDT_COMPAT_GIT_REF is set
    (it reads git and migration files only, never the database)."""
    from django_zero_downtime import compat
    from django_zero_downtime.exceptions import ZeroDowntimeError

    try:
        ref = conf.get_settings().COMPAT_GIT_REF
        findings = compat.check_compatibility(git_ref=ref) if ref else []
    except ImproperlyConfigured:
        return []  # reported as zdt.E001
    except ZeroDowntimeError as exc:
        return [checks.Error(str(exc), id="zdt.E041")]
    return [_compat_message(finding) for finding in findings]


def _compat_message(finding: Any) -> checks.CheckMessage:
    kind, check_id = (
        (checks.Error, "zdt.E040") if finding.is_error else (checks.Warning, "zdt.W040")
    )
    message = f"{finding.rule} {finding.message}"
    return kind(message, hint=finding.hint, obj=finding.file or None, id=check_id)
