"""``check_compatibility``: the previous release from the database, named migrations or git."""

from __future__ import annotations

from pathlib import Path

import pytest

from django_zero_downtime.bluegreen.compatibility import check_compatibility
from django_zero_downtime.exceptions import ZeroDowntimeError
from django_zero_downtime.findings.model import Finding
from tests.bluegreen.conftest import commit


def _gitapp(findings: list[Finding]) -> list[Finding]:
    """Only the throw-away app: the ref also applies to this repository's own apps, whose
    history (and uncommitted migrations in a checkout) is not this test's business."""
    return [f for f in findings if f.app == "zdt_gitapp"]


def test_git_ref_finds_the_break_in_the_new_migration(git_app: Path) -> None:
    [finding] = _gitapp(check_compatibility(git_ref="HEAD"))
    assert (finding.rule, finding.app, finding.migration) == (
        "ZDT502",
        "zdt_gitapp",
        "0002_drop_name",
    )
    assert finding.file == "zdt_gitapp/migrations/0002_drop_name.py"  # relative to BASE_DIR
    assert finding.line is not None and finding.line > 0
    assert "zdt_gitapp.Thing.name" in finding.message


def test_once_committed_at_the_ref_it_is_the_previous_release(git_app: Path) -> None:
    commit(git_app, "release 2")
    assert _gitapp(check_compatibility(git_ref="HEAD")) == []
    [finding] = _gitapp(check_compatibility(git_ref="HEAD~1"))
    assert finding.migration == "0002_drop_name"


def test_named_previous_migration(git_app: Path) -> None:
    assert [f.rule for f in check_compatibility(migrations={"zdt_gitapp": "0001"})] == ["ZDT502"]
    assert check_compatibility(migrations={"zdt_gitapp": "0002"}) == []


def test_unknown_git_ref_is_a_clear_error(git_app: Path) -> None:
    with pytest.raises(ZeroDowntimeError, match="git ref 'no-such-ref' not found"):
        check_compatibility(git_ref="no-such-ref")


def test_unknown_named_migration_is_a_clear_error() -> None:
    with pytest.raises(ZeroDowntimeError, match=r"people\.9999"):
        check_compatibility(migrations={"people": "9999"})


@pytest.mark.django_db
def test_applied_on_the_database_with_nothing_pending_is_compatible() -> None:
    assert check_compatibility(database="default") == []


BROKEN = """from django.db import migrations

class Migration(migrations.Migration):
    dependencies = [("zdt_gitapp", "0099_missing")]
"""


def test_migration_with_a_missing_dependency_is_a_clear_error(git_app: Path) -> None:
    (git_app / "zdt_gitapp" / "migrations" / "0003_broken.py").write_text(BROKEN)
    with pytest.raises(ZeroDowntimeError, match=r"Cannot load the migrations: .*0099_missing"):
        check_compatibility(git_ref="HEAD")


def test_unknown_database_alias_is_a_clear_error() -> None:
    with pytest.raises(ZeroDowntimeError, match="'replica' is not in DATABASES"):
        check_compatibility(database="replica")


def test_rule_settings_apply(git_app: Path) -> None:
    from django.test import override_settings

    with override_settings(ZDT_RULES_SEVERITY={"ZDT502": "warning"}):
        [finding] = _gitapp(check_compatibility(git_ref="HEAD"))
    assert finding.severity == "warning"
    with override_settings(ZDT_RULES_IGNORE=["ZDT502"]):
        assert _gitapp(check_compatibility(git_ref="HEAD")) == []
    with override_settings(ZDT_RULES_SELECT=["ZDT101"]):
        assert _gitapp(check_compatibility(git_ref="HEAD")) == []
