"""The deploy-cycle ledger: counting releases and gating drops of deprecated objects.

A deploy cycle is one distinct release label given to ``safemigrate --release``. The
counter is the number of such labels seen. A deprecation records the counter's value when
it was applied; the drop is allowed once ``ZDT_DEPRECATION_CYCLES`` more cycles have passed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import router
from django.db.backends.base.base import BaseDatabaseWrapper

from django_zero_downtime.models import DeployCycle, Deprecation


@dataclass(frozen=True)
class DropVerdict:
    allowed: bool
    cycles_passed: int
    cycles_required: int

    @property
    def remaining(self) -> int:
        return max(0, self.cycles_required - self.cycles_passed)


def drop_verdict(cycles_now: int, deprecated_in: int, required: int) -> DropVerdict:
    """Pure decision: may an object deprecated in cycle ``deprecated_in`` be dropped now?"""
    passed = max(0, cycles_now - deprecated_in)
    return DropVerdict(allowed=passed >= required, cycles_passed=passed, cycles_required=required)


def current_cycle(using: str) -> int:
    """The deploy-cycle counter on database ``using``."""
    return DeployCycle.objects.using(using).count()


def record_release(label: str, using: str) -> tuple[int, bool]:
    """Record ``label`` as a deploy cycle; returns (counter, created). Idempotent per label."""
    _, created = DeployCycle.objects.using(using).get_or_create(release=label)
    return current_cycle(using), created


def record_deprecation(
    connection: BaseDatabaseWrapper, kind: str, table: str, column: str, app: str, migration: str
) -> Deprecation:
    """Record (or keep the first record of) a deprecation on ``connection``'s database."""
    using = connection.alias
    deprecation, _ = Deprecation.objects.using(using).get_or_create(
        kind=kind,
        table=table,
        column=column,
        defaults={
            "app_label": app,
            "migration": migration,
            "deprecated_in_cycle": current_cycle(using),
        },
    )
    return deprecation


def ledger_alias(model: type = Deprecation) -> str:
    return router.db_for_write(model) or "default"
