"""The runtime guard, in this (pytest) process: detection, refusal, escape hatch."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models.signals import pre_migrate
from django.test import Client, RequestFactory, override_settings

from django_zero_downtime.exceptions import MigrationInWebProcessError, ZeroDowntimeError
from django_zero_downtime.guard import runtime as guard


@pytest.mark.parametrize(
    ("argv", "program"),
    [
        (["/srv/venv/bin/gunicorn", "app.wsgi"], "gunicorn"),
        (["/usr/lib/python3/site-packages/gunicorn/__main__.py", "app.wsgi"], "gunicorn"),
        (["uvicorn", "app.asgi:application"], "uvicorn"),
        (["manage.py", "runserver"], "manage"),
        (["/venv/bin/django-admin", "migrate"], "django-admin"),
        ([], ""),
    ],
)
def test_program_name(argv: list[str], program: str) -> None:
    assert guard.program_name(argv) == program


@pytest.mark.parametrize(
    "argv",
    [
        ["/srv/venv/bin/gunicorn", "-w", "4", "app.wsgi"],
        ["/venv/lib/python3.11/site-packages/gunicorn/__main__.py", "app.wsgi"],
        ["/venv/bin/daphne", "app.asgi:application"],
        ["/venv/bin/hypercorn", "app.asgi:application"],
        ["/venv/bin/uvicorn", "app.asgi:application"],
        ["manage.py", "runserver", "0.0.0.0:8000"],
        ["/venv/lib/python3.11/site-packages/django/__main__.py", "runserver"],
    ],
)
def test_servers_are_recognised_from_the_command_line(argv: list[str]) -> None:
    assert guard.server_from_argv(argv) is not None


@pytest.mark.parametrize(
    "argv",
    [
        ["manage.py", "migrate"],
        ["manage.py", "safemigrate", "--release", "r1"],
        ["/venv/bin/pytest", "tests"],
        ["manage.py", "shell"],
        ["celery", "-A", "app", "worker"],
        ["manage.py"],
    ],
)
def test_other_processes_are_not_servers(argv: list[str]) -> None:
    assert guard.server_from_argv(argv) is None


def test_embedded_uwsgi_is_a_server() -> None:
    assert guard.server_from_argv(["/usr/bin/uwsgi-core"], embedded_uwsgi=True) is not None


def test_this_test_process_is_not_a_web_process() -> None:
    assert guard.web_process_reason() is None
    guard.refuse_if_web_process("migrate")  # no error


@contextmanager
def connections_left_open() -> Iterator[None]:
    """Like Django's test client: a handler must not close the test's database connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _start_response(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
    return lambda data: None


@pytest.fixture
def web_process() -> Iterator[None]:
    """Make this process a web process: a real WSGIHandler serves one request."""
    assert not guard._served, "an earlier test left the process marked as a web process"
    environ = RequestFactory().get("/no-such-page").environ
    with connections_left_open():
        WSGIHandler()(environ, _start_response)
    try:
        yield
    finally:
        guard._served.clear()


def test_a_request_through_a_wsgi_handler_makes_a_web_process(web_process: None) -> None:
    assert guard.web_process_reason() == ("it has served a request through Django's WSGIHandler")


def test_a_request_through_an_asgi_handler_makes_a_web_process() -> None:
    from asgiref.sync import async_to_sync
    from django.core.handlers.asgi import ASGIHandler

    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": "/no-such-page"}
    scope |= {"headers": [], "query_string": b"", "server": ("testserver", 80)}
    sent: list[Mapping[str, Any]] = []
    received: list[bool] = []

    async def receive() -> dict[str, Any]:
        if received:  # the body was read: wait for a disconnect that never comes
            await asyncio.Future()
        received.append(True)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Mapping[str, Any]) -> None:
        sent.append(message)

    try:
        with connections_left_open():
            async_to_sync(ASGIHandler())(scope, receive, send)
        assert guard.web_process_reason() == "it has served a request through Django's ASGIHandler"
    finally:
        guard._served.clear()
    assert sent[0]["status"] == 404


@pytest.mark.django_db
def test_the_test_client_does_not_make_a_web_process() -> None:
    assert Client().get("/health").status_code == 200
    assert guard.web_process_reason() is None


def test_other_senders_of_request_started_are_ignored() -> None:
    from django.test.client import AsyncClientHandler, ClientHandler

    for sender in (ClientHandler, AsyncClientHandler, object, None):
        guard.note_request_started(sender=sender)  # type: ignore[arg-type]
    assert guard.web_process_reason() is None


def test_refusal_names_the_command_the_reason_and_the_escape_hatch(web_process: None) -> None:
    with pytest.raises(MigrationInWebProcessError) as caught:
        guard.refuse_if_web_process("safemigrate")
    message = str(caught.value)
    assert message.startswith("Refusing to run safemigrate: this process serves web requests")
    assert "WSGIHandler" in message
    assert "manage.py safemigrate" in message
    assert "ZDT_ALLOW_MIGRATE_IN_WEB_PROCESS = True" in message
    assert isinstance(caught.value, ZeroDowntimeError)


def _applied() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        return set(cursor.fetchall())


@pytest.mark.django_db
def test_plain_django_migrate_is_refused_before_touching_the_schema(web_process: None) -> None:
    before = _applied()
    with pytest.raises(MigrationInWebProcessError):
        call_command("migrate", "django_zero_downtime", "zero", verbosity=0)
    assert _applied() == before
    assert ("django_zero_downtime", "0001_initial") in before


@pytest.mark.django_db
def test_the_migration_executor_itself_is_refused(web_process: None) -> None:
    executor = MigrationExecutor(connection)
    with pytest.raises(MigrationInWebProcessError, match=r"MigrationExecutor\.migrate"):
        executor.migrate([("django_zero_downtime", None)])
    assert ("django_zero_downtime", "0001_initial") in _applied()


def test_pre_migrate_is_refused(web_process: None) -> None:
    """Covers migrate's --run-syncdb phase, which runs before the executor."""
    with pytest.raises(MigrationInWebProcessError):
        pre_migrate.send(
            sender=None, app_config=None, verbosity=0, interactive=False, using="default"
        )


@pytest.mark.django_db
def test_escape_hatch_lets_migrate_run(web_process: None) -> None:
    with override_settings(ZDT_ALLOW_MIGRATE_IN_WEB_PROCESS=True):
        call_command("migrate", verbosity=0)
        MigrationExecutor(connection).migrate([("django_zero_downtime", "0001_initial")])


def test_install_is_idempotent() -> None:
    guarded = MigrationExecutor.migrate
    guard.install()
    guard.install()
    assert MigrationExecutor.migrate is guarded
    original = guarded.__wrapped__  # type: ignore[attr-defined]
    assert not getattr(original, "_zdt_guarded", False)
