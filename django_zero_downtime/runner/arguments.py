"""The flags of ``safemigrate`` applying migrations, apart from the modules that apply them
(see :mod:`django_zero_downtime.lint.arguments`)."""

from __future__ import annotations

from argparse import ArgumentParser


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--release",
        help="This deploy's release label (default ZDT_RELEASE); a deploy cycle once it serves "
        "(docs/deploy.md#deploy-cycles).",
    )
    parser.add_argument(
        "--lock-timeout",
        type=int,
        metavar="MS",
        help="lock_timeout of every DDL step (default ZDT_LOCK_TIMEOUT_MS).",
    )
    parser.add_argument(
        "--max-retries",
        type=int,
        metavar="N",
        help="Retries of a step that timed out (default ZDT_MAX_RETRIES).",
    )
    parser.add_argument(
        "--statement-timeout",
        type=int,
        metavar="MS",
        help="statement_timeout of the migration session (default ZDT_STATEMENT_TIMEOUT_MS).",
    )
    parser.add_argument(
        "--max-blocking",
        type=int,
        metavar="MS",
        help="Cancel and retry a step when live sessions waited on it longer "
        "(default ZDT_MAX_BLOCKING_MS).",
    )
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="Exit with an error instead of waiting when another run holds the lock.",
    )
    parser.add_argument("--report", metavar="FILE", help="Write the JSON report to FILE.")
    parser.add_argument(
        "--report-html",
        metavar="FILE",
        help="Write the report as one self-contained HTML page (needs the [report] extra).",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="Exit 4 when live traffic was hurt: a session waited longer than --max-blocking "
        "or the rollback rate climbed (measured against a baseline taken just before).",
    )
    parser.add_argument(
        "--plan",
        action="store_true",
        help="Print the steps, their locks and rules; change nothing.",
    )
