"""``safemigrate --check``: lint migrations (stub until the checker lands)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="Lint migrations; change nothing.")


def run(command: BaseCommand, options: dict[str, Any]) -> int:
    command.stderr.write("safemigrate --check is not implemented yet.")
    return 3
