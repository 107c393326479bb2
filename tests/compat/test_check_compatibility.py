"""``check_compatibility``: the previous release from the database, named migrations or git."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from django_zero_downtime.compat import check_compatibility
from django_zero_downtime.exceptions import ZeroDowntimeError

INITIAL = """from django.db import migrations, models

class Migration(migrations.Migration):
    initial = True
    operations = [
        migrations.CreateModel("Thing", [
            ("id", models.BigAutoField(primary_key=True)),
            ("name", models.CharField(max_length=50)),
        ]),
    ]
"""

DROP_NAME = """from django.db import migrations

class Migration(migrations.Migration):
    dependencies = [("zdt_gitapp", "0001_initial")]
    operations = [migrations.RemoveField("thing", "name")]
"""


def _git(repo: Path, *args: str) -> None:
    identity = ["-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    subprocess.run(["git", "-C", str(repo), *identity, *args], check=True, capture_output=True)


@pytest.fixture
def git_app(tmp_path: Path) -> Iterator[Path]:
    """An app whose 0001 is committed and whose 0002 (a column drop) is new."""
    migrations_dir = tmp_path / "zdt_gitapp" / "migrations"
    migrations_dir.mkdir(parents=True)
    for init in (tmp_path / "zdt_gitapp", migrations_dir):
        (init / "__init__.py").write_text("")
    (migrations_dir / "0001_initial.py").write_text(INITIAL)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "release 1")
    (migrations_dir / "0002_drop_name.py").write_text(DROP_NAME)
    sys.path.insert(0, str(tmp_path))
    try:
        with override_settings(INSTALLED_APPS=[*settings.INSTALLED_APPS, "zdt_gitapp"]):
            yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("zdt_gitapp")]:
            del sys.modules[name]


def test_git_ref_finds_the_break_in_the_new_migration(git_app: Path) -> None:
    [finding] = check_compatibility(git_ref="HEAD")
    assert (finding.rule, finding.app, finding.migration) == (
        "ZDT502",
        "zdt_gitapp",
        "0002_drop_name",
    )
    assert finding.file.endswith("0002_drop_name.py")
    assert "zdt_gitapp.Thing.name" in finding.message


def test_once_committed_at_the_ref_it_is_the_previous_release(git_app: Path) -> None:
    _git(git_app, "add", ".")
    _git(git_app, "commit", "-qm", "release 2")
    assert check_compatibility(git_ref="HEAD") == []
    [finding] = check_compatibility(git_ref="HEAD~1")
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
