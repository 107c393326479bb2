"""``migrate``, guarded: never in a web process, and not at all where ``ZDT_PRODUCTION = True``.

In production the deploy pipeline runs ``safemigrate`` (short lock timeouts, one run at a
time, deploy cycles, a report); plain ``migrate`` waits for locks forever and can roll back,
so it refuses there and says what to run instead. Elsewhere (development, CI) it is Django's
``migrate`` unchanged, after the web-process guard.

Composing: if another app in ``INSTALLED_APPS`` also ships ``migrate``, subclass that one's
``Command`` with :class:`ProductionMigrateMixin` in your own app.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError
from django.core.management.commands.migrate import Command as DjangoMigrateCommand
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from django_zero_downtime import conf
from django_zero_downtime.exceptions import ZeroDowntimeError
from django_zero_downtime.guard import runtime as guard
from django_zero_downtime.lint import gate
from django_zero_downtime.runner import failures
from django_zero_downtime.targets import migration_targets


def production_refusal(app_label: str | None, name: str | None, backwards: bool) -> str:
    """The message ``migrate`` gives in production (pure)."""
    target = " ".join(a for a in (app_label, name) if a)
    text = (
        "migrate is disabled where ZDT_PRODUCTION = True: apply migrations with "
        f"`manage.py safemigrate{' ' + target if target else ''} --release <label>` "
        "(short lock timeouts, retries, one run at a time, a report)."
    )
    if backwards:
        text = (
            f"Refusing to migrate backwards to {target}: migrations are never rolled back; "
            "fix forward with a new migration. " + text
        )
    return text


class ErrorsAsMessages:
    """From the command line, a refusal of this product (a ledger gate, the web-process
    guard, invalid settings) is a message and its exit code, not a traceback (unless
    ``--traceback``). Called in-process (``call_command``) the typed exception still rises."""

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)  # type: ignore[misc]
        except (ZeroDowntimeError, ImproperlyConfigured) as exc:
            if options.get("traceback") or not getattr(self, "_called_from_command_line", 0):
                raise
            code, message = failures.explain(exc)
            raise CommandError(message, returncode=code) from exc


class ProductionMigrateMixin:
    """Adds the guard and the production refusal in front of a ``migrate`` command, and
    judges the migrations it is about to apply (``zdt.E010`` for those, see lint/gate.py)."""

    def execute(self, *args: Any, **options: Any) -> Any:
        applies = not (options.get("plan") or options.get("fake") or options.get("check_unapplied"))
        if not applies:
            return super().execute(*args, **options)  # type: ignore[misc]
        alias = options.get("database") or "default"
        keys = gate.forward_plan(alias, options.get("app_label"), options.get("migration_name"))
        with gate.judging(keys):
            return super().execute(*args, **options)  # type: ignore[misc]

    def handle(self, *args: Any, **options: Any) -> Any:
        guard.refuse_if_web_process("migrate")
        if conf.get_settings().PRODUCTION:
            app_label, name = options.get("app_label"), options.get("migration_name")
            backwards = _is_backwards(options.get("database") or "default", app_label, name)
            raise CommandError(production_refusal(app_label, name, backwards), returncode=1)
        return super().handle(*args, **options)  # type: ignore[misc]


def _is_backwards(alias: str, app_label: str | None, name: str | None) -> bool:
    if not (app_label and name):
        return False
    executor = MigrationExecutor(connections[alias])
    try:
        targets = migration_targets(executor.loader, app_label, name)
        return any(backwards for _, backwards in executor.migration_plan(targets))
    except (ZeroDowntimeError, KeyError, ValueError):
        return False


class Command(ErrorsAsMessages, ProductionMigrateMixin, DjangoMigrateCommand):
    help = (
        DjangoMigrateCommand.help + " Refused where ZDT_PRODUCTION = True: use safemigrate there."
    )
