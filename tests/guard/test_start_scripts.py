"""Start scripts: does the web server's start command also migrate? (pure)"""

from __future__ import annotations

from pathlib import PurePath

import pytest

from django_zero_downtime.guard.start_scripts import (
    inspect_dockerfile,
    inspect_procfile,
    inspect_shell_script,
    inspect_start_file,
    kind_of,
)


@pytest.mark.parametrize(
    "script",
    [
        "python manage.py migrate --noinput && gunicorn app.wsgi",
        "python3.12 manage.py migrate; exec uvicorn app.asgi:application",
        "./manage.py migrate --noinput\nexec daphne app.asgi:application",
        "poetry run python manage.py migrate\npoetry run hypercorn app.asgi:application",
        "uv run python -m django migrate\nexec python -m gunicorn app.wsgi",
        "DJANGO_SETTINGS_MODULE=app.prod django-admin migrate\nuwsgi --ini uwsgi.ini",
        "python manage.py safemigrate || exit 1\npython manage.py runserver 0.0.0.0:8000",
        'python manage.py migrate --noinput\nexec "$@"',
        "sh -c 'python manage.py migrate && gunicorn app.wsgi'",
    ],
)
def test_migrate_with_a_server_in_one_script_is_flagged(script: str) -> None:
    assert inspect_shell_script("#!/bin/sh\n" + script) == [2]


@pytest.mark.parametrize(
    "script",
    [
        "python manage.py migrate --noinput",
        "python manage.py safemigrate --release $RELEASE\necho done",
        "exec gunicorn app.wsgi",
        "pip install gunicorn uvicorn\npython manage.py migrate",
        "# python manage.py migrate && gunicorn app.wsgi",
        "python manage.py collectstatic --noinput && exec gunicorn app.wsgi",
        "python manage.py makemigrations --check && gunicorn app.wsgi",
        'echo "run manage.py migrate first" && gunicorn app.wsgi',
    ],
)
def test_scripts_that_do_not_migrate_with_a_server_pass(script: str) -> None:
    assert inspect_shell_script("#!/bin/sh\n" + script) == []


def test_continuation_lines_report_the_first_line() -> None:
    script = "set -e\npython manage.py \\\n  migrate --noinput && \\\n  gunicorn app.wsgi\n"
    assert inspect_shell_script(script) == [2]


def test_inline_comments_are_ignored() -> None:
    assert inspect_shell_script("gunicorn app.wsgi  # then python manage.py migrate") == []


def test_procfile_web_line_is_flagged_release_line_is_fine() -> None:
    procfile = (
        "release: python manage.py migrate --noinput\n"
        "web: python manage.py migrate && gunicorn app.wsgi\n"
        "worker: python manage.py migrate && celery -A app worker\n"
    )
    assert inspect_procfile(procfile) == [2]
    assert inspect_procfile("release: python manage.py migrate\nweb: gunicorn app.wsgi\n") == []


@pytest.mark.parametrize(
    ("dockerfile", "expected"),
    [
        ("CMD python manage.py migrate && gunicorn app.wsgi -b 0.0.0.0:8000", [1]),
        ('CMD ["sh", "-c", "python manage.py migrate && gunicorn app.wsgi"]', [1]),
        ('cmd ["bash", "-c", "python manage.py migrate; exec uvicorn app.asgi:app"]', [1]),
        (
            'ENTRYPOINT ["sh", "-c", "python manage.py migrate && exec \\"$@\\"", "--"]\n'
            'CMD ["gunicorn", "app.wsgi"]',
            [1],
        ),
        ("CMD python manage.py migrate \\\n    && gunicorn app.wsgi", [1]),
        ('RUN python manage.py migrate\nCMD ["gunicorn", "app.wsgi"]', []),
        ('CMD ["gunicorn", "app.wsgi"]', []),
        ('ENTRYPOINT ["./docker-entrypoint.sh"]\nCMD ["gunicorn", "app.wsgi"]', []),
        ('CMD ["python", "manage.py", "migrate"]', []),
        ("CMD [not json", []),
    ],
)
def test_dockerfile_start_commands(dockerfile: str, expected: list[int]) -> None:
    assert inspect_dockerfile("FROM python:3.12\n" + dockerfile) == [n + 1 for n in expected]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Procfile", "procfile"),
        ("Procfile.dev", "procfile"),
        ("Dockerfile", "dockerfile"),
        ("Dockerfile.prod", "dockerfile"),
        ("web.dockerfile", "dockerfile"),
        ("docker-entrypoint.sh", "shell"),
        ("run-web", "shell"),
    ],
)
def test_kind_is_judged_by_name(name: str, kind: str) -> None:
    assert kind_of(PurePath("deploy") / name) == kind


def test_any_start_file_is_dispatched_by_kind() -> None:
    text = "web: python manage.py migrate && gunicorn app.wsgi\n"
    assert inspect_start_file(PurePath("Procfile"), text) == [1]
    assert inspect_start_file(PurePath("Dockerfile"), text) == []
