"""``safemigrate --check``: lint migrations, change nothing, exit 1 on an error finding.

    python manage.py safemigrate --check [--all | --since GIT_REF] [--format text|json|github]
                                 [app_label [migration_name]]

Default: the migrations not yet applied on the migration database (the only mode that
connects, to read ``django_migrations``). The linting itself never connects. Besides the
checker's rules, the blue/green compatibility check (ZDT5xx,
:mod:`django_zero_downtime.bluegreen.compatibility`)
judges the new migrations against the previous release: the applied migrations by default,
the ``--since`` git ref otherwise.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand
from django.db import connections

from django_zero_downtime import conf
from django_zero_downtime.exceptions import ZeroDowntimeError
from django_zero_downtime.findings.model import Finding
from django_zero_downtime.lint import baseline as adoption
from django_zero_downtime.lint import report
from django_zero_downtime.lint.collect import SqlCollector, offline_connection
from django_zero_downtime.lint.engine import LintConfig, Linter, LintResult
from django_zero_downtime.lint.select import select
from django_zero_downtime.lint.system_check import is_first_party


def lint(options: dict[str, Any]) -> LintResult:
    """Select and lint migrations as ``options`` (the command's) ask."""
    try:
        settings = conf.get_settings()
    except ImproperlyConfigured as exc:
        raise ZeroDowntimeError(str(exc)) from exc
    mode = "all" if options.get("lint_all") else "since" if options.get("lint_since") else None
    alias = conf.migration_alias(options.get("database"))
    selection = select(
        mode=mode or "unapplied",
        alias=alias,
        baseline=adoption.effective(settings.BASELINE),
        app_label=options.get("app_label"),
        migration_name=options.get("migration_name"),
        since=options.get("lint_since"),
    )
    connection = offline_connection(alias)
    config = LintConfig(settings.RULES_SELECT, settings.RULES_IGNORE, settings.RULES_SEVERITY)
    version = postgres_version(alias) if selection.mode == "unapplied" else None
    linter = Linter(connection, config, SqlCollector(connection), postgres_version=version)
    return linter.run(selection.plan, selection.selected, selection.state)


def postgres_version(alias: str) -> int | None:
    """The migration database's major version (this mode connects anyway), else None: then
    ``ZDT_POSTGRES_VERSION`` is the target."""
    connection = connections[alias]
    try:
        connection.ensure_connection()
        return int(connection.pg_version) // 10000  # type: ignore[attr-defined]
    except Exception:  # unreachable or not PostgreSQL: the setting decides
        return None


def compatibility(options: dict[str, Any]) -> list[Finding]:
    """Blue/green findings (ZDT5xx) of the previous release against the new migrations.

    The previous release is what ``--since`` names, else what the migration database has
    applied; ``--all`` has no previous release, so nothing is compared.
    """
    if options.get("lint_all"):
        return []  # the blue/green modules are not even imported
    from django_zero_downtime.bluegreen import compatibility as compat

    if options.get("lint_since"):
        return compat.check_compatibility(git_ref=options["lint_since"])
    return compat.check_compatibility(database=conf.migration_alias(options.get("database")))


def soften_installed_packages(result: LintResult) -> None:
    """Report error findings in installed packages' migrations as warnings (default mode).

    On a fresh CI database every migration is unapplied, Django's own included; the project
    cannot edit those files, so failing on them would only teach people to ignore the check.
    They stay visible, and ``safemigrate`` still judges them against the live database.
    """
    installed = sorted(
        {
            f.app
            for f in result.findings
            if f.is_error and not is_first_party(apps.get_app_config(f.app))
        }
    )
    if not installed:
        return
    result.findings[:] = [
        replace(f, severity="warning") if f.app in installed else f for f in result.findings
    ]
    result.notes.append(
        f"Findings in migrations of installed packages ({', '.join(installed)}) are reported "
        "as warnings: the project cannot change them. Name the app or use --all to judge "
        "them as errors; safemigrate checks them against the live database when it applies them."
    )


def run(command: BaseCommand, options: dict[str, Any]) -> int:
    result = lint(options)
    if not (options.get("lint_all") or options.get("lint_since") or options.get("app_label")):
        soften_installed_packages(result)
    result.findings.extend(compatibility(options))
    command.stdout.write(report.render(result, options.get("lint_format") or "text"))
    return 1 if result.errors else 0
