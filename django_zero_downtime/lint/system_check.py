"""System check ``zdt.E010``: an error finding in a new migration of the project's own apps.

"New" here means: in an app of this project (not an installed package's app, whose history
the project cannot change) and after the baseline (``safemigrate --adopt``'s file and
``ZDT_BASELINE``). The check is static and cheap: no database, no SQL rendering (operation,
transaction and ``RunSQL`` rules only), and it does nothing at all when no such migration
exists. It is an error only where a command asked for judgement (:mod:`.gate`); elsewhere
the same finding is the warning ``zdt.W011``. ``zdt.E012`` (a baseline entry that names no
migration) is its own check, so it is reported even when linting cannot run.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import pkgutil
import site
import sysconfig
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from django.apps import AppConfig, apps
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

from django_zero_downtime import conf, project
from django_zero_downtime.exceptions import ZeroDowntimeError
from django_zero_downtime.lint import baseline as adoption

OWN_LABEL = "django_zero_downtime"
"""This product's own ledger migrations are never the project's (even when installed
editable, outside site-packages): they are tested here, not linted on every check."""


@functools.cache
def _installed_roots() -> tuple[str, ...]:
    """(Cached: the interpreter's directories do not move; each is a realpath.)"""
    paths = sysconfig.get_paths()
    roots = [paths["purelib"], paths["platlib"], paths["stdlib"], *site.getsitepackages()]
    return tuple(sorted({os.path.realpath(root) for root in roots}))


def is_first_party(app_config: AppConfig) -> bool:
    """An app of this project (inside its root) rather than of an installed distribution
    or another repository (an editable install)."""
    path = os.path.realpath(app_config.path)
    root = str(project.root())  # resolved; a string test, not a second resolve per app
    if path != root and not path.startswith(root.rstrip(os.sep) + os.sep):
        return False
    parts = path.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts:
        return False
    return not any(path.startswith(top + os.sep) for top in _installed_roots())


def migration_messages(app_configs: Iterable[AppConfig] | None = None) -> list[Any]:
    try:
        settings = conf.get_settings()
        baseline = adoption.effective(settings.BASELINE)
    except (ImproperlyConfigured, ZeroDowntimeError):
        return []  # zdt.E001 / zdt.E012 report it
    messages: list[Any] = _unknown_code_warnings(settings)
    configs = list(app_configs) if app_configs is not None else list(apps.get_app_configs())
    labels = {config.label for config in configs if is_first_party(config)} - {OWN_LABEL}
    if nothing_new(labels, dict(baseline)):
        return messages  # no migration to lint: the graph is not even loaded
    try:
        findings = _lint(labels, baseline)
    except ZeroDowntimeError as exc:
        return [*messages, checks.Error(str(exc), id="zdt.E011")]
    return messages + [_message(finding) for finding in findings]


def _message(finding: Any) -> Any:
    """zdt.E010 where a command judges this migration, else the warning zdt.W011."""
    from django_zero_downtime.findings.render import check_message
    from django_zero_downtime.lint import gate

    approve = "\n(or approve it with a reason; see docs/rules.md)"
    if gate.is_judged((finding.app, finding.migration)):
        return check_message(finding, "zdt.E010", approve)
    later = approve + "\n`manage.py check` fails on it, and migrate/safemigrate refuse to apply it."
    return check_message(replace(finding, severity="warning"), "zdt.W011", later)


def baseline_messages() -> list[Any]:
    """zdt.E012: the baseline file is unreadable or names a migration that does not exist.

    A warning (zdt.W012) unless a command asked for judgement, like zdt.E010."""
    try:
        recorded = adoption.effective(conf.get_settings().BASELINE)
    except ImproperlyConfigured:
        return []  # zdt.E001
    except ZeroDowntimeError as exc:
        return [_baseline_message(str(exc), None)]
    if not recorded:
        return []  # nothing to look up: the migration graph is not loaded
    return [
        _baseline_message(entry.message(), entry.hint())
        for entry in adoption.missing(_load(), recorded)
    ]


def _baseline_message(text: str, hint: str | None) -> Any:
    from django_zero_downtime.lint import gate

    if gate.any_judged():
        return checks.Error(text, hint=hint, id="zdt.E012")
    return checks.Warning(text, hint=hint, id="zdt.W012")


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
    from django_zero_downtime.lint.select import full_plan

    loader = _load()
    plan = full_plan(loader)
    skip = adoption.exempt(loader, baseline)
    chosen = {(m.app_label, m.name) for m in plan if m.app_label in labels} - skip
    if not chosen:
        return []
    linter = Linter(connections[conf.migration_alias()], LintConfig.from_settings())
    return linter.run(plan, chosen, ProjectState(real_apps=loader.unmigrated_apps)).errors


def _unknown_code_warnings(settings: Any) -> list[Any]:
    codes = [*settings.RULES_SELECT, *settings.RULES_IGNORE, *settings.RULES_SEVERITY]
    if not codes:
        return []  # the rule catalogue is not even imported
    from django_zero_downtime.findings.catalogue import unknown_codes

    return [
        checks.Warning(
            f"ZDT_RULES_* names {code!r}, which matches no rule.",
            hint="Use rule codes or prefixes such as 'ZDT101' or 'ZDT2' (see docs/rules.md).",
            id="zdt.W010",
        )
        for code in unknown_codes(codes)
    ]


def _load() -> Any:
    """The migration graph from disk (``lint.select`` imported only when it is needed)."""
    from django_zero_downtime.lint.select import load

    return load(None)
