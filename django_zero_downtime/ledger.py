"""The deploy-cycle ledger: counting releases and gating drops of deprecated objects.

A deploy cycle is one distinct release label given to ``safemigrate --release``. The
counter is the number of such labels seen. A deprecation records the counter's value when
it was applied; the drop is allowed once ``ZDT_DEPRECATION_CYCLES`` more cycles have passed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import router
from django.db.backends.base.base import BaseDatabaseWrapper

from django_zero_downtime import conf
from django_zero_downtime.exceptions import RefusedByRule, ZeroDowntimeError
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


LEDGER_MISSING = (
    "{what} needs django-zero-downtime's ledger table {table}, which does not exist on "
    'database {alias!r}. Add ("django_zero_downtime", "0001_initial") to the dependencies '
    "of the migration that contains it, so the ledger is created first."
)


def require_ledger(connection: BaseDatabaseWrapper, what: str) -> None:
    """Raise a clear error when the ledger tables are not migrated on ``connection``."""
    table = Deprecation._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [table])
        if cursor.fetchone()[0] is None:
            raise ZeroDowntimeError(
                LEDGER_MISSING.format(what=what, table=table, alias=connection.alias)
            )


def find_deprecation(using: str, kind: str, table: str, column: str = "") -> Deprecation | None:
    return Deprecation.objects.using(using).filter(kind=kind, table=table, column=column).first()


def refusal_message(target: str, verdict: DropVerdict, deprecated_in: int) -> str:
    """What a refused drop says: how many cycles remain and what to do meanwhile."""
    plural = "s" if verdict.remaining != 1 else ""
    return (
        f"Refusing to drop {target}: it was deprecated in deploy cycle {deprecated_in}, "
        f"{verdict.cycles_passed} of the required {verdict.cycles_required} deploy cycles "
        f"(ZDT_DEPRECATION_CYCLES) have passed, {verdict.remaining} more release{plural} "
        "needed. Ship this drop in a later release (move the operation to a later migration "
        "and deploy it after the remaining cycles); the previous releases may still use it."
    )


_GATES_OPEN_BECAUSE: ContextVar[str | None] = ContextVar("zdt_gates_open_because", default=None)


@contextmanager
def gates_open(reason: str) -> Iterator[None]:
    """Open the deploy-cycle gates of drops inside this block, for a stated ``reason``.

    Only for a database no release can be serving from: ``safemigrate`` opens them when it
    starts on a database where no migration has been applied yet (a new environment),
    because the whole history, expand and contract steps alike, must apply there in one run.
    """
    token = _GATES_OPEN_BECAUSE.set(reason)
    try:
        yield
    finally:
        _GATES_OPEN_BECAUSE.reset(token)


def gate_drop(
    connection: BaseDatabaseWrapper, kind: str, table: str, column: str, what: str
) -> Deprecation | None:
    """Return the deprecation of ``table[.column]`` if it may be dropped now, else refuse."""
    require_ledger(connection, what)
    using = connection.alias
    target = f"{kind} {table}.{column}" if column else f"{kind} {table}"
    deprecation = find_deprecation(using, kind, table, column)
    if _GATES_OPEN_BECAUSE.get():
        return deprecation
    if deprecation is None:
        raise RefusedByRule(
            f"Refusing to drop {target}: no deprecation of it is recorded in the ledger on "
            f"database {using!r}. Deprecate it first (DeprecateColumn / DeprecateTable / "
            "DualWriteRename) in an earlier release and drop it after ZDT_DEPRECATION_CYCLES "
            "deploy cycles."
        )
    required = conf.get_settings().DEPRECATION_CYCLES
    verdict = drop_verdict(current_cycle(using), deprecation.deprecated_in_cycle, required)
    if not verdict.allowed:
        raise RefusedByRule(refusal_message(target, verdict, deprecation.deprecated_in_cycle))
    return deprecation


# --- the migration being applied ---------------------------------------------------------

RUNNING_MIGRATION: ContextVar[str] = ContextVar("zdt_running_migration", default="")
"""``app.0002_name`` of the migration being applied, for ledger rows and messages. Set by
the runner around each migration and, for Django's executor (``migrate``, the test
database, direct use), by :func:`naming_migrations` through its progress callback."""


@contextmanager
def running(migration: Any) -> Iterator[None]:
    """Name ``migration`` as the running one for the duration of the block."""
    token = RUNNING_MIGRATION.set(f"{migration.app_label}.{migration.name}")
    try:
        yield
    finally:
        RUNNING_MIGRATION.reset(token)


@contextmanager
def naming_migrations(executor: Any) -> Iterator[None]:
    """While ``executor.migrate`` runs, keep :data:`RUNNING_MIGRATION` on the migration it
    is applying (Django announces each one to ``progress_callback``)."""
    previous = executor.progress_callback
    token = RUNNING_MIGRATION.set("")

    def callback(action: str, migration: Any = None, fake: bool = False) -> None:
        if action == "apply_start" and migration is not None:
            RUNNING_MIGRATION.set(f"{migration.app_label}.{migration.name}")
        elif action.endswith("_success") or action == "unapply_start":
            RUNNING_MIGRATION.set("")
        if previous is not None:
            previous(action, migration, fake)

    executor.progress_callback = callback
    try:
        yield
    finally:
        executor.progress_callback = previous
        RUNNING_MIGRATION.reset(token)
