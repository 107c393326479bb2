"""Operations declare their traits; every consumer asks the operation (no class-name lists),
so an operation of another package that declares the same traits is treated the same."""

from __future__ import annotations

from django.db import migrations, models

from django_zero_downtime import operations as zdt
from django_zero_downtime import traits
from django_zero_downtime.autodetect.autodetector import needs_non_atomic, uses_ledger
from django_zero_downtime.lint.context import is_safe_operation
from django_zero_downtime.rehearsal.run import non_transactional

EXPECTED = {
    # class: (non-atomic, cycle-gated, category, backfills rows)
    "AddColumnWithDefault": (False, False, "expand", False),
    "DualWriteRename": (True, False, "expand", True),
    "BatchedBackfill": (True, False, "backfill", True),
    "DeprecateColumn": (False, False, "deprecate", False),
    "DeprecateTable": (False, False, "deprecate", False),
    "CompleteDualWriteRename": (True, True, "contract", False),
    "DropDeprecatedColumn": (False, True, "contract", False),
    "DropDeprecatedTable": (False, True, "contract", False),
}


def test_every_public_operation_declares_its_traits() -> None:
    assert set(EXPECTED) <= set(zdt.__all__)
    for name, (non_atomic, gated, category, backfills) in EXPECTED.items():
        cls = getattr(zdt, name)
        assert (
            traits.requires_non_atomic(cls),
            traits.deploy_cycle_gated(cls),
            traits.safe_category(cls),
            traits.backfills_rows(cls),
        ) == (non_atomic, gated, category, backfills), name


def test_effects_on_the_previous_release_come_from_the_operation() -> None:
    rename = zdt.DualWriteRename("person", "last_name", "surname")
    assert traits.schema_effect(rename) == traits.Effect(
        kept=(("person", "last_name"),),
        filled=(("person", "surname"),),
        mirrored=(("person", "last_name", "surname"),),
    )
    assert traits.schema_effect(zdt.DeprecateTable("person")) == traits.Effect(
        kept_tables=("person",)
    )
    assert traits.schema_effect(migrations.RemoveField("person", "x")) is None


class ThirdPartyBackfill(migrations.RunPython):
    """Another package's operation that declares the same traits as BatchedBackfill."""

    requires_non_atomic_migration = True
    safe_category = "backfill"
    backfills_rows = True
    uses_ledger = False

    def __init__(self) -> None:
        super().__init__(migrations.RunPython.noop)


def test_consumers_ask_the_traits_not_the_class() -> None:
    other = ThirdPartyBackfill()
    assert is_safe_operation(other)
    assert needs_non_atomic(other) and non_transactional(other)
    assert not uses_ledger(other) and uses_ledger(zdt.DeprecateColumn("a", "b"))
    plain = migrations.AddField("person", "x", models.IntegerField(null=True))
    assert not (is_safe_operation(plain) or needs_non_atomic(plain) or non_transactional(plain))
    concurrently = migrations.RunSQL("CREATE INDEX CONCURRENTLY i ON t (a)")
    assert traits.cannot_run_in_transaction(concurrently)


def test_the_checker_judges_a_declared_non_atomic_operation_by_its_traits() -> None:
    from tests.lint.helpers import codes

    assert codes([ThirdPartyBackfill()], atomic=True) == ["ZDT303"]
    assert codes([ThirdPartyBackfill()], atomic=False) == []
