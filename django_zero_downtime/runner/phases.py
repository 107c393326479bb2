"""Contract migrations wait for a later release than the migrations they build on.

A migration class that says ``zero_downtime_phase = "contract"`` holds a later step of an
expand/contract change (swap a retyped column in, drop what the previous release still
used). The previous release must have stopped serving before it runs, so ``safemigrate``
applies it only in a later run, under a later ``--release``, than the run that applied its
parents. A held-back migration, and everything in the plan that depends on it, is left for
the next release's run; the run says so and applies the rest.

A new environment (no migration applied yet) applies everything: no release serves from it.
:func:`hold_back` is pure; :func:`contract_facts` reads what it needs from the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.db.migrations.migration import Migration

PHASE_ATTRIBUTE = "zero_downtime_phase"
CONTRACT = "contract"
Key = tuple[str, str]


def is_contract(migration: Migration) -> bool:
    return getattr(migration, PHASE_ATTRIBUTE, None) == CONTRACT


@dataclass(frozen=True)
class ContractFacts:
    """What the database says about earlier runs."""

    applied_at: Mapping[Key, datetime]
    """When each applied migration was applied (``django_migrations.applied``)."""
    release_started: datetime | None = None
    """When this run's ``--release`` label was first recorded (an earlier run of the same
    release); None when the label is new or not given."""
    fresh_database: bool = False


def label(key: Key) -> str:
    return f"{key[0]}.{key[1]}"


def _too_early(
    migration: Migration, in_run: set[Key], facts: ContractFacts
) -> tuple[Key, str] | None:
    """(parent, why) when ``migration`` is a contract that must wait; else None."""
    if not is_contract(migration):
        return None
    for parent in migration.dependencies:
        key = (parent[0], parent[1])
        if key in in_run:
            return key, "applied by this run"
        applied = facts.applied_at.get(key)
        if applied and facts.release_started and applied >= facts.release_started:
            return key, "applied by an earlier run of the same release"
    return None


def hold_back(
    plan: list[tuple[Migration, bool]], facts: ContractFacts
) -> tuple[list[tuple[Migration, bool]], list[str]]:
    """The plan without the contract migrations that must wait, and why each waits."""
    if facts.fresh_database:
        return plan, []
    kept: list[tuple[Migration, bool]] = []
    held: set[Key] = set()
    in_run: set[Key] = set()
    messages: list[str] = []
    for migration, backwards in plan:
        key = (migration.app_label, migration.name)
        waiting_on = next((d for d in migration.dependencies if tuple(d[:2]) in held), None)
        early = None if waiting_on else _too_early(migration, in_run, facts)
        if waiting_on is not None:
            held.add(key)
            messages.append(f"Held back {label(key)}: it depends on {label(waiting_on)}.")
        elif early is not None:
            held.add(key)
            messages.append(_contract_message(key, *early))
        else:
            kept.append((migration, backwards))
            in_run.add(key)
    return kept, messages


def _contract_message(key: Key, parent: Key, why: str) -> str:
    return (
        f'Held back {label(key)} (zero_downtime_phase = "contract"): it builds on '
        f"{label(parent)}, {why}. The previous release may still be serving; a later "
        "release's safemigrate run (a new --release label) applies it."
    )


def contract_facts(connection: Any, release: str | None, fresh: bool) -> ContractFacts:
    """Read the applied times and the release's first run from ``connection``."""
    from django.db.migrations.recorder import MigrationRecorder

    from django_zero_downtime.models import DeployCycle

    recorder = MigrationRecorder(connection)
    applied = {(r.app, r.name): r.applied for r in recorder.migration_qs.all()}
    started = None
    if release and DeployCycle._meta.db_table in connection.introspection.table_names():
        rows = DeployCycle.objects.using(connection.alias).filter(release=release)
        started = rows.values_list("started_at", flat=True).first()  # any ledger level
    return ContractFacts(applied, started, fresh)


def defer_contracts(
    connection: Any,
    plan: list[tuple[Migration, bool]],
    release: str | None,
    say: Any,
) -> list[tuple[Migration, bool]]:
    """The runner's one call: ``plan`` without the contracts that wait, each said."""
    if not any(is_contract(m) for m, _ in plan):
        return plan
    facts = contract_facts(connection, release, fresh=False)
    kept, messages = hold_back(plan, replace(facts, fresh_database=not facts.applied_at))
    for message in messages:
        say(message)
    return kept
