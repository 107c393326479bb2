"""zdt.E010's early exit: with no migration after the baseline, the graph is not loaded."""

from __future__ import annotations

from django.test import override_settings

from django_zero_downtime.lint import system_check
from django_zero_downtime.lint.system_check import migration_names, nothing_new

LABEL = "django_zero_downtime"


def test_no_first_party_app_means_nothing_new() -> None:
    assert nothing_new(set(), {}) is True


def test_migration_files_are_listed_from_disk() -> None:
    names = migration_names(LABEL)
    assert names is not None and "0001_initial" in names and "__init__" not in names


def test_only_a_baseline_at_the_last_file_means_nothing_new() -> None:
    names = migration_names(LABEL) or []
    assert nothing_new({LABEL}, {}) is False
    assert nothing_new({LABEL}, {LABEL: max(names)}) is True
    assert nothing_new({LABEL}, {LABEL: min(names)}) is (len(names) == 1)
    assert nothing_new({LABEL}, {LABEL: "9999_not_a_file"}) is False


def test_an_app_without_migrations_has_none() -> None:
    with override_settings(MIGRATION_MODULES={LABEL: None}):
        assert migration_names(LABEL) == []


def test_the_check_returns_early_without_loading_the_graph(monkeypatch: object) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("the migration graph was loaded")

    monkeypatch.setattr(system_check, "_load", fail)  # type: ignore[attr-defined]
    monkeypatch.setattr(system_check, "is_first_party", lambda config: False)  # type: ignore[attr-defined]
    assert [m.id for m in system_check.migration_messages()] == []


def test_the_baseline_check_without_a_baseline_loads_no_graph(monkeypatch: object) -> None:
    """zdt.E012 with neither a baseline file nor ``ZDT_BASELINE``: nothing to look up."""

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("the migration graph was loaded")

    monkeypatch.setattr(system_check, "_load", fail)  # type: ignore[attr-defined]
    monkeypatch.setattr(system_check.adoption, "read_file", dict)  # type: ignore[attr-defined]
    with override_settings(ZDT_BASELINE={}):
        assert system_check.baseline_messages() == []
