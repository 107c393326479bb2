"""``manage.py safemigrate_report REPORT.json --html FILE``: draw a stored JSON report."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_zero_downtime.exceptions import ZeroDowntimeError
from django_zero_downtime.runner import html_report


class Command(BaseCommand):
    help = (
        "Render a safemigrate JSON report (--report FILE) as one self-contained HTML page: "
        "steps on a time axis, blocked sessions and their waits, backfill progress, verdict."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("report", help="The JSON report written by safemigrate --report.")
        parser.add_argument("--html", required=True, metavar="FILE", help="HTML file to write.")

    def handle(self, *args: Any, **options: Any) -> None:
        source = Path(options["report"])
        try:
            report = json.loads(source.read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read the report {source}: {exc}", returncode=3) from None
        if not isinstance(report, dict) or report.get("format") != 1:
            raise CommandError(f"{source} is not a safemigrate report (format 1).", returncode=3)
        try:
            html_report.write(report, options["html"])
        except ZeroDowntimeError as exc:
            raise CommandError(str(exc), returncode=3) from None
        self.stdout.write(f"HTML report written to {options['html']}.")
