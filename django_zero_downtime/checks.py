"""System checks (tag ``zero_downtime``); every id is listed in docs/checks.md.

- ``zdt.E001`` a ``ZDT_*`` setting is invalid; ``zdt.W001`` an unknown ``ZDT_*`` setting.
- Guard (migrations never run inside the web process), static, no database:
  ``zdt.E020`` WSGI/ASGI entry module, ``zdt.E021`` ``AppConfig.ready()`` code,
  ``zdt.E022`` settings module, ``zdt.E023`` a third-party auto-migrate setting,
  ``zdt.E024`` a start script, ``zdt.W021`` a missing ``ZDT_EXTRA_START_FILES`` entry,
  ``zdt.W022`` a start-up file that cannot be parsed, ``zdt.W023`` django-tenants'
  ``auto_create_schema``.
- Guard, database: ``zdt.W020`` the web role can run DDL. Tagged ``database`` only, not
  ``zero_downtime``: Django runs database-tagged checks when given ``--database`` (and from
  ``migrate``), while Django 6 runs every check of a requested tag against all databases,
  so ``check --tag zero_downtime`` would connect.
- Blue/green compatibility (only with ``ZDT_COMPAT_GIT_REF``; git and files, no database):
  ``zdt.E040`` / ``zdt.W040`` a ZDT5xx finding, ``zdt.E041`` the check could not run.

The checks are thin: the logic lives in :mod:`guard_targets`, :mod:`startup_inspect`,
:mod:`start_scripts` and :mod:`guard_roles`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from django_zero_downtime import conf
from django_zero_downtime.guard import targets as guard_targets

if TYPE_CHECKING:
    from django_zero_downtime.findings.model import Finding

# Every check runs in every `manage.py check` and `runserver` start: what it needs only to
# report something (rendering, the rule catalogue, roles) is imported when it has a finding.

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


def to_messages(findings: Iterable[Finding]) -> list[checks.CheckMessage]:
    """Findings as check messages, the location first: ``path:line: message``."""
    listed = list(findings)
    if not listed:
        return []
    from django_zero_downtime.findings.render import check_message

    return [check_message(found) for found in listed]


@checks.register(TAG)
def check_startup_code(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """zdt.E020-E022 (and W022): entry modules, ready() and settings run no migrations."""
    findings = guard_targets.python_findings(guard_targets.entry_modules(), guard_targets.ENTRY)
    findings += guard_targets.python_findings(
        guard_targets.ready_modules(app_configs), guard_targets.READY, imported=True
    )
    findings += guard_targets.python_findings(
        guard_targets.settings_modules(), guard_targets.SETTINGS, imported=True
    )
    return to_messages(findings)


@checks.register(TAG)
def check_auto_migrate_settings(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """zdt.E023 / zdt.W023: no third-party setting migrates inside the web process."""
    return to_messages(guard_targets.auto_migrate_setting_findings())


@checks.register(TAG)
def check_start_scripts(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """zdt.E024 / zdt.W021: start scripts do not migrate in the web server's start command."""
    try:
        extra, missing = guard_targets.extra_start_files()
    except ImproperlyConfigured:
        extra, missing = [], []  # reported as zdt.E001 by check_settings
    paths = guard_targets.start_files() + extra
    findings = missing + guard_targets.start_script_findings(dict.fromkeys(paths))
    configs = guard_targets.start_files(guard_targets.SERVER_CONFIG_PATTERNS)
    return to_messages(
        findings + guard_targets.python_findings(configs, guard_targets.SERVER_CONFIG)
    )


@checks.register(checks.Tags.database)
def check_web_role(
    app_configs: Any = None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """zdt.W020: the web process's role cannot run DDL (only with ``check --database``)."""
    if not databases:
        return []
    try:
        values = conf.get_settings()
    except ImproperlyConfigured:
        return []  # reported as zdt.E001 by check_settings
    from django_zero_downtime.guard import roles as guard_roles

    return to_messages(
        guard_roles.web_role_findings(databases, values.MIGRATION_DATABASE, values.PRODUCTION)
    )


@checks.register(TAG)
def check_compatibility(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """zdt.E040 / zdt.W040: the previous release (ZDT_COMPAT_GIT_REF) breaks on the new
    schema; zdt.E041: the check could not run. Does nothing unless ZDT_COMPAT_GIT_REF is set
    (it reads git and migration files only, never the database)."""
    from django_zero_downtime.exceptions import ZeroDowntimeError

    try:
        ref = conf.get_settings().COMPAT_GIT_REF
        if not ref:
            return []  # not even imported: every check run would pay for it
        from django_zero_downtime.bluegreen import compatibility as compat

        findings = compat.check_compatibility(git_ref=ref)
    except ImproperlyConfigured:
        return []  # reported as zdt.E001
    except ZeroDowntimeError as exc:
        return [checks.Error(str(exc), id="zdt.E041")]
    return [_compat_message(finding) for finding in findings]


def _compat_message(finding: Finding) -> checks.CheckMessage:
    from django_zero_downtime.findings.render import check_message

    return check_message(finding, "zdt.E040" if finding.is_error else "zdt.W040")


@checks.register(TAG)
def check_migrations(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """zdt.E010: an error finding in a new migration of the project (E011: unreadable one;
    zdt.W011: the same finding where no command asked for judgement, see lint/gate.py);
    zdt.W010: a ZDT_RULES_* setting names no rule."""
    from django_zero_downtime.lint.system_check import migration_messages

    return migration_messages(app_configs)


@checks.register(TAG)
def check_baseline(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """zdt.E012: the adoption baseline names a migration that does not exist (or is
    unreadable). Separate from zdt.E010 so that it is reported whatever else fails."""
    from django_zero_downtime.lint.system_check import baseline_messages

    return baseline_messages()
