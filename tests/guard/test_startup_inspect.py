"""Static inspection of Python start-up code: which calls run migrations (pure, no Django)."""

from __future__ import annotations

import pytest

from django_zero_downtime.guard.startup_inspect import (
    UninspectableSource,
    auto_migrate_middleware,
    find_migrate_calls,
)


def lines(source: str) -> list[int]:
    return [call.line for call in find_migrate_calls(source)]


@pytest.mark.parametrize(
    "source",
    [
        'call_command("migrate")',
        'call_command("migrate", "shop", "0002", interactive=False)',
        'management.call_command("safemigrate", release="r1")',
        'call_command(command_name="migrate")',
        'call_command("migrate_schemas", schema_name="t1")',
        'execute_from_command_line(["manage.py", "migrate", "--noinput"])',
        'ManagementUtility(["manage.py", "migrate"]).execute()',
        'subprocess.run(["python", "manage.py", "migrate", "--noinput"], check=True)',
        'subprocess.check_call(("django-admin", "migrate"))',
        'os.system("python manage.py migrate --noinput")',
        'subprocess.Popen("python -m django migrate", shell=True)',
        "MigrationExecutor(connection).migrate(targets)",
        "executor = MigrationExecutor(connection)\nexecutor.migrate(targets)",
        "ex: MigrationExecutor = MigrationExecutor(c)\nex.migrate([])",
        "from django.core.management import call_command as cc\ncc('migrate')",
        "from django.db.migrations.executor import MigrationExecutor as E\nE(c).migrate([])",
    ],
)
def test_calls_that_migrate_are_found(source: str) -> None:
    assert lines(source) == [source.count("\n") + 1]


@pytest.mark.parametrize(
    "source",
    [
        'call_command("check", deploy=True)',
        'call_command("collectstatic", interactive=False)',
        'call_command("showmigrations")',
        "execute_from_command_line(sys.argv)",
        'subprocess.run(["python", "manage.py", "collectstatic"])',
        'subprocess.run(["git", "pull"])',
        'os.system("echo migrate")',
        "MigrationExecutor(connection).loader.build_graph()",
        "db.migrate(targets)",
        "# call_command('migrate') in a comment",
        '"""call_command("migrate") in a docstring"""',
    ],
)
def test_calls_that_do_not_migrate_are_not_found(source: str) -> None:
    assert lines(source) == []


def test_a_command_name_in_a_variable_is_not_seen() -> None:
    """Documented limit: only literal command names are recognised."""
    assert lines('name = "migrate"\ncall_command(name)') == []


def test_calls_inside_functions_count_and_lines_are_in_order() -> None:
    source = (
        "from django.core.management import call_command\n"
        "\n"
        "def _warm_up():\n"
        "    call_command('migrate', verbosity=0)\n"
        "\n"
        "class Config:\n"
        "    def ready(self):\n"
        "        if serving():\n"
        "            _warm_up()\n"
        "            call_command('safemigrate')\n"
    )
    calls = find_migrate_calls(source)
    assert [(c.line, c.code) for c in calls] == [
        (4, "call_command('migrate', verbosity=0)"),
        (10, "call_command('safemigrate')"),
    ]


def test_long_calls_are_shortened_for_the_message() -> None:
    source = 'call_command("migrate", "' + "x" * 80 + '")'
    (call,) = find_migrate_calls(source)
    assert len(call.code) == 60
    assert call.code.endswith("...")


def test_a_syntax_error_names_its_line() -> None:
    with pytest.raises(UninspectableSource) as caught:
        find_migrate_calls("import os\n\ndef broken(:\n    pass\n", "wsgi.py")
    assert caught.value.line == 3
    assert "line 3" in str(caught.value)


def test_known_auto_migrate_middleware_is_recognised() -> None:
    middleware = [
        "django.middleware.common.CommonMiddleware",
        "migrate_middleware.MigrateMiddleware",
        "django_migrate_middleware.MigrateMiddleware",
    ]
    found = auto_migrate_middleware(middleware)
    assert [path for path, _ in found] == middleware[1:]
    assert auto_migrate_middleware(middleware[:1]) == []
