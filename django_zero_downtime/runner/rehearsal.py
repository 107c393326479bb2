"""``safemigrate --rehearse``: rehearse pending migrations (stub until rehearsal lands)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--rehearse",
        action="store_true",
        help="Rehearse pending migrations, rolled back.",
    )


def run(command: BaseCommand, options: dict[str, Any]) -> int:
    command.stderr.write("safemigrate --rehearse is not implemented yet.")
    return 3
