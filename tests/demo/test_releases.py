"""Release selection from the environment (pure)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from example_project.people.releases import LATEST, RELEASES, parse_release, release


def test_unset_or_empty_release_is_the_latest() -> None:
    assert parse_release(None) is LATEST
    assert parse_release("  ") is LATEST
    assert LATEST.number == 4


@pytest.mark.parametrize("raw", ["1", "r1", " 1 "])
def test_release_one_reads_and_writes_last_name(raw: str) -> None:
    chosen = parse_release(raw)
    assert (chosen.number, chosen.reads, chosen.writes) == (1, "last_name", ("last_name",))


def test_release_two_writes_both_and_reads_the_old_column() -> None:
    two = release(2)
    assert two.reads == "last_name"
    assert set(two.writes) == {"last_name", "surname"}
    assert two.columns == {"last_name", "surname"}


def test_releases_three_and_four_only_know_surname() -> None:
    assert release(3).columns == release(4).columns == {"surname"}


def test_labels_and_migrations_are_distinct_and_ordered() -> None:
    assert [r.label for r in RELEASES] == ["r1", "r2", "r3", "r4"]
    migrations = [r.migration for r in RELEASES]
    assert migrations == sorted(migrations)
    assert len(set(migrations)) == 3  # release 3 changes no schema


@pytest.mark.parametrize(("raw", "expected"), [("7", "RELEASE=7"), ("blue", "'blue'")])
def test_bad_release_names_the_variable_and_the_valid_values(raw: str, expected: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=expected) as info:
        parse_release(raw)
    assert "1" in str(info.value) and "4" in str(info.value)
