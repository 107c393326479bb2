"""``manage.py safemigrate``: the deploy pre-step.

A thin adapter. Each mode is implemented elsewhere and plugs in here with its flags (in a
light ``arguments`` module of its part) and ``run(command, options) -> exit code``, imported
only in the branch that runs it (a ``--check`` never imports the runner or the rehearsal):

- ``--check``: the migration checker (:mod:`django_zero_downtime.lint.cli`);
- ``--rehearse``: rehearsal on a real database (:mod:`django_zero_downtime.rehearsal.run`);
- ``--adopt``: record the shipped history as the baseline (:mod:`django_zero_downtime.lint.adopt`);
- otherwise: apply migrations safely (:mod:`django_zero_downtime.runner.cli`).

Exit codes: 0 done, 1 refused by a rule (or error findings with ``--check``), 2 gave up on
locks, 3 error.
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from functools import partial
from importlib import import_module
from types import ModuleType
from typing import Any, NoReturn

from django.core.management.base import CommandError, CommandParser, SystemCheckError
from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import connections

from django_zero_downtime import conf
from django_zero_downtime.exceptions import ZeroDowntimeError
from django_zero_downtime.lint import arguments as lint_arguments
from django_zero_downtime.rehearsal import arguments as rehearsal_arguments
from django_zero_downtime.runner import arguments as runner_arguments
from django_zero_downtime.runner import failures
from django_zero_downtime.runner.preflight import preflight


def _usage_error(parser: CommandParser, message: str) -> NoReturn:
    if not parser.called_from_command_line:
        raise CommandError(f"Error: {message}", returncode=3)
    parser.print_usage(sys.stderr)
    parser.exit(3, f"{parser.prog}: error: {message}\n")


def postgresql_only(alias: str, vendor: str) -> str:
    return (
        f"safemigrate works on PostgreSQL only; database {alias!r} is {vendor}: nothing was "
        "checked, rehearsed or applied. Use `manage.py migrate` there (the operations of "
        "django-zero-downtime run as plain Django operations on it)."
    )


MODES = {
    "adopt": "django_zero_downtime.lint.adopt",
    "check": "django_zero_downtime.lint.cli",
    "rehearse": "django_zero_downtime.rehearsal.run",
}
"""The module that runs each mode (first flag given wins); else the runner applies."""


def _mode(options: dict[str, Any]) -> ModuleType:
    """The module that runs the mode ``options`` ask for, imported now."""
    name = next((m for flag, m in MODES.items() if options.get(flag)), "")
    return import_module(name or "django_zero_downtime.runner.cli")


def _failure_report(options: dict[str, Any], code: int, message: str) -> None:
    """``--report`` for a run that failed before it started (imports the runner only then)."""
    if options.get("report"):
        from django_zero_downtime.runner import cli as runner_cli

        runner_cli.failure_report(options, code, message)


class Command(MigrateCommand):
    help = (
        "Apply migrations without hurting live traffic (short lock timeouts, retries, one run "
        "at a time, deploy cycles, a report); --check lints them, --rehearse rehearses them."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("app_label", nargs="?", help="App label of an application to migrate.")
        parser.add_argument("migration_name", nargs="?", help="Target migration of that app.")
        parser.add_argument(
            "--database",
            default=None,
            help="Database alias (default: ZDT_MIGRATION_DATABASE or default).",
        )
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive")
        lint_arguments.add_check_arguments(parser)
        lint_arguments.add_adopt_arguments(parser)
        rehearsal_arguments.add_arguments(parser)
        runner_arguments.add_arguments(parser)

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        """Usage errors exit 3 (error), not argparse's 2, which means "gave up on locks"."""
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.error = partial(_usage_error, parser)  # type: ignore[method-assign]
        return parser

    def get_check_kwargs(self, options: dict[str, Any]) -> Any:
        options["database"] = conf.migration_alias(options.get("database"))
        return super().get_check_kwargs(options)

    def execute(self, *args: Any, **options: Any) -> Any:
        """Every failure becomes a message and an exit code (runner/failures.py), written to
        ``--report`` too; a Python traceback only with ``--traceback``."""
        try:
            return self._execute(*args, **options)
        except SystemCheckError as exc:
            exc.returncode = failures.check_exit_code(str(exc))
            _failure_report(options, exc.returncode, str(exc))
            raise
        except CommandError as exc:
            _failure_report(options, exc.returncode, str(exc))
            raise
        except Exception as exc:
            if options.get("traceback"):
                raise
            code, message = failures.explain(exc)
            _failure_report(options, code, message)
            raise CommandError(message, returncode=code) from exc

    def _execute(self, *args: Any, **options: Any) -> Any:
        """Apply mode judges the migrations of its plan (zdt.E010 for those, lint/gate.py);
        --plan, --rehearse, --check and --adopt are never stopped by the system check."""
        preflight(options)
        if any(options.get(mode) for mode in ("check", "rehearse", "plan", "adopt")):
            return super().execute(*args, **options)
        from django_zero_downtime.lint import gate

        alias = conf.migration_alias(options.get("database"))
        keys = gate.forward_plan(alias, options.get("app_label"), options.get("migration_name"))
        with gate.judging(keys):
            return super().execute(*args, **options)

    def handle(self, *args: Any, **options: Any) -> None:
        options["database"] = conf.migration_alias(options.get("database"))
        vendor = connections[options["database"]].vendor
        if vendor != "postgresql" and not options.get("adopt"):
            self.stdout.write(postgresql_only(options["database"], vendor))
            return
        try:
            code = _mode(options).run(self, options)
        except ZeroDowntimeError as exc:
            self.stderr.write(str(exc))
            code = exc.exit_code
        if code:
            raise SystemExit(code)
