"""Runtime guard: migrations never run inside a process that serves web requests.

:func:`refuse_if_web_process` raises :class:`MigrationInWebProcessError` before any schema
work when this process is a web process. ``safemigrate`` and ``migrate`` call it first; the
guard is also installed on the two places every migration passes through, so a plain
``call_command("migrate")`` from a view, another app's ``migrate`` command or a direct
``MigrationExecutor(...).migrate()`` are refused too:

- ``MigrationExecutor.migrate`` is wrapped once (idempotent) by :func:`install`;
- a ``pre_migrate`` receiver covers the ``--run-syncdb`` phase, which runs before it.

A process is a web process when (see :func:`web_process_reason`):

- it has served a request through Django's ``WSGIHandler`` or ``ASGIHandler`` (noticed by a
  ``request_started`` receiver; the test client's handlers are not web servers), or
- its program is a known server (gunicorn, uvicorn, daphne, hypercorn, granian,
  waitress-serve, or uWSGI's embedded interpreter), or it is ``manage.py runserver``.

Escape hatch for tests and local development: ``ZDT_ALLOW_MIGRATE_IN_WEB_PROCESS = True``.

The same test starts the release heartbeat (:mod:`.heartbeat`): at start-up in a server
program, and on the first request a process serves (a forked worker included).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import PurePath
from typing import Any

from django_zero_downtime import conf
from django_zero_downtime.exceptions import MigrationInWebProcessError
from django_zero_downtime.guard import heartbeat

WEB_SERVERS = frozenset(
    {"gunicorn", "uvicorn", "daphne", "hypercorn", "granian", "waitress-serve", "uwsgi"}
)
RUNSERVER_COMMANDS = frozenset({"runserver", "runserver_plus"})
"""Here, not in :mod:`.start_scripts` (which uses them too): ``ready()`` installs this module
in every process, and the script inspector's imports are not needed for that."""
MANAGEMENT_PROGRAMS = frozenset({"manage", "django-admin", "django"})

_served: dict[str, str] = {}
"""``{"handler": class name}`` once a WSGI/ASGI handler has served a request in this process."""

_GUARD_MARK = "_zdt_guarded"


def program_name(argv: Sequence[str]) -> str:
    """The program a process runs: ``gunicorn`` for ``/venv/bin/gunicorn`` or ``-m gunicorn``."""
    if not argv or not argv[0]:
        return ""
    path = PurePath(argv[0])
    if path.name == "__main__.py":
        return path.parent.name
    return path.name.removesuffix(".py").removesuffix("-script")


def server_from_argv(argv: Sequence[str], embedded_uwsgi: bool = False) -> str | None:
    """Why the command line says this is a web server, or ``None`` (pure)."""
    program = program_name(argv)
    if program in WEB_SERVERS:
        return f"the program is {program}"
    if embedded_uwsgi:
        return "the process runs inside uWSGI"
    if program in MANAGEMENT_PROGRAMS and len(argv) > 1 and argv[1] in RUNSERVER_COMMANDS:
        return f"the process is `{program} {argv[1]}`"
    return None


def web_process_reason() -> str | None:
    """Why this process is a web process, or ``None`` when it is not."""
    if _served:
        return f"it has served a request through Django's {_served['handler']}"
    embedded_uwsgi = hasattr(sys.modules.get("uwsgi"), "opt")
    return server_from_argv(sys.argv, embedded_uwsgi)


def refusal_message(command: str, reason: str) -> str:
    return (
        f"Refusing to run {command}: this process serves web requests ({reason}). "
        "Migrations run as their own deploy step, before the new release starts: "
        "`python manage.py safemigrate`. For tests or local development only, set "
        "ZDT_ALLOW_MIGRATE_IN_WEB_PROCESS = True in the settings to allow it."
    )


def refuse_if_web_process(command: str = "migrate") -> None:
    """Raise ``MigrationInWebProcessError`` when this process serves web requests."""
    reason = web_process_reason()
    if reason is None or conf.get_settings().ALLOW_MIGRATE_IN_WEB_PROCESS:
        return
    raise MigrationInWebProcessError(refusal_message(command, reason))


def note_request_started(sender: type, **kwargs: Any) -> None:
    """``request_started`` receiver: remember that a real WSGI/ASGI handler served here."""
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.wsgi import WSGIHandler

    if isinstance(sender, type) and issubclass(sender, WSGIHandler | ASGIHandler):
        _served.setdefault("handler", sender.__name__)
        heartbeat.ensure_running()  # one integer compared once it runs (guard/heartbeat.py)


def refuse_on_pre_migrate(sender: Any, **kwargs: Any) -> None:
    """``pre_migrate`` receiver: the ``migrate`` command's syncdb phase runs before the executor."""
    refuse_if_web_process("migrate")


def guarded(migrate: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``MigrationExecutor.migrate`` so it asks the guard first."""

    @functools.wraps(migrate)
    def migrate_if_allowed(self: Any, *args: Any, **kwargs: Any) -> Any:
        refuse_if_web_process("migrations (MigrationExecutor.migrate)")
        from django_zero_downtime import ledger  # imports models: not at module import

        with ledger.naming_migrations(self):  # operations name the migration in the ledger
            return migrate(self, *args, **kwargs)

    setattr(migrate_if_allowed, _GUARD_MARK, True)
    return migrate_if_allowed


def install() -> None:
    """Connect the receivers and guard the migration executor (idempotent; from ``ready()``)."""
    from django.core.signals import request_started
    from django.db.migrations.executor import MigrationExecutor
    from django.db.models.signals import pre_migrate

    request_started.connect(note_request_started, dispatch_uid="zdt_guard_request_started")
    pre_migrate.connect(refuse_on_pre_migrate, dispatch_uid="zdt_guard_pre_migrate")
    if not getattr(MigrationExecutor.migrate, _GUARD_MARK, False):
        MigrationExecutor.migrate = guarded(MigrationExecutor.migrate)  # type: ignore[method-assign]
    if web_process_reason():  # a server program: report the release from start-up on
        heartbeat.ensure_running()
