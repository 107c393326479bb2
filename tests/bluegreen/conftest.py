"""Fixtures of the compat tests: a throw-away app in a throw-away git repository."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from django_zero_downtime.testing import Migrator

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


UNDO_FORGETS_INDEX = """from django.db import migrations

class Migration(migrations.Migration):
    dependencies = [("zdt_gitapp", "0002_drop_name")]
    operations = [
        migrations.RunSQL(
            "CREATE INDEX thing_id_idx ON zdt_gitapp_thing (id)",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
"""


def _git(repo: Path, *args: str) -> None:
    identity = ["-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    subprocess.run(["git", "-C", str(repo), *identity, *args], check=True, capture_output=True)


def commit(repo: Path, message: str) -> None:
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", message)


@pytest.fixture
def git_app(tmp_path: Path) -> Iterator[Path]:
    """An app whose 0001 is committed and whose 0002 (a column drop) is new, in a project
    whose root (``BASE_DIR``, whose git repository a ref is looked up in) is ``tmp_path``."""
    migrations_dir = tmp_path / "zdt_gitapp" / "migrations"
    migrations_dir.mkdir(parents=True)
    for init in (tmp_path / "zdt_gitapp", migrations_dir):
        (init / "__init__.py").write_text("")
    (migrations_dir / "0001_initial.py").write_text(INITIAL)
    _git(tmp_path, "init", "-q")
    commit(tmp_path, "release 1")
    (migrations_dir / "0002_drop_name.py").write_text(DROP_NAME)
    sys.path.insert(0, str(tmp_path))
    try:
        apps = [*settings.INSTALLED_APPS, "zdt_gitapp"]
        with override_settings(INSTALLED_APPS=apps, BASE_DIR=tmp_path):
            yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("zdt_gitapp")]:
            del sys.modules[name]


@pytest.fixture
def git_app_db(git_app: Path, transactional_db: None) -> Iterator[Path]:
    """``git_app`` whose tables are removed from the test database afterwards."""
    yield git_app
    Migrator().migrate({"zdt_gitapp": None})
