"""System check ``zdt.E010``: an error finding in a new migration of the project's own apps.

"New" here means: in an app of this project (not an installed package's app, whose history
the project cannot change) and after ``ZDT_BASELINE``. The check is static and cheap: no
database, no SQL rendering (operation, transaction and ``RunSQL`` rules only), and it does
nothing at all when no such migration exists.
"""

from __future__ import annotations

import importlib.util
import os
import pkgutil
import site
import sysconfig
from collections.abc import Iterable
from typing import Any

from django.apps import AppConfig, apps
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

from django_zero_downtime import conf
from django_zero_downtime.exceptions import ZeroDowntimeError
from django_zero_downtime.findings.catalogue import unknown_codes
from django_zero_downtime.findings.render import check_message
from django_zero_downtime.lint.select import baseline_keys, full_plan, load

OWN_LABEL = "django_zero_downtime"
"""This product's own ledger migrations are never the project's (even when installed
editable, outside site-packages): they are tested here, not linted on every check."""


def _installed_roots() -> list[str]:
    paths = sysconfig.get_paths()
    roots = [paths["purelib"], paths["platlib"], paths["stdlib"], *site.getsitepackages()]
    return sorted({os.path.realpath(root) for root in roots})


def is_first_party(app_config: AppConfig) -> bool:
    """An app of this project rather than of an installed distribution."""
    path = os.path.realpath(app_config.path)
    parts = path.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts:
        return False
    return not any(path.startswith(root + os.sep) for root in _installed_roots())


def migration_messages(app_configs: Iterable[AppConfig] | None = None) -> list[Any]:
    try:
        settings = conf.get_settings()
    except ImproperlyConfigured:
        return []  # zdt.E001 reports it
    messages: list[Any] = _unknown_code_warnings(settings)
    configs = list(app_configs) if app_configs is not None else list(apps.get_app_configs())
    labels = {config.label for config in configs if is_first_party(config)} - {OWN_LABEL}
    if nothing_new(labels, dict(settings.BASELINE)):
        return messages  # no migration to lint: the graph is not even loaded
    try:
        findings = _lint(labels, dict(settings.BASELINE))
    except ZeroDowntimeError as exc:
        return [*messages, checks.Error(str(exc), id="zdt.E011")]
    suppress = "\n(or suppress it with a reason; see docs/rules.md)"
    return messages + [check_message(finding, "zdt.E010", suppress) for finding in findings]


def nothing_new(labels: set[str], baseline: dict[str, str]) -> bool:
    """True when no app in ``labels`` has a migration file after its ``ZDT_BASELINE``: a
    look at file names on disk, without importing a migration or building the graph (what
    ``manage.py check`` and every ``runserver`` reload would otherwise pay). False when
    unsure: the full check then decides."""
    for label in labels:
        names = migration_names(label)
        if names is None:
            return False
        last = baseline.get(label)
        if names and (last is None or last not in names or max(names) > last):
            return False
    return True


def migration_names(label: str) -> list[str] | None:
    """Names of the migration files of app ``label`` ([] without migrations; None unknown)."""
    module, _ = MigrationLoader.migrations_module(label)
    if module is None:
        return []
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return []
    if spec is None:
        return []
    if spec.submodule_search_locations is None:
        return None
    found = pkgutil.iter_modules(spec.submodule_search_locations)
    return [name for _, name, is_pkg in found if not is_pkg and name[0] not in "_~"]


def _lint(labels: set[str], baseline: dict[str, str]) -> list[Any]:
    from django_zero_downtime.lint.engine import LintConfig, Linter  # only when needed

    loader = load(None)
    plan = full_plan(loader)
    skip = baseline_keys(loader, baseline)
    chosen = {(m.app_label, m.name) for m in plan if m.app_label in labels} - skip
    if not chosen:
        return []
    linter = Linter(connections[conf.migration_alias()], LintConfig.from_settings())
    return linter.run(plan, chosen, ProjectState(real_apps=loader.unmigrated_apps)).errors


def _unknown_code_warnings(settings: Any) -> list[Any]:
    codes = [*settings.RULES_SELECT, *settings.RULES_IGNORE, *settings.RULES_SEVERITY]
    return [
        checks.Warning(
            f"ZDT_RULES_* names {code!r}, which matches no rule.",
            hint="Use rule codes or prefixes such as 'ZDT101' or 'ZDT2' (see docs/rules.md).",
            id="zdt.W010",
        )
        for code in unknown_codes(codes)
    ]
