"""The guard's system checks, run in-process against this repository's settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core import checks as django_checks
from django.test import override_settings

from django_zero_downtime import checks
from django_zero_downtime.guard import targets as guard_targets
from example_project.people.models import Person

REPO = Path(__file__).resolve().parents[2]


def ids(messages: list[django_checks.CheckMessage]) -> list[str]:
    return [str(m.id) for m in messages]


def test_the_clean_example_project_passes_every_guard_check() -> None:
    assert django_checks.run_checks(tags=[checks.TAG]) == []


def test_entry_modules_are_found_without_importing_them() -> None:
    assert guard_targets.entry_modules() == [
        REPO / "example_project" / "wsgi.py",
        REPO / "example_project" / "asgi.py",
    ]


def test_ready_modules_are_project_files_only() -> None:
    """pgtrigger defines ready() too, but it lives in site-packages and is skipped."""
    found = guard_targets.ready_modules()
    assert REPO / "django_zero_downtime" / "apps.py" in found
    assert all("site-packages" not in path.parts for path in found)
    assert all(path.is_relative_to(REPO) for path in found)


def test_settings_module_is_inspected() -> None:
    assert guard_targets.settings_modules() == [REPO / "tests" / "settings.py"]


def test_a_settings_file_that_migrates_is_e022(tmp_path: Path) -> None:
    path = tmp_path / "settings.py"
    path.write_text("from django.core import management\nmanagement.call_command('migrate')\n")
    (found,) = guard_targets.python_findings([path], guard_targets.SETTINGS)
    assert (found.rule, found.line, found.file) == ("zdt.E022", 2, str(path))
    (message,) = checks.to_messages([found])
    assert message.id == "zdt.E022"
    assert message.level == django_checks.ERROR
    assert message.msg.startswith(f"{path}:2: the settings module runs migrations")


def test_an_unparsable_start_up_file_is_w022_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "wsgi.py"
    path.write_text("application = (\n")
    (found,) = guard_targets.python_findings([path], guard_targets.ENTRY)
    assert found.rule == "zdt.W022"
    assert "could not inspect" in found.message


def test_paths_inside_base_dir_are_shown_relative() -> None:
    assert guard_targets.display_path(REPO / "example_project" / "wsgi.py") == (
        "example_project/wsgi.py"
    )


@pytest.mark.parametrize(
    "dotted",
    ["migrate_middleware.MigrateMiddleware", "django_migrate_middleware.MigrateMiddleware"],
)
def test_auto_migrate_middleware_is_e023(dotted: str) -> None:
    with override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, dotted]):
        messages = checks.check_auto_migrate_settings()
    assert ids(messages) == ["zdt.E023"]
    assert dotted in messages[0].msg


def test_tenant_model_that_auto_creates_schemas_is_w023(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Person, "auto_create_schema", True, raising=False)
    with override_settings(TENANT_MODEL="people.Person"):
        assert ids(checks.check_auto_migrate_settings()) == ["zdt.W023"]
    monkeypatch.setattr(Person, "auto_create_schema", False)
    with override_settings(TENANT_MODEL="people.Person"):
        assert checks.check_auto_migrate_settings() == []
    with override_settings(TENANT_MODEL="nowhere.Nothing"):
        assert checks.check_auto_migrate_settings() == []


def test_extra_start_files_are_checked_and_missing_ones_warned(tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "web").write_text("python manage.py migrate\nexec gunicorn a.wsgi\n")
    with override_settings(BASE_DIR=tmp_path, ZDT_EXTRA_START_FILES=["deploy/web", "deploy/gone"]):
        messages = checks.check_start_scripts()
    assert ids(messages) == ["zdt.W021", "zdt.E024"]
    assert "'deploy/gone'" in messages[0].msg
    assert messages[1].msg.startswith("deploy/web:1: migrate runs in the same start command")


def test_start_files_are_found_beside_the_project_not_deeper(tmp_path: Path) -> None:
    bad = "python manage.py migrate && gunicorn a.wsgi\n"
    for relative in ["entrypoint.sh", "docker/start.sh", "a/b/deep.sh", ".hidden/x.sh"]:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(bad)
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "y.sh").write_text(bad)
    with override_settings(BASE_DIR=tmp_path):
        messages = checks.check_start_scripts()
    assert [m.msg.split(":")[0] for m in messages] == ["entrypoint.sh", "docker/start.sh"]


def test_web_role_check_needs_an_explicit_database() -> None:
    """Plain `manage.py check` passes databases=None (Django 5.2): the check must not connect."""
    assert checks.check_web_role(databases=None) == []
    assert checks.check_web_role() == []


def test_web_role_check_runs_with_database_not_with_the_zero_downtime_tag() -> None:
    """Django 6 runs a requested tag's checks against every database: keep W020 out of it."""
    tagged = [c for c in django_checks.registry.registry.get_checks() if checks.TAG in c.tags]
    assert checks.check_web_role not in tagged
    assert django_checks.Tags.database in checks.check_web_role.tags


@pytest.mark.django_db
def test_check_with_database_reports_w020_in_production() -> None:
    with override_settings(ZDT_PRODUCTION=True):
        messages = django_checks.run_checks(databases=["default"])
    assert "zdt.W020" in ids(messages)


def test_a_gunicorn_config_hook_that_migrates_is_e024(tmp_path: Path) -> None:
    (tmp_path / "gunicorn.conf.py").write_text(
        "from django.core.management import call_command\n"
        "\n"
        "def on_starting(server):\n"
        "    call_command('migrate', interactive=False)\n"
    )
    (tmp_path / "gunicorn_fine.py").write_text("bind = '0.0.0.0:8000'\n")
    with override_settings(BASE_DIR=tmp_path):
        messages = checks.check_start_scripts()
    assert ids(messages) == ["zdt.E024"]
    assert messages[0].msg.startswith("gunicorn.conf.py:4: the gunicorn config")
