"""``safemigrate``: apply migrations safely (stub: delegates to Django's migrate for now)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from django_zero_downtime import guard


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("--release", help="Release label; each distinct label is one deploy cycle.")


def run(command: BaseCommand, options: dict[str, Any]) -> int:
    guard.refuse_if_web_process("safemigrate")
    args = [a for a in (options.get("app_label"), options.get("migration_name")) if a]
    call_command("migrate", *args, database=options["database"], verbosity=1)
    return 0
