"""The flags of ``safemigrate --check`` and ``--adopt``, apart from the modules that run them.

``safemigrate`` defines every mode's flags on each run; importing only these keeps a
``--check`` from importing the runner and the rehearsal (and the other way round).
"""

from __future__ import annotations

from argparse import Action, ArgumentParser, Namespace
from typing import Any

from django_zero_downtime.findings.render import FORMATS
from django_zero_downtime.lint.baseline import FILE_NAME


class SkippingChecks(Action):
    """A flag that also skips Django's system checks: ``--check`` reports zdt.E010's
    findings itself, in the requested format, instead of stopping at a SystemCheckError
    first; ``--adopt`` must run whatever the baseline it rewrites says."""

    def __call__(self, parser: ArgumentParser, namespace: Namespace, *args: Any) -> None:
        setattr(namespace, self.dest, True)
        namespace.skip_checks = True


def add_check_arguments(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--check",
        action=SkippingChecks,
        nargs=0,
        default=False,
        help="Lint migrations (by default the unapplied ones); change nothing.",
    )
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument(
        "--all", action="store_true", dest="lint_all", help="With --check: lint every migration."
    )
    scope.add_argument(
        "--since",
        metavar="GIT_REF",
        dest="lint_since",
        help="With --check: lint the migrations whose files changed since this git ref.",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        dest="lint_format",
        help="Output of --check, --plan and --rehearse (default text).",
    )


def add_adopt_arguments(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--adopt",
        action=SkippingChecks,
        nargs=0,
        default=False,
        help=f"Record every app's current migration history as shipped in {FILE_NAME}"
        " at the project root; only migrations added later are judged.",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="With --adopt: move an existing baseline forward to the current migrations.",
    )
