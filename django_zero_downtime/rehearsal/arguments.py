"""The flags of ``safemigrate --rehearse``, apart from the module that runs it (see
:mod:`django_zero_downtime.lint.arguments`)."""

from __future__ import annotations

from argparse import ArgumentParser


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--rehearse",
        action="store_true",
        help="Run the pending migrations on this database inside a transaction that is rolled "
        "back; report locks, rewrites, scans and time per statement. Use a staging copy.",
    )
    parser.add_argument(
        "--rehearse-format",
        choices=("text", "json"),
        default=None,
        help="Deprecated spelling of --format for --rehearse.",
    )
