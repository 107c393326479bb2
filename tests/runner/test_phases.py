"""Contract migrations wait for a later release than their parents (pure decisions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db.migrations.migration import Migration

from django_zero_downtime.runner.phases import ContractFacts, hold_back

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def migration(name: str, *parents: str, contract: bool = False) -> Migration:
    made = Migration(name, "shop")
    made.dependencies = [("shop", parent) for parent in parents]  # type: ignore[misc]
    if contract:
        made.zero_downtime_phase = "contract"  # type: ignore[attr-defined]
    return made


def names(plan: list[tuple[Migration, bool]]) -> list[str]:
    return [m.name for m, _ in plan]


EXPAND = migration("0002_expand", "0001_initial")
CONTRACT = migration("0003_contract", "0002_expand", contract=True)
AFTER = migration("0004_more", "0003_contract")
APPLIED = {("shop", "0001_initial"): T0}


def test_contract_waits_when_its_parent_is_applied_by_the_same_run() -> None:
    plan = [(EXPAND, False), (CONTRACT, False), (AFTER, False)]
    kept, messages = hold_back(plan, ContractFacts(APPLIED))
    assert names(kept) == ["0002_expand"]
    assert 'shop.0003_contract (zero_downtime_phase = "contract")' in messages[0]
    assert "shop.0002_expand, applied by this run" in messages[0]
    assert "later release" in messages[0]
    assert messages[1] == "Held back shop.0004_more: it depends on shop.0003_contract."


def test_contract_runs_when_its_parent_came_with_an_earlier_release() -> None:
    applied = {**APPLIED, ("shop", "0002_expand"): T0 + timedelta(hours=1)}
    facts = ContractFacts(applied, release_started=T0 + timedelta(hours=2))
    kept, messages = hold_back([(CONTRACT, False), (AFTER, False)], facts)
    assert names(kept) == ["0003_contract", "0004_more"]
    assert messages == []


def test_contract_waits_on_a_rerun_of_the_release_that_applied_its_parent() -> None:
    applied = {**APPLIED, ("shop", "0002_expand"): T0 + timedelta(hours=3)}
    facts = ContractFacts(applied, release_started=T0 + timedelta(hours=2))
    kept, messages = hold_back([(CONTRACT, False)], facts)
    assert kept == []
    assert "earlier run of the same release" in messages[0]


def test_a_new_environment_applies_contracts_at_once() -> None:
    plan = [(EXPAND, False), (CONTRACT, False)]
    kept, messages = hold_back(plan, ContractFacts({}, fresh_database=True))
    assert names(kept) == ["0002_expand", "0003_contract"] and messages == []


def test_expand_migrations_and_other_phases_are_not_held() -> None:
    other = migration("0003_other", "0002_expand")
    other.zero_downtime_phase = "expand"  # type: ignore[attr-defined]
    kept, _ = hold_back([(EXPAND, False), (other, False)], ContractFacts(APPLIED))
    assert names(kept) == ["0002_expand", "0003_other"]
