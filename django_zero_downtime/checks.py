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
def check_migrations(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """zdt.E010: an error finding in a new migration of the project (E011: unreadable one);
    zdt.W010: a ZDT_RULES_* setting names no rule."""
    from django_zero_downtime.lint.system_check import migration_messages

    return migration_messages(app_configs)
