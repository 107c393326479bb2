"""The deploy-cycle ledger: counting releases and gating drops of deprecated objects.

A deploy cycle is a release that served (or, without web processes reporting, a release
label), decided by :mod:`django_zero_downtime.releases`. The counter is the number of
counted ``DeployCycle`` rows. A deprecation records the counter's value when it was
applied; the drop is allowed once ``ZDT_DEPRECATION_CYCLES`` more cycles have passed and
no release whose models map the object has been seen serving within ``ZDT_SERVING_WINDOW``.

The SQL here works on every ledger level: before ``0003_served_releases`` (during the run
that applies it, or with a migration depending only on ``0001_initial``) every label
counts, as it did, and nothing is known of serving releases.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from django_zero_downtime import conf, releases
from django_zero_downtime.exceptions import RefusedByRule, ZeroDowntimeError
from django_zero_downtime.models import DeployCycle, Deprecation, ServingProcess
from django_zero_downtime.releases import Cycle, Decision, Served, StillServing


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


CYCLES = DeployCycle._meta.db_table
SERVING = ServingProcess._meta.db_table


def _has(cursor: Any, table: str, column: str | None = None) -> bool:
    """Does ``table`` (and its ``column``) exist? The ledger may be at any level."""
    cursor.execute(
        "SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass(%s) "
        "AND attnum > 0 AND NOT attisdropped AND (%s::text IS NULL OR attname = %s)",
        [table, column, column],
    )
    return bool(cursor.fetchone()[0])


def counts_served(cursor: Any) -> bool:
    """The ledger is at ``0003_served_releases`` or later."""
    return _has(cursor, CYCLES, "not_counted") and _has(cursor, SERVING)


def current_cycle(using: str) -> int:
    """The deploy-cycle counter on database ``using``: the counted releases."""
    with connections[using].cursor() as cursor:
        where = " WHERE not_counted IS NULL" if _has(cursor, CYCLES, "not_counted") else ""
        cursor.execute(f"SELECT count(*) FROM {CYCLES}{where}")
        return int(cursor.fetchone()[0])


@dataclass(frozen=True)
class Recorded:
    """What recording a release label did."""

    cycle: int
    created: bool
    not_counted: str | None = None


def record_release(label: str, using: str, label_counting: bool = True) -> Recorded:
    """Record ``label`` (normalised, :func:`conf.normalise_release`); idempotent per label,
    also against a row an older version stored as typed (``"R9 "``).

    ``label_counting``: no web process reports, the label counts unless it comes within
    ``ZDT_MIN_CYCLE_INTERVAL`` of the latest cycle; otherwise it counts once it serves.
    On a ledger before 0003 every new label counts, as it did.
    """
    with connections[using].cursor() as cursor:
        served = counts_served(cursor)
        if (row := _recorded(cursor, label, served)) is not None:
            return Recorded(current_cycle(using), False, row[0])
        reason = _new_label_reason(cursor, label, label_counting) if served else None
        if served:
            values = f"INSERT INTO {CYCLES} (release, not_counted) VALUES (%s, %s)"
            cursor.execute(values, [label, reason])
        else:
            cursor.execute(f"INSERT INTO {CYCLES} (release) VALUES (%s)", [label])
    return Recorded(current_cycle(using), True, reason)


SAME_LABEL = "lower(btrim(release, E' \\t\\n\\r\\f\\v')) = %s"


def _recorded(cursor: Any, label: str, served: bool) -> tuple[str | None] | None:
    reason = "not_counted" if served else "NULL"
    cursor.execute(f"SELECT {reason} FROM {CYCLES} WHERE {SAME_LABEL} ORDER BY id LIMIT 1", [label])
    row = cursor.fetchone()
    return None if row is None else (row[0],)


def _new_label_reason(cursor: Any, label: str, label_counting: bool) -> str | None:
    """Why a new label does not count now (None: it counts)."""
    if not label_counting:
        return releases.NOT_SERVED_YET
    cursor.execute("SELECT statement_timestamp()")
    now = cursor.fetchone()[0]
    interval = conf.get_settings().MIN_CYCLE_INTERVAL
    return releases.label_decision(label, now, releases.latest(_cycles(cursor)), interval).reason


def _cycles(cursor: Any) -> list[Cycle]:
    cursor.execute(
        f"SELECT release, coalesce(served_at, started_at), not_counted IS NULL FROM {CYCLES}"
    )
    return [Cycle(*row) for row in cursor.fetchall()]


SERVED_SQL = f"SELECT release, min(first_seen), max(last_seen) FROM {SERVING} GROUP BY release"
STORE_SQL = (
    f"INSERT INTO {CYCLES} AS c (release, served_at, not_counted) VALUES (%s, %s, %s) "
    "ON CONFLICT (release) DO UPDATE SET served_at = EXCLUDED.served_at, "
    "not_counted = EXCLUDED.not_counted WHERE c.not_counted IS NOT NULL"
)


def reconcile_served(using: str) -> list[Decision]:
    """Count the releases seen serving (:func:`releases.served_decisions`) and store each
    decision; under the run lock (one writer). Empty on a ledger before 0003."""
    with connections[using].cursor() as cursor:
        if not counts_served(cursor):
            return []
        cursor.execute(SERVED_SQL)
        served = [Served(*row) for row in cursor.fetchall()]
        interval = conf.get_settings().MIN_CYCLE_INTERVAL
        decisions = releases.served_decisions(served, _cycles(cursor), interval)
        for decision in decisions:
            cursor.execute(STORE_SQL, [decision.release, decision.at, decision.reason])
    return decisions


RECENT = "last_seen > statement_timestamp() - make_interval(secs => %s)"


def serving_reported(using: str) -> bool:
    """Has any web process reported its release within ``ZDT_SERVING_WINDOW``?"""
    window = conf.get_settings().SERVING_WINDOW
    with connections[using].cursor() as cursor:
        if not counts_served(cursor):
            return False
        cursor.execute(f"SELECT EXISTS (SELECT FROM {SERVING} WHERE {RECENT})", [window])
        return bool(cursor.fetchone()[0])


STILL_SERVING_SQL = (
    "SELECT release, max(last_seen), (array_agg(host ORDER BY last_seen DESC))[1], "
    f"(array_agg(pid ORDER BY last_seen DESC))[1], count(*) FROM {SERVING} WHERE {RECENT} "
    f"AND release IN (SELECT release FROM {SERVING} WHERE {{maps}}) "
    "GROUP BY release ORDER BY 2 DESC"
)


def still_serving(connection: Any, table: str, column: str) -> list[StillServing]:
    """Releases whose models map ``table`` (``.column``) seen serving within the window."""
    window = conf.get_settings().SERVING_WINDOW
    with connection.cursor() as cursor:
        if not counts_served(cursor):
            return []
        if column:
            maps, params = "jsonb_exists(maps -> %s, %s)", [table, column]
        else:
            maps, params = "jsonb_exists(maps, %s)", [table]
        cursor.execute(STILL_SERVING_SQL.format(maps=maps), [window, *params])
        return [StillServing(*row) for row in cursor.fetchall()]


BEAT_SQL = f"UPDATE {SERVING} SET last_seen = now() WHERE release = %s AND host = %s AND pid = %s"
FIRST_BEAT_SQL = (
    f"INSERT INTO {SERVING} (release, host, pid, maps) SELECT %s, %s, %s, CASE WHEN EXISTS "
    f"(SELECT FROM {SERVING} WHERE release = %s AND maps IS NOT NULL) THEN NULL "
    "ELSE %s::jsonb END ON CONFLICT (release, host, pid) DO UPDATE SET last_seen = now()"
)
BEAT_TIMEOUTS = "SET LOCAL statement_timeout = '2s'; SET LOCAL lock_timeout = '200ms'"


def report_serving(using: str, release: str, host: str, pid: int, maps: str | None) -> None:
    """One heartbeat of a web process: DML only, one short transaction with short timeouts.

    ``maps`` (JSON ``{table: [columns]}``) is sent with a process's first beat and stored
    once per release; later beats only move ``last_seen``."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(BEAT_TIMEOUTS)
        if maps is None:
            cursor.execute(BEAT_SQL, [release, host, pid])
            if cursor.rowcount:
                return
            raise LookupError("this process's row is gone (pruned): send the first beat again")
        cursor.execute(FIRST_BEAT_SQL, [release, host, pid, release, maps])


def prune_serving(using: str, days: int = 7) -> None:
    """Forget processes not seen for ``days`` (their releases' cycles are decided)."""
    with connections[using].cursor() as cursor:
        if counts_served(cursor):
            cursor.execute(
                f"DELETE FROM {SERVING} WHERE last_seen < now() - make_interval(days => %s)",
                [days],
            )


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
    refuse_while_serving(connection, target, table, column)
    return deprecation


def refuse_while_serving(
    connection: BaseDatabaseWrapper, target: str, table: str, column: str
) -> None:
    """Refuse the drop while a release whose models map it has been seen serving."""
    serving = still_serving(connection, table, column)
    if serving:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement_timestamp()")
            now = cursor.fetchone()[0]
        window = conf.get_settings().SERVING_WINDOW
        raise RefusedByRule(releases.serving_refusal(target, serving, now, window))


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
