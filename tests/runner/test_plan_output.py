"""``--plan`` shows what will run: the statements in full at -v 2 with the lock of each,
what operations do beyond their SQL, and each rule line once."""

from __future__ import annotations

import pytest

from tests.runner.conftest import CREATE_ITEM, MigrationsPackage, migration, safemigrate

pytestmark = pytest.mark.django_db(transaction=True)
RENAME = migration(
    ["0001_item"],
    '        zdt.DualWriteRename("item", "n", "amount"),',
    atomic=False,
).replace("from django.db", "import django_zero_downtime.operations as zdt\nfrom django.db")


@pytest.fixture
def renaming(rapp: MigrationsPackage) -> MigrationsPackage:
    rapp.write(**{"0001_item": CREATE_ITEM})
    assert safemigrate("rapp").code == 0
    rapp.write(**{"0002_rename": RENAME})
    return rapp


def test_plan_at_verbosity_2_shows_every_statement_and_its_lock(
    renaming: MigrationsPackage,
) -> None:
    result = safemigrate("rapp", "--plan", verbosity=2)
    assert result.code == 0, result.err
    out = result.out
    assert "CREATE OR REPLACE FUNCTION" in out and "RETURNS TRIGGER" in out  # the whole body
    assert "CREATE TRIGGER SHARE ROW EXCLUSIVE on rapp_item" in out
    assert "-- lock: ALTER TABLE ADD COLUMN" in out
    assert "-- copy n to amount in batches: UPDATE" in out
    assert "unknown" not in out


def test_plan_at_verbosity_1_cuts_with_an_ellipsis_and_says_each_rule_once(
    renaming: MigrationsPackage,
) -> None:
    out = safemigrate("rapp", "--plan").out
    assert "CREATE OR REPLACE FUNCTION" in out and "RETURNS TRIGGER" not in out
    assert any(line.rstrip().endswith("…") for line in out.splitlines())
    rules = [line.strip() for line in out.splitlines() if line.strip().startswith("rule ")]
    assert len(rules) == len(set(rules))
