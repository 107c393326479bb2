"""The demo's plan (pure): which pre-steps each release runs, and the blue/green phases."""

from __future__ import annotations

from example_project.lifecycle.plan import (
    BLUE_GREEN_PHASES,
    QUICK,
    DemoOptions,
    extra_cycle_label,
    steps,
)
from example_project.people.releases import release


def test_release_one_sets_up_the_ledger_before_the_people_table() -> None:
    first = steps()[0]
    assert first.targets == (("django_zero_downtime", None), ("people", "0001_initial"))
    assert first.previous is None and not first.gated_drop


def test_later_releases_migrate_people_only_and_only_the_last_is_gated() -> None:
    later = steps()[1:]
    assert [s.release.number for s in later] == [2, 3, 4]
    assert [s.targets for s in later] == [
        (("people", "0002_dual_write_surname"),),
        (("people", "0002_dual_write_surname"),),
        (("people", "0003_drop_last_name"),),
    ]
    assert [s.previous for s in later] == [1, 2, 3]
    assert [s.gated_drop for s in later] == [False, False, True]


def test_blue_green_order_is_split_then_back_then_forward() -> None:
    assert [(p.name, p.to_old, p.to_new) for p in BLUE_GREEN_PHASES] == [
        ("50/50", True, True),
        ("rollback", True, False),
        ("forward", False, True),
    ]


def test_quick_is_smaller_than_the_default_and_extra_cycles_are_labelled() -> None:
    default = DemoOptions()
    assert QUICK.rows < default.rows and QUICK.requests < default.requests
    assert extra_cycle_label(release(3), 2) == "r3.2"
