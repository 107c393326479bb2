"""What ``safemigrate`` verifies before any mode runs, without importing the runner."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections

from django_zero_downtime import conf
from django_zero_downtime.exceptions import ZeroDowntimeError
from django_zero_downtime.runner import failures


def preflight(options: dict[str, Any]) -> None:
    """Before anything runs: valid settings (zdt.E001), writable report paths, and (to
    apply or plan) a database that answers. Each failure is a message, nothing applied."""
    try:
        conf.get_settings()
    except ImproperlyConfigured as exc:
        raise ZeroDowntimeError(failures.settings_message(exc)) from exc
    database = options.get("database")
    if database and database not in connections.databases:
        raise ZeroDowntimeError(failures.unknown_database_message(database, connections))
    for flag, key in (("--report", "report"), ("--report-html", "report_html")):
        reason = failures.unwritable(options[key]) if options.get(key) else None
        if reason:
            raise ZeroDowntimeError(failures.report_message(flag, options[key], reason))
    if not any(options.get(mode) for mode in ("check", "rehearse", "adopt")):
        _reachable(conf.migration_alias(options.get("database")))


def _reachable(alias: str) -> None:
    connection = connections[alias]
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        label = failures.database_label(connection.settings_dict, alias)
        raise ZeroDowntimeError(failures.connection_message(label, exc)) from exc
