"""One location helper: paths relative to the project root, and the operation's line."""

from __future__ import annotations

import sys
from pathlib import Path

from django.test import override_settings

from django_zero_downtime.findings import locate

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = "tests.lint.fixtures.people_unsafe"
UNSAFE = override_settings(MIGRATION_MODULES={"people": FIXTURE})


@UNSAFE
def test_location_by_name_finds_file_and_operation_line() -> None:
    where = locate.location("people", "0002_unsafe", 1, "RemoveField")
    assert where.file == "tests/lint/fixtures/people_unsafe/0002_unsafe.py"
    assert (where.line, where.operation) == (9, "RemoveField")
    assert locate.location("people", "0002_unsafe").line == 4  # class Migration


@UNSAFE
def test_paths_are_relative_to_base_dir_when_set() -> None:
    with override_settings(BASE_DIR=ROOT / "tests" / "lint"):
        where = locate.location("people", "0002_unsafe", 0)
        assert where.file == "fixtures/people_unsafe/0002_unsafe.py"
        assert where.line == 8
        assert locate.line_of(where.file, 0) == 8  # a shown path resolves against the root
    with override_settings(BASE_DIR=ROOT / "docs"):
        assert locate.location("people", "0002_unsafe").file == str(
            ROOT / "tests/lint/fixtures/people_unsafe/0002_unsafe.py"
        )  # outside the root: absolute


def test_without_base_dir_the_root_is_manage_py_s_directory(monkeypatch, tmp_path) -> None:
    manage = tmp_path / "manage.py"
    manage.write_text("")
    monkeypatch.setattr(sys, "argv", [str(manage), "check"])
    with override_settings(BASE_DIR=None):
        assert locate.project_root() == tmp_path.resolve()
        assert locate.display_path(tmp_path / "app" / "m.py") == "app/m.py"


def test_unknown_app_or_unloaded_migration_has_no_file() -> None:
    from django.db import migrations

    assert locate.location("no_such_app", "0001").file == ""
    assert locate.of_migration(migrations.Migration("0001_x", "shop")).file == ""


def test_shown_paths_resolve_symlinks_like_realpath(tmp_path: Path) -> None:
    """The directory-cached resolution gives what ``os.path.realpath`` gives."""
    real = tmp_path / "real"
    (real / "app").mkdir(parents=True)
    (real / "app" / "0001.py").write_text("")
    (tmp_path / "outside.py").write_text("")
    (tmp_path / "link").symlink_to(real)
    (real / "app" / "0002.py").symlink_to(tmp_path / "outside.py")
    with override_settings(BASE_DIR=real):
        assert locate.display_path(tmp_path / "link" / "app" / "0001.py") == "app/0001.py"
        assert locate.display_path(real / "app" / "0002.py") == str(tmp_path / "outside.py")
        assert locate.display_path(real) == "."


def _parsed_lines(path: Path) -> tuple[int | None, tuple[int, ...]]:
    locate._lines.cache_clear()
    return locate._lines(str(path))  # no count: always parsed


def test_the_writer_layout_is_read_as_text_with_the_lines_a_parse_gives() -> None:
    import django.contrib.auth.migrations as auth_migrations

    files = sorted(Path(auth_migrations.__file__).parent.glob("0*.py"))
    assert files
    read = 0
    for path in files:
        parsed = _parsed_lines(path)
        text = locate._writer_lines(path.read_text())
        if text is not None and len(text[1]) == len(parsed[1]):
            read += 1
            assert text == parsed, path
        locate._lines.cache_clear()
        assert locate._lines(str(path), len(parsed[1])) == parsed, path
    assert read >= len(files) // 2  # most of Django's own files are in the writer's layout


def test_a_layout_the_text_reading_miscounts_falls_back_to_a_parse(tmp_path: Path) -> None:
    path = tmp_path / "0002_x.py"
    path.write_text(
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
        "    operations = [\n        migrations.RunSQL('SELECT 1; '\n        'SELECT 2'),\n"
        "        migrations.RunSQL('SELECT 3'),\n    ]\n"
    )
    locate._lines.cache_clear()
    assert locate._lines(str(path), 2) == (4, (6, 8)) == _parsed_lines(path)
