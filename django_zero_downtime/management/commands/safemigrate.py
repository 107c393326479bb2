"""``manage.py safemigrate``: the deploy pre-step.

A thin adapter. Each mode is implemented elsewhere and plugs in here with two functions,
``add_arguments(parser)`` and ``run(command, options) -> exit code``:

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
from typing import Any, NoReturn

from django.core.management.base import CommandError, CommandParser, SystemCheckError
from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import connections

from django_zero_downtime import conf
from django_zero_downtime.exceptions import ZeroDowntimeError
from django_zero_downtime.lint import adopt, gate
from django_zero_downtime.lint import cli as lint_cli
from django_zero_downtime.rehearsal import run as rehearsal
from django_zero_downtime.runner import cli as runner_cli
from django_zero_downtime.runner import failures


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
        lint_cli.add_arguments(parser)
        adopt.add_arguments(parser)
        rehearsal.add_arguments(parser)
        runner_cli.add_arguments(parser)

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
            runner_cli.failure_report(options, exc.returncode, str(exc))
            raise
        except CommandError as exc:
            runner_cli.failure_report(options, exc.returncode, str(exc))
            raise
        except Exception as exc:
            if options.get("traceback"):
                raise
            code, message = failures.explain(exc)
            runner_cli.failure_report(options, code, message)
            raise CommandError(message, returncode=code) from exc

    def _execute(self, *args: Any, **options: Any) -> Any:
        """Apply mode judges the migrations of its plan (zdt.E010 for those, lint/gate.py);
        --plan, --rehearse, --check and --adopt are never stopped by the system check."""
        runner_cli.preflight(options)
        if any(options.get(mode) for mode in ("check", "rehearse", "plan", "adopt")):
            return super().execute(*args, **options)
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
            if options.get("adopt"):
                code = adopt.run(self, options)
            elif options.get("check"):
                code = lint_cli.run(self, options)
            elif options.get("rehearse"):
                code = rehearsal.run(self, options)
            else:
                code = runner_cli.run(self, options)
        except ZeroDowntimeError as exc:
            self.stderr.write(str(exc))
            code = exc.exit_code
        if code:
            raise SystemExit(code)
