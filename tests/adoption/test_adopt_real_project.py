"""Acceptance: adopt django-zero-downtime on a project with real reusable apps and shipped
histories, as a new user would, then make the changes a team makes (see project.py).

The default form uses django contrib + taggit + the project's own apps (about 30
migrations); the long form adds wagtail's history (~180 migrations) and runs with
``ZDT_LONG=1``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.adoption import project as scratch

pytest.importorskip("wagtail", reason="the project's own app uses a wagtail StreamField")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def adopt_and_change(tmp_path: Path, database_url: str, long: bool) -> None:
    root = scratch.write(tmp_path, long=long)
    env = scratch.environment(root, database_url)

    def manage(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        done = scratch.run(root, env, "manage.py", *args, stdin=stdin)
        assert "Traceback" not in done.stderr, done.stderr
        return done.returncode, done.stdout, done.stderr

    # Before adopting, the shipped history of the project's own app is judged.
    code, _, err = manage("check")
    assert code == 1 and "shop/migrations/0002_price.py:7: (zdt.E010)" in err
    code, out, _ = manage("safemigrate", "--adopt")
    assert code == 0 and "Wrote zero_downtime_baseline.json" in out
    recorded = json.loads((root / "zero_downtime_baseline.json").read_text())["migrations"]
    assert recorded["shop"] == "0002_price" and "taggit" in recorded
    scratch.commit(root, "adopt django-zero-downtime")
    code, out, err = manage("check")
    assert (code, "zdt.E" in err + out) == (0, False), err

    # The whole history applies on an empty database.
    code, out, err = manage("safemigrate", "--release", "r1")
    assert code == 0, err
    assert re.search(r"applied \((\d+) migrations applied\)", out)

    # A rename made with makemigrations passes check and applies.
    models, tests = root / "shop" / "models.py", root / "shop" / "tests.py"
    edit(
        models,
        "name = models.CharField(max_length=100)",
        "title = models.CharField(max_length=100)",
    )
    edit(tests, 'name="green"', 'title="green"')
    code, out, _ = manage("makemigrations", "shop", stdin="y\n")
    assert code == 0 and "0003_rename_name_product_title.py" in out and "dual-write" in out
    assert manage("check")[0] == 0
    code, out, err = manage("safemigrate", "--check", "--since", "HEAD", "--format", "json")
    assert code == 0, out + err  # vendored lives in another repository: ignored, no error
    linted = json.loads(out)["summary"]["migrations_linted"]
    assert linted == 1
    code, _, err = manage("safemigrate", "--release", "r2")
    assert code == 0, err

    # A table-rewriting change written as Django's plain AlterField (makemigrations would write
    # the shadow-column path, issue 12): check names file:line; --plan and --rehearse still run.
    edit(models, "price = models.IntegerField(", "price = models.BigIntegerField(")
    assert manage("makemigrations", "shop", "--no-zero-downtime")[0] == 0
    code, _, err = manage("check")
    assert code == 1
    flagged = r"shop/migrations/0004_alter_product_price\.py:\d+: \(zdt\.E010\).*ZDT105"
    assert re.search(flagged, err)
    code, out, _ = manage("safemigrate", "--plan")
    assert code == 0 and "shop.0004_alter_product_price" in out and "ZDT401" in out
    code, out, _ = manage("safemigrate", "--rehearse")
    assert code == 1 and "ERROR ZDT451" in out and "rolled back" in out
    code, _, err = manage("safemigrate", "--release", "r3")
    assert code == 1 and "zdt.E010" in err  # applying it is what the check refuses
    assert manage("showmigrations", "shop")[0] == 0
    assert manage("sqlmigrate", "shop", "0004")[0] == 0

    # The project's own tests pass on SQLite with those migrations present.
    sqlite_env = scratch.environment(root, database_url, sqlite=tmp_path / "tests.sqlite3")
    done = scratch.run(root, sqlite_env, "manage.py", "test", "shop", "--noinput")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is sqlite, not PostgreSQL" in done.stderr

    # The plugin's previous-release check passes on the changed app (StreamField, FK, values=).
    (root / "shop" / "test_release.py").write_text(
        scratch.PREVIOUS_RELEASE_TEST.format(previous="0003")
    )
    done = scratch.run(root, env, "-m", "pytest", "-q", "-p", "no:cacheprovider", "shop")
    assert done.returncode == 0, done.stdout + done.stderr


def test_adopt_on_a_project_with_shipped_history(tmp_path: Path, scratch_database_url: str) -> None:
    adopt_and_change(tmp_path, scratch_database_url, long=False)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("ZDT_LONG"), reason="wagtail's full history: ZDT_LONG=1")
def test_adopt_with_wagtails_history(tmp_path: Path, scratch_database_url: str) -> None:
    adopt_and_change(tmp_path, scratch_database_url, long=True)
