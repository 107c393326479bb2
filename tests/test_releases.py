"""What counts as a deploy cycle, label spellings, and the serving refusal (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from django_zero_downtime import conf, releases
from django_zero_downtime.releases import Cycle, Served, StillServing

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize("typed", ["r9", "R9", "r9 ", "r9\t", " R9\n"])
def test_five_spellings_of_a_label_are_one_release(typed: str) -> None:
    assert conf.normalise_release(typed) == "r9"


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("x" * 300, "300 characters long"),
        ("r 9", "'r 9' is not valid"),
        ("r9;drop", "is not valid"),
        ("", "is not valid"),
        ("-r9", "is not valid"),
        ("réléase", "is not valid"),
    ],
)
def test_bad_labels_say_what_is_expected(typed: str, says: str) -> None:
    with pytest.raises(conf.BadReleaseLabel) as caught:
        conf.normalise_release(typed)
    assert says in str(caught.value)
    assert "letters, digits and . _ + / : @ # -" in str(caught.value)


def test_a_label_of_the_column_size_is_accepted() -> None:
    assert conf.normalise_release("a" * conf.RELEASE_MAX_LENGTH) == "a" * 200


@override_settings(ZDT_RELEASE="  V2.4.1 ")
def test_the_release_setting_is_normalised() -> None:
    assert conf.get_settings().RELEASE == "v2.4.1"


def test_the_release_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZDT_RELEASE", "R10")
    assert conf.get_settings().RELEASE == "r10"
    monkeypatch.setenv("ZDT_RELEASE", "r 10")
    with pytest.raises(ImproperlyConfigured, match="ZDT_RELEASE environment variable"):
        conf.get_settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [("HEARTBEAT_S", -1), ("MIN_CYCLE_INTERVAL", -5), ("SERVING_WINDOW", 0), ("RELEASE", 9)],
)
def test_bad_cycle_settings_name_the_setting(name: str, value: object) -> None:
    with override_settings(**{f"ZDT_{name}": value}), pytest.raises(ImproperlyConfigured) as e:
        conf.get_settings()
    assert f"ZDT_{name}" in str(e.value)


def test_the_serving_window_must_hold_two_heartbeats() -> None:
    with (
        override_settings(ZDT_HEARTBEAT_S=60, ZDT_SERVING_WINDOW=90),
        pytest.raises(ImproperlyConfigured, match="ZDT_SERVING_WINDOW = 90"),
    ):
        conf.get_settings()
    with override_settings(ZDT_HEARTBEAT_S=None, ZDT_SERVING_WINDOW=1):
        assert conf.get_settings().HEARTBEAT_S is None


def test_labels_within_the_interval_are_not_cycles() -> None:
    last = Cycle("a-1", at(0), True)
    assert releases.label_decision("a-1", at(0), None, 60).counted
    second = releases.label_decision("a-2", at(1), last, 60)
    assert not second.counted
    assert second.reason is not None and "1 s after deploy cycle 'a-1'" in second.reason
    assert releases.label_decision("a-4", at(60), last, 60).counted


def test_three_releases_served_within_seconds_are_one_cycle_then_the_last_counts() -> None:
    served = [Served("a-1", at(0), at(1)), Served("a-2", at(1), at(2)), Served("a-3", at(2), at(3))]
    decisions = releases.served_decisions(served, [], 60)
    assert [(d.release, d.counted) for d in decisions] == [
        ("a-1", True), ("a-2", False), ("a-3", False),
    ]  # fmt: skip
    assert decisions[1].reason and "ZDT_MIN_CYCLE_INTERVAL is 60 s" in decisions[1].reason
    # a-3 keeps serving: it counts from one interval after a-1, a-2 never does
    served[2] = Served("a-3", at(2), at(3600))
    cycles = [Cycle("a-1", at(0), True), Cycle("a-2", at(1), False)]
    decisions = releases.served_decisions(served, cycles, 60)
    assert [(d.release, d.counted, d.at) for d in decisions] == [
        ("a-2", False, None), ("a-3", True, at(60)),
    ]  # fmt: skip


def test_counted_releases_stay_counted_and_a_rollback_is_not_a_new_cycle() -> None:
    cycles = [Cycle("r8", at(0), True), Cycle("r9", at(1000), True)]
    served = [Served("r8", at(0), at(5000)), Served("r9", at(1000), at(2000))]
    assert releases.served_decisions(served, cycles, 60) == []


def test_a_label_counted_before_serving_reports_began_keeps_its_count() -> None:
    cycles = [Cycle("r5", at(0), True), Cycle("r6", at(100), False)]
    served = [Served("r5", at(50), at(900)), Served("r6", at(700), at(900))]
    [decision] = releases.served_decisions(served, cycles, 600)
    assert (decision.release, decision.counted, decision.at) == ("r6", True, at(700))


def test_the_serving_refusal_names_the_release_and_when() -> None:
    serving = [
        StillServing("r6", at(-12), "web-3", 4242, 4),
        StillServing("r5", at(-300), "web-1", 11, 1),
    ]
    message = releases.serving_refusal("column shop_item.note", serving, at(0), 600)
    assert "release 'r6', whose models still map it, was seen serving 12 s ago" in message
    assert "2026-12-01 11:59:48 UTC, web-3 pid 4242; 4 process(es)" in message
    assert "also release 'r5'" in message and "ZDT_SERVING_WINDOW = 600 s" in message
