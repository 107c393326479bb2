"""``makemigrations`` that writes safe operations and lints what it writes.

Django's command, with the autodetector it would use (Django's, or the one django-pgtrigger
installs) composed with ``lint.autodetector.ZeroDowntimeAutodetectorMixin``.
``--no-zero-downtime`` writes Django's operations unchanged (still linted). ``--rename
app.Model.old:new`` answers a rename question without input (``autodetect/answers.py``).
``--check`` also fails when what would be written has an error finding.

Another app earlier in ``INSTALLED_APPS`` that ships its own ``makemigrations`` wins over
this one; compose by hand there with :func:`~django_zero_downtime.autodetect.autodetector.compose`.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.core.management.commands import makemigrations
from django.db.migrations.writer import MigrationWriter

# The autodetector and the linter are imported where used: Django's system checks load
# this module (migrate and makemigrations must share an autodetector) in every
# ``manage.py check``, which should not pay for the linter (issue 16).


class Command(makemigrations.Command):
    help = makemigrations.Command.help + " Unsafe operations are replaced by safe ones."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--no-zero-downtime",
            action="store_false",
            dest="zero_downtime_rewrite",
            help="Write Django's operations unchanged (they are still linted).",
        )
        parser.add_argument(
            "--rename",
            action="append",
            metavar="APP.MODEL.OLD:NEW",
            help="Answer yes to 'Was MODEL.OLD renamed to MODEL.NEW?' without asking (for "
            "--noinput; repeat for several fields), e.g. --rename shop.Item.qty:quantity.",
        )

    def handle(self, *app_labels: Any, **options: Any) -> None:
        from django_zero_downtime.autodetect.answers import parse_renames
        from django_zero_downtime.autodetect.autodetector import compose

        # Whatever autodetector the command would use now (pgtrigger's after its ready()).
        detector = compose(makemigrations.Command.autodetector)
        if not options.get("zero_downtime_rewrite", True):
            detector = type(detector.__name__, (detector,), {"zero_downtime_rewrite": False})
        renames = tuple(parse_renames(options.get("rename")))
        if renames:
            detector = type(detector.__name__, (detector,), {"zero_downtime_renames": renames})
        self.autodetector = detector  # type: ignore[misc]
        super().handle(*app_labels, **options)

    def write_migration_files(self, changes: Any, *args: Any, **kwargs: Any) -> None:
        from django_zero_downtime.autodetect import phases

        migrations = [m for app in changes.values() for m in app]
        for migration in migrations:
            check_atomicity(migration)
        super().write_migration_files(changes, *args, **kwargs)
        if not self.dry_run:
            for migration in migrations:
                if not migration.atomic:
                    mark_non_atomic(MigrationWriter(migration).path)
                if phases.is_contract_migration(migration):
                    phases.mark_contract(MigrationWriter(migration).path)
        self.report_contracts(migrations)
        self.report_findings(migrations)

    def report_contracts(self, migrations: list[Any]) -> None:
        from django_zero_downtime.autodetect import phases

        for migration in filter(phases.is_contract_migration, migrations):
            path = self.get_relative_path(MigrationWriter(migration).path)
            self.log(phases.contract_note(migration, path))

    def report_findings(self, migrations: list[Any]) -> None:
        from django_zero_downtime.autodetect.autodetector import FINDINGS
        from django_zero_downtime.findings import locate
        from django_zero_downtime.lint import report
        from django_zero_downtime.lint.engine import LintResult

        result = LintResult()
        for migration in migrations:
            path = MigrationWriter(migration).path
            for finding in getattr(migration, FINDINGS, []):
                line = None if self.dry_run else locate.line_of(path, finding.operation_index)
                shown = locate.display_path(path)
                result.findings.append(replace(finding, file=shown, line=line))
            result.linted.append((migration.app_label, migration.name))
        if result.findings:
            self.log(report.as_text(result))
        if result.errors and getattr(self, "check_changes", False):
            sys.exit(1)


def check_atomicity(migration: Any) -> None:
    """``--update`` merges new operations into the last migration: refuse a merge that mixes
    operations needing ``atomic = False`` with others; mark one made only of them."""
    from django_zero_downtime.autodetect.autodetector import needs_non_atomic

    needs = [needs_non_atomic(operation) for operation in migration.operations]
    if any(needs) and not all(needs):
        raise CommandError(
            f"{migration.app_label}.{migration.name} would mix operations that need "
            "atomic = False (DualWriteRename, concurrent index operations) with others. "
            "Run makemigrations without --update: it writes them as separate migrations."
        )
    if needs and all(needs):
        migration.atomic = False


def mark_non_atomic(path: str) -> None:
    """Add ``atomic = False`` to a written migration (the writer has no such option)."""
    with open(path, encoding="utf-8") as source:
        text = source.read()
    head = "class Migration(migrations.Migration):\n"
    if "atomic = False" in text or head not in text:
        return
    with open(path, "w", encoding="utf-8") as target:
        target.write(text.replace(head, head + "\n    atomic = False\n", 1))
